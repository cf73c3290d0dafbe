// Mailgun connector vs Mailgun's official OpenAPI document (mailgun/openapi.yaml, OAS 3.1.0). The
// send is multipart/form-data with `to` typed as an array: the contract server reads repeated `to`
// fields (and a single one) as that array (OAS form style, explode), which Prism cannot (README).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { api_key: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0', domain: 'mg.example.com', from_email: 'billing@mg.example.com', from_name: 'Example "Billing"' };
const basic = `Basic ${Buffer.from(`api:${credentials.api_key}`).toString('base64')}`;

let override: MockResponse | undefined;

describe('mailgun connector vs the official Mailgun spec', () => {
  let server: SpecServer;
  let mailgun: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('mailgun', { respond: () => override });
    mailgun = loadConnector('mailgun');
    baseUrl = baseUrlOf(mailgun, server);
  });
  afterAll(() => server?.close());

  it('declares the US and EU regions', () => {
    expect(mailgun.environments).toEqual({ us: 'https://api.mailgun.net', eu: 'https://api.eu.mailgun.net' });
  });

  it('send_email (all fields) is a valid multipart send with repeated to/cc/bcc fields and Basic api:key', async () => {
    server.reset();
    const input = {
      to: ['ana@example.com', 'bo@example.com'], cc: ['cc@example.com'], bcc: ['audit@example.com', 'audit2@example.com'], from: 'invoices@mg.example.com', from_name: 'Invoices',
      reply_to: 'support@example.com', subject: 'Your invoice – März', text: 'Invoice attached.', html: '<p>Invoice attached.</p>',
    };
    const result = await engine.run(mailgun, 'send_email', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'POST-v3--domain-name--messages');
    expect(req).toMatchObject({ method: 'POST', path: '/v3/mg.example.com/messages' });
    expect(req.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.headers.authorization).toBe(basic);
    expect(req.body).toEqual({
      from: '"Invoices" <invoices@mg.example.com>', to: ['ana@example.com', 'bo@example.com'], cc: 'cc@example.com', bcc: ['audit@example.com', 'audit2@example.com'],
      subject: input.subject, text: input.text, html: input.html, 'h:Reply-To': 'support@example.com',
    });
    expect(result.ok && result.output).toMatchObject({ status: 'queued' });
  });

  it('send_email (text only) uses the default sender with its quoted name and sends no empty fields', async () => {
    server.reset();
    override = { status: 200, body: { id: '<20240501.1.AB@mg.example.com>', message: 'Queued. Thank you.' } };
    try {
      const result = await engine.run(mailgun, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
      const req = expectContract(result, server, 'POST-v3--domain-name--messages');
      expect(req.body).toEqual({ from: '"Example \\"Billing\\"" <billing@mg.example.com>', to: 'ana@example.com', subject: 'Hi', text: 'Hello' });
      expect(result.ok && result.output).toEqual({ message_id: '<20240501.1.AB@mg.example.com>', status: 'queued' });
    } finally {
      override = undefined;
    }
  });

  it('verify is a valid GET /v4/domains/{name} with Basic api:key, in the EU region too', async () => {
    server.reset();
    const result = await engine.verify(mailgun, { credentials, baseUrl });
    const req = expectContract(result, server, 'GET-v4-domains--name-');
    expect(req).toMatchObject({ method: 'GET', path: '/v4/domains/mg.example.com', rawBody: '' });
    expect(req.headers.authorization).toBe(basic);
    server.reset();
    expect(baseUrlOf(mailgun, server, 'eu')).toBe(server.origin);
    expectContract(await engine.verify(mailgun, { credentials, baseUrl: baseUrlOf(mailgun, server, 'eu') }), server, 'GET-v4-domains--name-');
  });

  it("maps Mailgun's 400 answer to a provider_error with its message", async () => {
    server.reset();
    override = { status: 400, body: { message: "'to' parameter is not a valid address. please check documentation" } };
    try {
      const result = await engine.run(mailgun, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 400, provider_message: "'to' parameter is not a valid address. please check documentation" });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: the subject sent under a wrong field name misses the required subject', async () => {
    server.reset();
    const broken = loadEditedManifest('mailgun', (t) => replaceOnce(t, '"subject": input.subject,', '"Subject": input.subject,'));
    const result = await engine.run(broken, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.subject')?.message, info).toMatch(/missing required field "subject"/);
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: the key as a Bearer token is refused by the basicAuth security requirement', async () => {
    server.reset();
    const broken = loadEditedManifest('mailgun', (t) => replaceOnce(t, /type: basic\n\s*username: api\n\s*password: "\{\{credentials\.api_key\}\}"/, 'type: bearer\n  token: "{{credentials.api_key}}"'));
    const result = await engine.verify(broken, { credentials, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'security')?.message, info).toMatch(/basicAuth/);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract mailgun: every capability example and verify pass against the spec (the command's own run)", async () => {
    await expectConnectorContract('mailgun');
  });
});
