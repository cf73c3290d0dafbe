// Gmail connector vs Google's Gmail API Discovery document as converted to OpenAPI by APIs.guru
// (gmail/openapi.yaml). The contract server adds application/json to the message/*-only send body and
// stops checking the base64url `raw` as format byte (generated-spec-fixups.ts); the message inside
// `raw` is decoded here and parsed as a mail system would.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { simpleParser, type AddressObject } from 'mailparser';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { access_token: 'ya29.a0AfB_byC-contract-test-token' };
const addresses = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address));

let override: MockResponse | undefined;

describe('gmail connector vs the Gmail API spec', () => {
  let server: SpecServer;
  let gmail: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('gmail', { respond: () => override });
    gmail = loadConnector('gmail');
    baseUrl = baseUrlOf(gmail, server);
  });
  afterAll(() => server?.close());

  it('applies the fix-ups the spec needs for a JSON {raw} send', () => {
    expect(server.fixups.join('\n')).toMatch(/request bod\(ies\) typed only message\/\* also accept application\/json/);
    expect(server.fixups.join('\n')).toMatch(/base64url string\(s\) checked as standard or URL-safe base64/);
  });

  it('send_email (all fields) is a valid messages.send with a base64url RFC 5322 message and Bearer auth', async () => {
    server.reset();
    override = { status: 200, body: { id: '18c9a4f3b2e1d0c7', threadId: '18c9a4f3b2e1d0c7', labelIds: ['SENT'] } };
    const input = {
      to: ['ana@example.com', 'bo@example.com'], cc: ['cc@example.com'], bcc: ['audit@example.com'], from: 'invoices@example.com', from_name: 'Invoices Ü',
      reply_to: 'support@example.com', subject: 'Your invoice – März', text: 'Invoice attached.', html: '<p>Invoice attached.</p>',
    };
    try {
      const result = await engine.run(gmail, 'send_email', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'gmail.users.messages.send');
      expect(req).toMatchObject({ method: 'POST', path: '/gmail/v1/users/me/messages/send', rawQuery: '' });
      expect(req.contentType).toMatch(/^application\/json/);
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      const raw = (req.body as { raw: string }).raw;
      expect(Object.keys(req.body as object)).toEqual(['raw']);
      expect(raw).toMatch(/^[A-Za-z0-9_-]+$/); // base64url (RFC 4648 §5), what Gmail documents
      const mail = await simpleParser(Buffer.from(raw, 'base64url'));
      expect(mail.from?.value).toEqual([{ name: 'Invoices Ü', address: 'invoices@example.com' }]);
      expect(addresses(mail.to)).toEqual(['ana@example.com', 'bo@example.com']);
      expect(addresses(mail.cc)).toEqual(['cc@example.com']);
      expect(addresses(mail.bcc)).toEqual(['audit@example.com']); // Gmail delivers to the Bcc header's addresses and strips it
      expect(addresses(mail.replyTo)).toEqual(['support@example.com']);
      expect(mail.subject).toBe(input.subject);
      expect(mail.text).toBe(input.text);
      expect(mail.html).toBe(input.html);
      expect(result.ok && result.output).toEqual({ message_id: '18c9a4f3b2e1d0c7', status: 'sent' });
    } finally {
      override = undefined;
    }
  });

  it('send_email (text only) leaves From to Gmail and sends no empty headers', async () => {
    server.reset();
    const result = await engine.run(gmail, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
    const req = expectContract(result, server, 'gmail.users.messages.send');
    const message = Buffer.from((req.body as { raw: string }).raw, 'base64url').toString('utf8');
    const headers = message.split('\r\n\r\n')[0]!.split('\r\n').map((l) => l.split(':')[0]!.toLowerCase());
    expect(headers.sort()).toEqual(['content-transfer-encoding', 'content-type', 'date', 'message-id', 'mime-version', 'subject', 'to']);
  });

  it('verify is a valid users.labels.list with Bearer auth', async () => {
    server.reset();
    const result = await engine.verify(gmail, { credentials, baseUrl });
    const req = expectContract(result, server, 'gmail.users.labels.list');
    expect(req).toMatchObject({ method: 'GET', path: '/gmail/v1/users/me/labels', rawBody: '' });
    expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
  });

  it("maps Google's error answer to a provider_error with its message", async () => {
    server.reset();
    const body = { error: { code: 403, message: 'Request had insufficient authentication scopes.', errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }], status: 'PERMISSION_DENIED' } };
    override = { status: 403, body };
    try {
      const result = await engine.run(gmail, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 403, provider_message: body.error.message });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: the message in `raw` without base64url encoding is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('gmail', (t) => replaceOnce(t, '"raw": $base64url($mimeMessage({', '"raw": ($mimeMessage({'));
    const result = await engine.run(broken, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.body.raw pattern');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: the send path without /gmail/v1 (the upload-style path) matches no operation', async () => {
    server.reset();
    const broken = loadEditedManifest('gmail', (t) => replaceOnce(t, 'path: /gmail/v1/users/me/messages/send\n      body_format', 'path: /users/me/messages/send\n      body_format'));
    const result = await engine.run(broken, 'send_email', { credentials, input: { to: ['ana@example.com'], subject: 'Hi', text: 'Hello' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'route')?.message, info).toMatch(/no operation in the spec matches POST \/users\/me\/messages\/send/);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract gmail: every capability example and verify pass against the spec (the command's own run)", async () => {
    await expectConnectorContract('gmail');
  });
});
