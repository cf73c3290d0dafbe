// Outlook Mail connector vs Microsoft's Graph v1.0 documents (Users.Actions.yml for sendMail, Mail.yml)
// plus recorded/graph-user-get.yaml for verify (GET /me). The contract server serves the generated
// /users/{user-id}/microsoft.graph.sendMail also as the documented /me/sendMail, accepts the documented
// camelCase action parameters beside the generated PascalCase ones, and removes the open-type
// additionalProperties that would refuse every string property (generated-spec-fixups.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { access_token: 'eyJ0eXAiOiJKV1QiLCJub25jZSI6ImNvbnRyYWN0LXRlc3QifQ.contract-test' };

let override: MockResponse | undefined;

describe('outlook_mail connector vs the Microsoft Graph mail spec', { timeout: 60_000 }, () => {
  let server: SpecServer;
  let outlook: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('outlook_mail', { respond: () => override });
    outlook = loadConnector('outlook_mail');
    baseUrl = baseUrlOf(outlook, server);
  }, 60_000);
  afterAll(() => server?.close());

  it('send_email (all fields) is a valid sendMail (202, no body) with Bearer auth', async () => {
    server.reset();
    override = { status: 202 };
    const input = {
      to: ['ana@example.com', 'bo@example.com'], cc: ['cc@example.com'], bcc: ['audit@example.com'], from: 'invoices@example.com', from_name: 'Invoices',
      reply_to: 'support@example.com', subject: 'Your invoice', text: 'Invoice attached.', html: '<p>Invoice attached.</p>',
    };
    try {
      const result = await engine.run(outlook, 'send_email', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'me_sendMail');
      expect(req).toMatchObject({ method: 'POST', path: '/v1.0/me/sendMail', rawQuery: '' });
      expect(req.contentType).toMatch(/^application\/json/);
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.body).toEqual({
        message: {
          subject: 'Your invoice',
          body: { contentType: 'html', content: '<p>Invoice attached.</p>' },
          toRecipients: [{ emailAddress: { address: 'ana@example.com' } }, { emailAddress: { address: 'bo@example.com' } }],
          ccRecipients: [{ emailAddress: { address: 'cc@example.com' } }],
          bccRecipients: [{ emailAddress: { address: 'audit@example.com' } }],
          replyTo: [{ emailAddress: { address: 'support@example.com' } }],
          from: { emailAddress: { address: 'invoices@example.com', name: 'Invoices' } },
        },
        saveToSentItems: true,
      });
      expect(result.ok && result.output).toEqual({ message_id: null, status: 'accepted' });
    } finally {
      override = undefined;
    }
  });

  it('send_email (text only, one recipient) is valid and keeps the recipient list an array', async () => {
    server.reset();
    const result = await engine.run(outlook, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
    const req = expectContract(result, server, 'me_sendMail');
    expect(req.body).toEqual({
      message: { subject: 'Hi', body: { contentType: 'text', content: 'Hello' }, toRecipients: [{ emailAddress: { address: 'ana@example.com' } }] },
      saveToSentItems: true,
    });
  });

  it('verify is a valid GET /me (recorded from the user: get reference) with Bearer auth', async () => {
    server.reset();
    const result = await engine.verify(outlook, { credentials, baseUrl });
    const req = expectContract(result, server, 'me.user_GetUser');
    expect(req).toMatchObject({ method: 'GET', path: '/v1.0/me', query: { $select: 'id,displayName,mail,userPrincipalName' }, rawBody: '' });
    expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
  });

  it("maps Graph's error answer to a provider_error with its message", async () => {
    server.reset();
    const body = { error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' } };
    override = { status: 403, body };
    try {
      const result = await engine.run(outlook, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(server.responseIssues, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 403, provider_message: body.error.message });
    } finally {
      override = undefined;
    }
  });

  it("NEGATIVE: the docs' capitalised contentType ('HTML') is outside the spec's enum", async () => {
    server.reset();
    const broken = loadEditedManifest('outlook_mail', (t) => replaceOnce(t, '{ "contentType": "html", "content": input.html }', '{ "contentType": "HTML", "content": input.html }'));
    const result = await engine.run(broken, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', html: '<p>Hello</p>' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.message.body.contentType')?.rule, info).toBe('enum');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a misspelt action parameter (saveToSentItem) is refused', async () => {
    server.reset();
    const broken = loadEditedManifest('outlook_mail', (t) => replaceOnce(t, '"saveToSentItems": true', '"saveToSentItem": true'));
    const result = await engine.run(broken, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.saveToSentItem')?.message, info).toMatch(/unknown field "saveToSentItem"/);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract outlook_mail: every capability example and verify pass against the spec (the command's own run)", async () => {
    await expectConnectorContract('outlook_mail');
  });
});
