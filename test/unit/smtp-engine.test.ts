// The smtp connector (connectors/smtp.yaml) and the engine's SMTP path against a real SMTP server on
// 127.0.0.1 (smtp-server): AUTH is checked by the server, the message it receives is parsed with
// mailparser and compared field by field; STARTTLS and implicit TLS run with a certificate made
// at test time (selfsigned). Nothing leaves the loopback interface.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import type { AddressObject } from 'mailparser';
import { loadManifestFile, loadManifestText } from '../../runtime/manifest/load.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { Engine } from '../../runtime/engine/engine.ts';
import net, { type AddressInfo } from 'node:net';
import { NodemailerSmtpTransport, SmtpError, type SmtpMessage, type SmtpSettings } from '../../runtime/http/smtp/transport.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';

const PASSWORD = 'right-password';
const smtp = loadManifestFile(path.join(PROJECT_ROOT, 'connectors', 'smtp.yaml')).connector!;

function creds(server: { port: number }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: '127.0.0.1', port: server.port, security: 'none', username: 'ana@example.com', password: PASSWORD, from_address: 'ana@example.com', from_name: 'Ana Example', ...extra };
}

const addrs = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));

let engine: Engine;
let transport: NodemailerSmtpTransport;
const servers: TestSmtpServer[] = [];
async function server(opts: Parameters<typeof startSmtpServer>[0] = {}) {
  const s = await startSmtpServer(opts);
  servers.push(s);
  return s;
}

let tlsCert: { key: string; cert: string };
beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  tlsCert = { key: pems.private, cert: pems.cert };
}, 60_000);

function newEngine() {
  transport = new NodemailerSmtpTransport();
  // The test server is on loopback: a private address, allowed only with PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1.
  engine = new Engine({ smtp: transport, env: { PLUGBOARD_ALLOW_PRIVATE_PROVIDERS: '1' }, sleep: async () => {} });
}

afterEach(async () => {
  await engine?.close();
  while (servers.length) await servers.pop()!.close();
});
afterAll(async () => engine?.close());

describe('send_email over SMTP (plain connection, AUTH)', () => {
  it('logs in, sends the message, and maps the server answer into send_email output', async () => {
    newEngine();
    const s = await server();
    const input = { to: ['bo@example.com', 'cy@example.com'], cc: ['finance@example.com'], bcc: ['archive@example.com'], reply_to: 'billing@example.com', subject: 'Grüße: your invoice', text: 'Invoice attached.\nThanks', html: '<p>Invoice <b>attached</b>.</p>' };
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s), input, integration: { id: 'int1' } });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(s.received).toHaveLength(1);
    const got = s.received[0]!;
    expect(got.user).toBe('ana@example.com');
    expect(got.secure).toBe(false);
    expect(got.envelope.from).toBe('ana@example.com');
    expect(got.envelope.to.sort()).toEqual(['archive@example.com', 'bo@example.com', 'cy@example.com', 'finance@example.com']);
    const m = got.mail;
    expect(m.from?.value).toEqual([{ address: 'ana@example.com', name: 'Ana Example' }]);
    expect(addrs(m.to)).toEqual(['bo@example.com', 'cy@example.com']);
    expect(addrs(m.cc)).toEqual(['finance@example.com']);
    expect(m.bcc).toBeUndefined(); // blind: in the envelope only
    expect(addrs(m.replyTo)).toEqual(['billing@example.com']);
    expect(m.subject).toBe('Grüße: your invoice');
    expect(m.text?.trim()).toBe('Invoice attached.\nThanks');
    expect(m.html).toBe('<p>Invoice <b>attached</b>.</p>');
    expect(r.ok && r.output).toEqual({ message_id: m.messageId, status: 'sent' });
    expect(r.meta.status).toBe(250);
  });

  it('takes the sender of the input over the integration default', async () => {
    newEngine();
    const s = await server();
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s), input: { to: ['bo@example.com'], from: 'support@example.com', from_name: 'Support', subject: 'Hi', text: 'x' } });
    expect(r.ok).toBe(true);
    expect(s.received[0]!.mail.from?.value).toEqual([{ address: 'support@example.com', name: 'Support' }]);
  });

  it('sends attachments and extra headers a manifest adds (mailparser sees the same bytes)', async () => {
    newEngine();
    const s = await server();
    const text = fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'smtp.yaml'), 'utf8')
      .replace(/^name: smtp$/m, 'name: smtp_attach')
      .replace('"html": input.html\n', '"html": input.html,\n          "headers": { "X-Campaign": "spring" },\n          "attachments": [{ "filename": "note.txt", "content": input.text }, { "filename": "pixel.bin", "content": "AAEC/w==", "encoding": "base64", "content_type": "application/octet-stream" }]\n');
    const loaded = loadManifestText(text, 'smtp_attach.yaml');
    expect(loaded.issues).toEqual([]);
    const r = await engine.run(loaded.connector!, 'send_email', { credentials: creds(s), input: { to: ['bo@example.com'], subject: 'Files', text: 'see the note', html: '<p>files</p>' } });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const m = s.received[0]!.mail;
    expect(m.headers.get('x-campaign')).toBe('spring');
    expect(m.attachments.map((a) => [a.filename, a.contentType, a.content.toString('base64')])).toEqual([
      ['note.txt', 'text/plain', Buffer.from('see the note').toString('base64')],
      ['pixel.bin', 'application/octet-stream', 'AAEC/w=='],
    ]);
  });

  it('refuses a message expression that would inject a header', async () => {
    newEngine();
    const s = await server();
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s), input: { to: ['bo@example.com'], from_name: 'Eve\r\nBcc: victim@example.com', subject: 'Hi', text: 'x' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.type).toBe('invalid_input');
    expect(s.received).toHaveLength(0);
  });

  it('a wrong password is a typed, non-retryable auth failure that never shows the password', async () => {
    newEngine();
    // The server echoes what it was given: the engine must still not repeat the password.
    const s = await server({ authError: (_u, p) => `5.7.8 bad password ${p}` });
    const wrong = 'wrong-password-123';
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s, { password: wrong }), input: { to: ['bo@example.com'], subject: 'Hi', text: 'x' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.type).toBe('invalid_credentials');
    expect(r.error.retryable).toBe(false);
    expect(r.error.provider_code).toBe('535');
    expect(r.error.message).toMatch(/^SMTP rejected the login/);
    expect(JSON.stringify(r)).not.toContain(wrong);
    expect(JSON.stringify(r)).toContain('[REDACTED]');
    expect(s.received).toHaveLength(0);
  });

  it('a refused recipient is a provider error: retryable for 4xx, not for 5xx', async () => {
    newEngine();
    const s = await server({ rcpt: (a) => (a.startsWith('later') ? Object.assign(new Error('4.2.2 Mailbox full, try later'), { responseCode: 452 }) : a.startsWith('gone') ? Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }) : undefined) });
    const later = await engine.run(smtp, 'send_email', { credentials: creds(s), input: { to: ['later@example.com'], subject: 'Hi', text: 'x' } });
    const gone = await engine.run(smtp, 'send_email', { credentials: creds(s), input: { to: ['gone@example.com'], subject: 'Hi', text: 'x' } });
    expect(!later.ok && [later.error.type, later.error.retryable, later.error.provider_code]).toEqual(['provider_error', true, '452']);
    expect(!gone.ok && [gone.error.type, gone.error.retryable, gone.error.provider_code]).toEqual(['provider_error', false, '550']);
    // Some refused, some accepted: sent to the others, the answer lists both.
    const some = await engine.run(smtp, 'send_email', { credentials: creds(s), input: { to: ['gone@example.com', 'bo@example.com'], subject: 'Hi', text: 'x' } });
    expect(some.ok && some.output).toMatchObject({ status: 'sent' });
    expect(s.received.at(-1)!.envelope.to).toEqual(['bo@example.com']);
  });

  it('a server that is not there is a retryable network error, tried max_attempts times', async () => {
    newEngine();
    const s = await server();
    const port = s.port;
    await servers.pop()!.close();
    const r = await engine.run(smtp, 'send_email', { credentials: creds({ port }), input: { to: ['bo@example.com'], subject: 'Hi', text: 'x' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.type).toBe('network_error');
    expect(r.error.retryable).toBe(true);
    expect(r.meta.attempts).toBe(3);
  });

  it('bad settings are invalid credentials before anything is sent', async () => {
    newEngine();
    const r = await engine.run(smtp, 'send_email', { credentials: { host: '127.0.0.1', port: 70000, from_address: 'ana@example.com' }, input: { to: ['bo@example.com'], subject: 'Hi', text: 'x' } });
    expect(!r.ok && r.error.type).toBe('invalid_credentials');
  });
});

describe('verify over SMTP', () => {
  it('succeeds with the right password and fails (typed) with a wrong one', async () => {
    newEngine();
    const s = await server();
    const ok = await engine.verify(smtp, { credentials: creds(s), integration: { id: 'v1' } });
    expect(ok).toMatchObject({ ok: true, output: { verified: true } });
    const bad = await engine.verify(smtp, { credentials: creds(s, { password: 'nope-nope' }), integration: { id: 'v1' } });
    expect(!bad.ok && [bad.error.type, bad.error.retryable]).toEqual(['invalid_credentials', false]);
    expect(JSON.stringify(bad)).not.toContain('nope-nope');
    expect(s.received).toHaveLength(0);
  });
});

describe('TLS', () => {
  it('STARTTLS: upgrades before AUTH; a self-signed certificate needs reject_unauthorized: false', async () => {
    newEngine();
    const s = await server({ server: { key: tlsCert.key, cert: tlsCert.cert, allowInsecureAuth: false } });
    const input = { to: ['bo@example.com'], subject: 'Secure', text: 'over TLS' };
    const refused = await engine.run(smtp, 'send_email', { credentials: creds(s, { security: 'starttls' }), input, integration: { id: 'a' } });
    expect(!refused.ok && [refused.error.type, refused.error.retryable]).toEqual(['network_error', false]);
    expect(!refused.ok && refused.error.message).toMatch(/TLS|certificate/i);
    const sent = await engine.run(smtp, 'send_email', { credentials: creds(s, { security: 'starttls', reject_unauthorized: false }), input, integration: { id: 'a' } });
    expect(sent.ok, JSON.stringify(sent)).toBe(true);
    expect(s.received).toHaveLength(1);
    expect(s.received[0]!.secure).toBe(true);
    expect(s.received[0]!.user).toBe('ana@example.com');
  });

  it('security: none never upgrades, even when the server offers STARTTLS', async () => {
    newEngine();
    const s = await server({ server: { key: tlsCert.key, cert: tlsCert.cert } });
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s, { security: 'none' }), input: { to: ['bo@example.com'], subject: 'Plain', text: 'x' } });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(s.received[0]!.secure).toBe(false);
  });

  it('starttls is required: a server that does not offer it is refused before AUTH', async () => {
    newEngine();
    const s = await server({ server: { hideSTARTTLS: true, disabledCommands: ['STARTTLS'] } });
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s, { security: 'starttls', reject_unauthorized: false }), input: { to: ['bo@example.com'], subject: 'x', text: 'x' } });
    expect(!r.ok && [r.error.type, r.error.retryable], JSON.stringify(r)).toEqual(['network_error', false]);
    expect(!r.ok && r.error.message).toMatch(/TLS/);
    expect(s.received).toHaveLength(0);
  });

  it('tls: TLS from the first byte (port 465 style)', async () => {
    newEngine();
    const s = await server({ server: { secure: true, key: tlsCert.key, cert: tlsCert.cert } });
    const r = await engine.run(smtp, 'send_email', { credentials: creds(s, { security: 'tls', reject_unauthorized: false }), input: { to: ['bo@example.com'], subject: 'x', text: 'tls' } });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(s.received[0]!.secure).toBe(true);
    const v = await engine.verify(smtp, { credentials: creds(s, { security: 'tls', reject_unauthorized: false }) });
    expect(v.ok).toBe(true);
  });
});

describe('connection pool per integration', () => {
  it('reuses one connection for the same credentials, replaces the pool when they change, closes on engine.close()', async () => {
    newEngine();
    const s = await server({ users: { 'ana@example.com': PASSWORD, 'bo@example.com': 'second-password' } });
    const input = { to: ['cy@example.com'], subject: 'x', text: 'x' };
    for (let i = 0; i < 3; i++) expect((await engine.run(smtp, 'send_email', { credentials: creds(s), input, integration: { id: 'int1' } })).ok).toBe(true);
    expect(s.connections).toBe(1);
    expect(transport.size).toBe(1);
    // New credentials of the same integration: a new pool; the old one is closed.
    expect((await engine.run(smtp, 'send_email', { credentials: creds(s, { username: 'bo@example.com', password: 'second-password' }), input, integration: { id: 'int1' } })).ok).toBe(true);
    expect(s.connections).toBe(2);
    expect(transport.size).toBe(1);
    expect(s.received.map((r) => r.user)).toEqual(['ana@example.com', 'ana@example.com', 'ana@example.com', 'bo@example.com']);
    // Another integration: its own pool.
    expect((await engine.run(smtp, 'send_email', { credentials: creds(s), input, integration: { id: 'int2' } })).ok).toBe(true);
    expect(transport.size).toBe(2);
    await engine.close();
    expect(transport.size).toBe(0);
    await expect.poll(() => s.closedConnections, { timeout: 5000 }).toBe(s.connections);
  });
});

describe('pool replacement and timeouts', () => {
  const settings = (port: number, user: string, password: string, timeoutMs = 5000): SmtpSettings => ({ host: '127.0.0.1', port, security: 'none', username: user, password, rejectUnauthorized: true, maxConnections: 1, timeoutMs });
  const msg = (subject: string): SmtpMessage => ({ from: { name: 'Ana', address: 'ana@example.com' }, to: ['cy@example.com'], subject, text: 'x' });

  it('new credentials while sends are queued in the old pool: every queued send still goes out', async () => {
    newEngine();
    const s = await server({ users: { 'ana@example.com': PASSWORD, 'bo@example.com': 'second-password' } });
    // One connection per pool: the first pool holds one message in flight and four queued.
    const queued = [1, 2, 3, 4, 5].map((i) => transport.send('smtp:int1', settings(s.port, 'ana@example.com', PASSWORD), msg(`old ${i}`)));
    const replacing = transport.send('smtp:int1', settings(s.port, 'bo@example.com', 'second-password'), msg('new'));
    const results = await Promise.allSettled([...queued, replacing]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'sent'))).toEqual(Array(6).fill('sent'));
    expect(s.received.map((r) => r.mail.subject).sort()).toEqual(['new', 'old 1', 'old 2', 'old 3', 'old 4', 'old 5']);
    expect(transport.size).toBe(1);
    // The retired pool is closed once its sends are done.
    await expect.poll(() => s.closedConnections, { timeout: 5000 }).toBe(1);
  });

  it('"Connection pool was closed" means nothing was sent: retryable', () => {
    expect(SmtpError.from(new Error('Connection pool was closed')).notSent).toBe(true);
    expect(SmtpError.from(Object.assign(new Error('Connection pool was closed'), { code: 'ECONNECTION' })).notSent).toBe(true);
    expect(SmtpError.from(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'DATA' })).notSent).toBe(false);
  });

  it('calls with different timeouts (verify vs a capability) share one pool and its connection', async () => {
    newEngine();
    const s = await server();
    await transport.send('smtp:int1', settings(s.port, 'ana@example.com', PASSWORD, 4000), msg('one'));
    await transport.verify('smtp:int1', settings(s.port, 'ana@example.com', PASSWORD, 9000));
    await transport.send('smtp:int1', settings(s.port, 'ana@example.com', PASSWORD, 4000), msg('two'));
    await transport.verify('smtp:int1', settings(s.port, 'ana@example.com', PASSWORD, 9000));
    await transport.send('smtp:int1', settings(s.port, 'ana@example.com', PASSWORD, 4000), msg('three'));
    expect(s.received).toHaveLength(3);
    expect(transport.size).toBe(1);
    // One pooled connection for the three sends, one connection per verify.
    expect(s.connections).toBe(3);
  });

  it('a send is bounded by its own timeout, whatever the pool was opened with', async () => {
    newEngine();
    // Accepts the connection, never greets.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    // The pool is opened by a call with a long timeout (its verify waits on the silent server meanwhile).
    const verifying = transport.verify('smtp:slow', settings(port, 'ana@example.com', PASSWORD, 60_000)).catch(() => undefined);
    try {
      const started = Date.now();
      const err = await transport.send('smtp:slow', settings(port, 'ana@example.com', PASSWORD, 300), msg('late')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SmtpError);
      expect((err as SmtpError).parts).toMatchObject({ code: 'ETIMEDOUT', timeoutType: 'CALL_TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await engine.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
      await verifying;
    }
  });
});

describe('offline examples of smtp capabilities (plugboard test)', () => {
  it('runs the shipped examples against a recorded SMTP answer, and a wrong expectation fails', async () => {
    const { runConnectorExamples, runExample } = await import('../../runtime/testkit/examples.ts');
    const results = await runConnectorExamples(smtp);
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    const ex = smtp.capabilities.get('send_email')!.examples[0]!;
    const wrongMessage = await runExample(smtp, 'send_email', { ...ex, message: { ...ex.message, subject: 'Another subject' } });
    expect(wrongMessage.passed).toBe(false);
    expect(wrongMessage.problems.join('\n')).toContain('message differs');
    const wrongError = await runExample(smtp, 'send_email', { ...ex, response: { status: 535, body: { response: '535 5.7.8 no' } }, output: undefined, error: { type: 'provider_error' } });
    expect(wrongError.passed).toBe(false);
    expect(wrongError.problems.join('\n')).toContain('invalid_credentials');
  });
});
