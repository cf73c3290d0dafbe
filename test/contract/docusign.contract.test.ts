// DocuSign connector vs DocuSign's official eSignature REST API v2.1 Swagger 2.0 document
// (docusign/esignature.rest.swagger-v2.1.json): converted to OpenAPI 3 with swagger2openapi, its
// dangling `#/definitions/offlineAttributes` stubbed (any value) on the in-memory copy, both by the
// command's own fix-ups. The first validation of POST …/envelopes compiles a huge schema (~23 s):
// it is compiled once in this file (servers of one process share their validators) and warmed up
// before the tests. The spec closes no object (no additionalProperties: false) and requires no
// field, so the negative tests send wrongly typed fields. DocuSign Connect webhooks are checked with
// the runtime's verifier and the manifest's event mappings against schemas/events/.
import { createHmac } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import { StaticTokenSource } from '../../runtime/auth/token-source.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { verify } from '../../runtime/webhooks/inbound-signatures.ts';
import { validateEventData } from '../../runtime/webhooks/catalog.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, describeResult, expectConnectorContract } from './helpers.ts';

const TOKEN = 'eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2Iiwia2lkIjoiNjgxODVmZjEtNGU1MS00Y2U5LWFmMWMtNjg5ODEyMjAzMzE3In0.contract-test';
const ACCOUNT = '8a4f2c1e-0b7d-4e3a-9c5f-6d1b2a3c4e5f';
const POST_ENVELOPES = 'Envelopes_PostEnvelopes';
const input = {
  subject: 'Please sign: services agreement',
  message: 'Both of us need to sign.',
  documents: [{ name: 'agreement.pdf', content: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64') }, { name: 'annex', file_extension: 'docx', content: 'UEsDBBQABgAIAAAAIQA=' }],
  signers: [{ name: 'Ana López', email: 'ana@example.com', anchor: '/sn1/' }, { name: 'Bo Chen', email: 'bo@example.com', routing_order: 2 }],
};

let override: MockResponse | undefined;

describe('docusign connector vs the official eSignature v2.1 spec', { timeout: 300_000 }, () => {
  let server: SpecServer;
  let docusign: Connector;
  const engine = new Engine({ env: {} });
  const run = (c: Connector, cap: string, inp: Record<string, unknown>) =>
    engine.run(c, cap, { credentials: {}, input: inp, tokenSource: new StaticTokenSource(TOKEN), connection: { account_id: ACCOUNT, base_uri: server.origin } });

  beforeAll(async () => {
    server = await startSpecServer('docusign', { respond: () => override });
    docusign = loadConnector('docusign');
    // The one slow compile of this file, outside the engine's 30 s provider timeout.
    server.api.validator.validateRequest({ method: 'post', path: `/v2.1/accounts/${ACCOUNT}/envelopes`, headers: { 'content-type': 'application/json' }, body: {} }, POST_ENVELOPES);
  }, 300_000);
  afterAll(() => server?.close());

  it('converts the Swagger 2.0 document and stubs its dangling schema reference', () => {
    expect(server.basePath).toBe('/restapi');
    expect(server.fixups.join('\n')).toMatch(/Swagger 2\.0 converted to OpenAPI 3/);
    expect(server.fixups.join('\n')).toMatch(/1 \$ref\(s\) to a missing schema stubbed as any value: "#\/components\/schemas\/offlineAttributes"/);
  });

  it("maps the default account of the user info into the connection (base URI and account id)", async () => {
    // https://developers.docusign.com/platform/auth/reference/user-info/ (response example)
    const userinfo = {
      sub: '4799e5e9-1559-4915-9862-cf4713bbcacc', name: 'Susan Smart', email: 'susan.smart@example.com',
      accounts: [
        { account_id: '11111111-2222-3333-4444-555555555555', is_default: false, account_name: 'Other', base_uri: 'https://eu.docusign.net' },
        { account_id: ACCOUNT, is_default: true, account_name: 'Example Inc', base_uri: 'https://demo.docusign.net' },
      ],
    };
    const tokenResponse = { access_token: TOKEN, token_type: 'Bearer', refresh_token: 'eyJ0eXAi.refresh', expires_in: 28800 };
    expect(await docusign.auth.connection!.evaluate({ ...tokenResponse, userinfo })).toEqual({ account_id: ACCOUNT, account_name: 'Example Inc', base_uri: 'https://demo.docusign.net' });
    // A refresh (no user info) maps nothing, so the stored connection stays as it is.
    expect(await docusign.auth.connection!.evaluate(tokenResponse)).toBeUndefined();
    expect(docusign.baseUrlTemplate?.render({ connection: { base_uri: 'https://demo.docusign.net' } })).toBe('https://demo.docusign.net');
    expect(docusign.manifest.auth.userinfo_url).toBe('/oauth/userinfo');
  });

  it('send_for_signature is a valid Envelopes_PostEnvelopes (status sent, inline documents, signers in order) with Bearer auth', async () => {
    server.reset();
    override = { status: 201, body: { envelopeId: '93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a', uri: '/envelopes/93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a', statusDateTime: '2024-05-10T09:11:02.5430000Z', status: 'sent' } };
    try {
      const result = await run(docusign, 'send_for_signature', input);
      const req = expectContract(result, server, POST_ENVELOPES);
      expect(req).toMatchObject({ method: 'POST', path: `/restapi/v2.1/accounts/${ACCOUNT}/envelopes`, rawQuery: '' });
      expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(req.body).toEqual({
        emailSubject: input.subject,
        emailBlurb: input.message,
        documents: [
          { documentId: '1', name: 'agreement.pdf', fileExtension: 'pdf', documentBase64: input.documents[0]!.content },
          { documentId: '2', name: 'annex', fileExtension: 'docx', documentBase64: 'UEsDBBQABgAIAAAAIQA=' },
        ],
        recipients: {
          signers: [
            { recipientId: '1', name: 'Ana López', email: 'ana@example.com', routingOrder: '1', tabs: { signHereTabs: [{ anchorString: '/sn1/', anchorUnits: 'pixels', anchorXOffset: '0', anchorYOffset: '0' }] } },
            { recipientId: '2', name: 'Bo Chen', email: 'bo@example.com', routingOrder: '2' },
          ],
        },
        status: 'sent',
      });
      expect(result.ok && result.output).toEqual({ envelope_id: '93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a', status: 'sent', status_at: '2024-05-10T09:11:02.543Z' });
    } finally {
      override = undefined;
    }
  });

  it('verify is a valid Accounts_GetAccount of the connected account', async () => {
    server.reset();
    const result = await engine.verify(docusign, { credentials: {}, tokenSource: new StaticTokenSource(TOKEN), connection: { account_id: ACCOUNT, base_uri: server.origin } });
    const req = expectContract(result, server, 'Accounts_GetAccount');
    expect(req).toMatchObject({ method: 'GET', path: `/restapi/v2.1/accounts/${ACCOUNT}`, rawBody: '' });
  });

  it("maps DocuSign's error answer to a provider_error with its message and code", async () => {
    server.reset();
    override = { status: 400, body: { errorCode: 'ENVELOPE_HAS_NO_RECIPIENTS', message: 'The envelope has no recipients.' } };
    try {
      const result = await run(docusign, 'send_for_signature', input);
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 400, provider_message: 'The envelope has no recipients.', provider_code: 'ENVELOPE_HAS_NO_RECIPIENTS' });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: documents sent as one object instead of an array is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('docusign', (t) => replaceOnce(t, '"documents": [input.documents#$i.{', '"documents": (input.documents#$i.{').replace('"documentBase64": content\n          }],', '"documentBase64": content\n          })[0],'));
    const result = await run(broken, 'send_for_signature', input);
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.body.documents type');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a routing order sent as a number (the spec types it a string) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('docusign', (t) => replaceOnce(t, '"routingOrder": $string($exists(routing_order) ? routing_order : 1),', '"routingOrder": $exists(routing_order) ? routing_order : 1,'));
    const result = await run(broken, 'send_for_signature', input);
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.body.recipients.signers.0.routingOrder type');
    expect(result.ok, info).toBe(false);
  });

  describe('DocuSign Connect webhooks (HMAC, JSON SIM event model)', () => {
    const key = 'fP7ZQ0yZ2T1wq0x3Sx7yq0rD4cF1aW8bN5mK2jH6gE0=';
    const connect = (event: string, summary: Record<string, unknown>) => ({
      event, apiVersion: 'v2.1', uri: `/restapi/v2.1/accounts/${ACCOUNT}/envelopes/93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a`, retryCount: 0, configurationId: 10418143,
      generatedDateTime: '2024-05-10T12:00:05.1234567Z',
      data: { accountId: ACCOUNT, userId: '4799e5e9-1559-4915-9862-cf4713bbcacc', envelopeId: '93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a', envelopeSummary: { emailSubject: input.subject, ...summary } },
    });
    const check = (raw: Buffer, signature: string | undefined) => {
      const sig = docusign.webhooks!.spec.signature;
      const secret = docusign.webhooks!.secret!.render({ credentials: { connect_hmac_key: key } });
      return verify(sig.scheme, { rawBody: raw, headers: signature ? { 'x-docusign-signature-1': signature } : {}, secret, options: { header: sig.header, prefix: sig.prefix, encoding: sig.encoding as 'base64', digest: sig.digest } });
    };
    const mapped = async (body: Record<string, unknown>) => {
      const w = docusign.webhooks!;
      const type = String(await w.eventType!.evaluate(body));
      const mapping = w.events.get(type);
      return { id: await w.eventId!.evaluate(body), type: mapping?.type, data: mapping?.data ? JSON.parse(JSON.stringify(await mapping.data.evaluate(body))) : undefined };
    };

    it('accepts X-DocuSign-Signature-1 = base64 HMAC-SHA256 of the raw body under the Connect key, refuses others', () => {
      const raw = Buffer.from(JSON.stringify(connect('envelope-completed', { status: 'completed' })));
      expect(check(raw, createHmac('sha256', key).update(raw).digest('base64'))).toEqual({ ok: true });
      expect(check(raw, createHmac('sha256', 'another key').update(raw).digest('base64'))).toMatchObject({ ok: false, code: 'signature_mismatch' });
      expect(check(raw, createHmac('sha256', key).update(raw).digest('hex'))).toMatchObject({ ok: false, code: 'signature_mismatch' });
      expect(check(raw, undefined)).toMatchObject({ ok: false, code: 'missing_signature' });
    });

    it('maps envelope-completed, -declined and -voided to valid signature.* events, deduplicated per envelope and event', async () => {
      const completed = await mapped(connect('envelope-completed', { status: 'completed', completedDateTime: '2024-05-10T12:00:03.47Z' }));
      expect(completed).toEqual({
        id: '93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a:envelope-completed', type: 'signature.completed',
        data: { envelope_id: '93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a', subject: input.subject, provider_event_id: '93be49ab-4c61-4b1e-a5f4-8d2c1e0b7f3a:envelope-completed', status: 'completed', completed_at: '2024-05-10T12:00:03.470Z' },
      });
      const declined = await mapped(connect('envelope-declined', { status: 'declined', declinedDateTime: '2024-05-10T11:00:00Z', recipients: { signers: [{ status: 'completed' }, { status: 'declined', declinedReason: 'The fee is wrong.' }] } }));
      expect(declined.data).toMatchObject({ status: 'declined', reason: 'The fee is wrong.', declined_at: '2024-05-10T11:00:00.000Z' });
      const voided = await mapped(connect('envelope-voided', { status: 'voided', voidedReason: 'Sent to the wrong person.' }));
      expect(voided.data).toMatchObject({ status: 'voided', reason: 'Sent to the wrong person.', voided_at: '2024-05-10T12:00:05.123Z' });
      for (const e of [completed, declined, voided]) expect(validateEventData(e.type!, { ...e.data, provider: 'docusign', integration_id: '01j9z3k8q2m4n6p8r0s2t4v6w8' })).toEqual({ ok: true });
      // Other envelope events have no mapping (stored, then ignored).
      expect((await mapped(connect('envelope-sent', { status: 'sent' }))).type).toBeUndefined();
    });
  });

  it("plugboard contract docusign: every capability example and verify pass against the spec (the command's own run)", async () => {
    await expectConnectorContract('docusign');
  });
});
