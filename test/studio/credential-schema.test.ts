// The studio's conversion of a provider's credential_schema (as GET /providers returns it) into the
// generated form's JSON Schema and uiSchema, checked on the shipped Twilio manifest; and the mapping
// of the API's 422 field errors onto form fields.
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { createAjv } from '../../runtime/manifest/ajv.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { credentialForm, credentialsToSend, fieldErrorsFrom, type CredentialField } from '../../studio/src/credential-schema.ts';

const twilio = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'twilio.yaml'), 'utf8')).credential_schema as Record<string, CredentialField>;
const SID = 'AC' + 'a'.repeat(32);

describe('credential_schema as a generated form', () => {
  it('keeps titles, patterns, formats and required fields, and makes sensitive fields password inputs', () => {
    const f = credentialForm(twilio, 'create');
    expect(f.schema).toMatchObject({
      type: 'object',
      required: ['account_sid', 'auth_token', 'from_number'],
      properties: {
        account_sid: { type: 'string', title: 'Account SID', pattern: '^AC[0-9a-f]{32}$' },
        from_number: { type: 'string', format: 'e164' },
        auth_token: { type: 'string', title: 'Auth token' },
      },
    });
    expect(f.uiSchema['auth_token']!['ui:widget']).toBe('password');
    expect(f.uiSchema['account_sid']!['ui:widget']).toBeUndefined();
    expect(f.formData).toEqual({});
  });

  it('validates like the API: a bad Account SID fails on its pattern, a good set passes', () => {
    const validate = createAjv().compile(credentialForm(twilio, 'create').schema);
    expect(validate({ account_sid: 'AC-bad', auth_token: 'f'.repeat(32), from_number: '+15005550006' })).toBe(false);
    expect(validate.errors!.map((e) => [e.instancePath, e.keyword])).toEqual([['/account_sid', 'pattern']]);
    expect(validate({ account_sid: SID, auth_token: 'f'.repeat(32), from_number: '+15005550006' })).toBe(true);
  });

  it('when rotating, pre-fills non-sensitive values only and no longer requires the stored secret', () => {
    const f = credentialForm(twilio, 'rotate', { account_sid: SID, auth_token: null, from_number: '+15005550006' });
    expect(f.formData).toEqual({ account_sid: SID, from_number: '+15005550006' });
    expect(f.schema['required']).toEqual(['account_sid', 'from_number']);
    expect(f.uiSchema['auth_token']).toMatchObject({ 'ui:widget': 'password', 'ui:placeholder': 'stored' });
    // A blank secret is not sent, so the API keeps the stored one.
    expect(credentialsToSend({ account_sid: SID, auth_token: '', from_number: '+15005550006', whatsapp_from: undefined })).toEqual({ account_sid: SID, from_number: '+15005550006' });
  });

  it("maps the API's 422 errors onto the fields they name, and keeps the others", () => {
    const r = fieldErrorsFrom({ 'credentials.account_sid': ['must match pattern "^AC[0-9a-f]{32}$"'], environment: ['is not one of live'] }, Object.keys(twilio));
    expect(r.byField).toEqual({ account_sid: ['must match pattern "^AC[0-9a-f]{32}$"'] });
    expect(r.other).toEqual(['environment: is not one of live']);
  });
});

describe("the API's 422 errors on any form", () => {
  it('names the field by the key before its first dot (and any body. prefix); other keys are left over', async () => {
    const { fieldErrorsFrom: shared, problemText } = await import('../../studio/src/api/field-errors.ts');
    const r = shared({ 'events.1': ['is not a known event type'], 'body.url': ['must be https'], secret: ['is not accepted'] }, ['url', 'events', 'description']);
    expect(r.byField).toEqual({ events: ['is not a known event type'], url: ['must be https'] });
    expect(r.other).toEqual(['secret: is not accepted']);
    expect(problemText('The given data was invalid.', r.other)).toBe('The given data was invalid. secret: is not accepted');
  });
});

describe('stored secrets and refusals worded as the API words them', () => {
  const slack = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'slack.yaml'), 'utf8')).credential_schema as Record<string, CredentialField>;

  it('when rotating, shows "stored" only for the secrets in credentials_set, and requires an unset required one', () => {
    const f = credentialForm(slack, 'rotate', { bot_token: null, default_channel: null, signing_secret: null }, ['bot_token']);
    expect(f.uiSchema['bot_token']).toMatchObject({ 'ui:placeholder': 'stored' });
    expect(f.uiSchema['signing_secret']!['ui:placeholder']).toBeUndefined();
    expect(f.uiSchema['signing_secret']!['ui:help']).toMatch(/^Not set\./);
    expect(f.schema['required']).toEqual([]);
    const none = credentialForm(slack, 'rotate', {}, []);
    expect(none.schema['required']).toEqual(['bot_token']);
    expect(none.uiSchema['bot_token']!['ui:placeholder']).toBeUndefined();
  });

  it("gives the browser's validator (rjsf + Ajv) the API's messages for the same values", async () => {
    const { customizeValidator } = await import('@rjsf/validator-ajv8');
    const { apiWorded } = await import('../../studio/src/credential-schema.ts');
    const { credentialErrors } = await import('../../runtime/manifest/ajv.ts');
    const { loadManifestText } = await import('../../runtime/manifest/load.ts');
    const validator = customizeValidator({ customFormats: { e164: /^\+[1-9][0-9]{1,14}$/ } });
    const values = { account_sid: 'AC-bad', from_number: '555-0100' };
    const browser = validator.validateFormData(values, credentialForm(twilio, 'create').schema as never, undefined, (errors) => apiWorded(errors, twilio));
    // The API's own validator of these credentials (what POST /integrations checks with).
    const api = loadManifestText(fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'twilio.yaml'), 'utf8'), 'twilio.yaml').connector!.validateCredentials;
    api(values);
    const apiErrors = credentialErrors(api.errors, twilio);
    const byField: Record<string, string[]> = {};
    for (const e of browser.errors) (byField[`credentials.${(e.params as { missingProperty?: string }).missingProperty ?? e.property!.replace(/^\./, '')}`] ??= []).push(e.message!);
    expect(byField).toEqual(apiErrors);
    expect(apiErrors).toEqual({
      'credentials.account_sid': ['is not a valid Account SID: check it for a typing or copying mistake'],
      'credentials.auth_token': ['is required'],
      'credentials.from_number': ['must be a phone number in E.164 form: + and the country code, digits only (e.g. +15551234567)'],
    });
  });
});
