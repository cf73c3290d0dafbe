// Servers a tenant names in the credentials (CalDAV's calendar_url, an SMTP host) are reached only at
// public addresses unless PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1: the save-time check (field -> problems)
// and the connect-time guard (undici lookup, SMTP getSocket), which holds against DNS rebinding.
// Everything runs on loopback; DNS is a fake table (or /etc/hosts for localhost).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { generate } from 'selfsigned';
import { checkHost, literalHostProblem, type Resolver } from '../../runtime/http/address-policy.ts';
import { publicSocket } from '../../runtime/http/smtp/public-socket.ts';
import { UndiciTransport } from '../../runtime/http/transport.ts';
import { NodemailerSmtpTransport } from '../../runtime/http/smtp/transport.ts';
import { Engine } from '../../runtime/engine/engine.ts';
import { loadManifestFile } from '../../runtime/manifest/load.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { readConfig } from '../../runtime/config/env.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';

const caldav = loadManifestFile(path.join(PROJECT_ROOT, 'connectors', 'caldav.yaml')).connector!;
const smtp = loadManifestFile(path.join(PROJECT_ROOT, 'connectors', 'smtp.yaml')).connector!;
const FLAG = 'PLUGBOARD_ALLOW_PRIVATE_PROVIDERS';

/** A fake DNS: never touches the network. */
function fakeDns(table: Record<string, string[]>): Resolver {
  return async (host) => {
    const list = table[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const DNS = fakeDns({
  'cal.example.com': ['93.184.216.34'],
  'intranet.example.com': ['10.1.2.3'],
  'metadata.example.com': ['169.254.169.254'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'v6.example.com': ['2606:2800:220:1:248:1893:25c8:1946'],
});

const caldavCreds = (calendar_url: string) => ({ calendar_url, username: 'ana', password: 'cal-secret-7f3k9q' });
const smtpCreds = (host: string, port = 587) => ({ host, port, security: 'none', username: 'ana@example.com', password: 'smtp-secret-1', from_address: 'ana@example.com' });

describe('address checks (runtime/http/address-policy.ts)', () => {
  it('refuses loopback, private, link-local and metadata literals; allows public ones', () => {
    for (const host of ['127.0.0.1', '10.0.0.5', '172.16.3.4', '192.168.0.1', '169.254.169.254', '::1', '[::1]', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0', 'localhost', 'api.localhost']) {
      expect(literalHostProblem(host), host).toMatch(/^points to /);
    }
    expect(literalHostProblem('169.254.169.254')).toContain('link-local');
    expect(literalHostProblem('127.0.0.1')).toContain('loopback');
    for (const host of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', 'cal.example.com']) expect(literalHostProblem(host), host).toBeUndefined();
  });

  it('judges a name by every address it resolves to; an unresolvable name is left to the connect-time guard', async () => {
    expect((await checkHost('intranet.example.com', { resolver: DNS })).problem).toBe('resolves to a private address (intranet.example.com -> 10.1.2.3)');
    expect((await checkHost('metadata.example.com', { resolver: DNS })).problem).toContain('link-local');
    expect((await checkHost('mixed.example.com', { resolver: DNS })).problem).toContain('192.168.1.10');
    expect(await checkHost('cal.example.com', { resolver: DNS })).toEqual({ problem: undefined });
    expect(await checkHost('v6.example.com', { resolver: DNS })).toEqual({ problem: undefined });
    expect(await checkHost('nowhere.example.com', { resolver: DNS })).toEqual({ unresolved: true });
  });
});

describe('save-time check (Engine.checkProviderHosts)', () => {
  const strict = new Engine({ env: {}, resolver: DNS });

  it('names credentials.calendar_url for a CalDAV server at a private address, with how to allow it', async () => {
    for (const url of ['http://127.0.0.1/dav/cal/', 'https://[::1]:5232/', 'http://169.254.169.254/latest/meta-data/', 'https://intranet.example.com/dav/', 'http://localhost:5232/']) {
      const problems = await strict.checkProviderHosts(caldav, caldavCreds(url));
      expect(Object.keys(problems ?? {}), url).toEqual(['credentials.calendar_url']);
      expect(problems!['credentials.calendar_url']![0]).toContain(`${FLAG}=1`);
    }
    expect(await strict.checkProviderHosts(caldav, caldavCreds('https://cal.example.com/dav/calendars/ana/personal/'))).toBeUndefined();
  });

  it('names credentials.host for an SMTP server at a private address', async () => {
    const problems = await strict.checkProviderHosts(smtp, smtpCreds('10.0.0.25'));
    expect(problems).toEqual({ 'credentials.host': [expect.stringContaining('points to a private address (10.0.0.25)')] });
    expect(await strict.checkProviderHosts(smtp, smtpCreds('intranet.example.com'))).toHaveProperty(['credentials.host']);
    expect(await strict.checkProviderHosts(smtp, smtpCreds('93.184.216.34'))).toBeUndefined();
  });

  it('allows private servers with PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1, and does not judge an operator base URL', async () => {
    expect(await new Engine({ env: { [FLAG]: '1' }, resolver: DNS }).checkProviderHosts(caldav, caldavCreds('http://127.0.0.1/'))).toBeUndefined();
    expect(await new Engine({ env: {}, allowPrivateProviders: true }).checkProviderHosts(smtp, smtpCreds('127.0.0.1'))).toBeUndefined();
    expect(await new Engine({ env: { PLUGBOARD_BASE_URL_CALDAV: 'http://127.0.0.1:9' }, resolver: DNS }).checkProviderHosts(caldav, caldavCreds('http://127.0.0.1/'))).toBeUndefined();
  });

  it('reads the flag in the configuration (1/0; anything else stops start-up)', () => {
    expect(readConfig({}).allowPrivateProviders).toBe(false);
    expect(readConfig({ [FLAG]: '1' }).allowPrivateProviders).toBe(true);
    expect(readConfig({ [FLAG]: '0' }).allowPrivateProviders).toBe(false);
    expect(() => readConfig({ [FLAG]: 'maybe' })).toThrow(/PLUGBOARD_ALLOW_PRIVATE_PROVIDERS must be 1 \(on\) or 0 \(off\)/);
  });
});

describe('connect-time guard: HTTP (base URL from credentials.calendar_url)', () => {
  let server: http.Server;
  let port = 0;
  const hits: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(207, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses a loopback literal, localhost and a name that resolves to loopback at connect time (DNS rebinding): invalid_credentials, nothing sent', async () => {
    // The save-time DNS said public; the DNS at connect time says 127.0.0.1.
    const rebinding = fakeDns({ 'cal.example.com': ['127.0.0.1'] });
    const engine = new Engine({ env: {}, transport: new UndiciTransport({ resolver: rebinding }), sleep: async () => {} });
    for (const url of [`http://127.0.0.1:${port}/dav/`, `http://localhost:${port}/dav/`, `http://cal.example.com:${port}/dav/`]) {
      const res = await engine.verify(caldav, { credentials: caldavCreds(url) });
      expect(res.ok, url).toBe(false);
      if (res.ok) continue;
      expect(res.error).toMatchObject({ type: 'invalid_credentials', retryable: false });
      expect(Object.keys(res.error.fields ?? {})).toEqual(['credentials.calendar_url']);
      expect(res.error.message).toMatch(/loopback address/);
      expect(res.error.message).toContain(`${FLAG}=1`);
      expect(res.error.message).not.toContain('cal-secret-7f3k9q');
    }
    expect(hits).toEqual([]);
  });

  it('connects with PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1, and to an operator-set base URL without it', async () => {
    const allowed = new Engine({ env: { [FLAG]: '1' } });
    expect((await allowed.verify(caldav, { credentials: caldavCreds(`http://127.0.0.1:${port}/dav/`) })).ok).toBe(true);
    const operator = new Engine({ env: { PLUGBOARD_BASE_URL_CALDAV: `http://127.0.0.1:${port}/dav/` } });
    expect((await operator.verify(caldav, { credentials: caldavCreds('https://cal.example.com/dav/') })).ok).toBe(true);
    expect(hits).toEqual(['PROPFIND /dav/', 'PROPFIND /dav/']);
  });
});

describe('connect-time guard: SMTP (credentials.host)', () => {
  let mail: TestSmtpServer;
  beforeAll(async () => {
    mail = await startSmtpServer();
  });
  afterAll(async () => mail?.close());

  it('refuses 127.0.0.1 and localhost before connecting: invalid_credentials naming credentials.host, not retried', async () => {
    const engine = new Engine({ env: {}, smtp: new NodemailerSmtpTransport(), sleep: async () => {} });
    try {
      for (const host of ['127.0.0.1', 'localhost']) {
        const res = await engine.run(smtp, 'send_email', { credentials: { ...smtpCreds(host, mail.port), password: 'right-password' }, input: { to: ['bo@example.com'], subject: 'hi', text: 'hi' } });
        expect(res.ok, host).toBe(false);
        if (res.ok) continue;
        expect(res.error).toMatchObject({ type: 'invalid_credentials', retryable: false, fields: { 'credentials.host': [expect.stringContaining('loopback address')] } });
        expect(res.meta.attempts).toBe(1);
        const verified = await engine.verify(smtp, { credentials: { ...smtpCreds(host, mail.port), password: 'right-password' } });
        expect(verified.ok ? 'ok' : verified.error.type).toBe('invalid_credentials');
      }
      expect(mail.connections).toBe(0);
      expect(mail.received).toHaveLength(0);
    } finally {
      await engine.close();
    }
  });

  it('publicSocket: refuses what resolves to loopback, fails unknown names like nodemailer, and keeps TLS on the host name', async () => {
    const pems = await generate([{ name: 'commonName', value: 'mail.test' }], { keySize: 2048, algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'mail.test' }] }] });
    const tlsServer = await startSmtpServer({ server: { secure: true, key: pems.private, cert: pems.cert } });
    // The guard's own resolver maps mail.test to loopback: refused...
    const strict = nodemailer.createTransport({ host: 'mail.test', port: tlsServer.port, secure: true, tls: { ca: pems.cert, servername: 'mail.test' }, auth: { user: 'ana@example.com', pass: 'right-password' }, getSocket: publicSocket({ resolver: fakeDns({ 'mail.test': ['127.0.0.1'] }) }) as never });
    try {
      await expect(strict.verify()).rejects.toMatchObject({ code: 'EADDRESSPOLICY' });
      expect(tlsServer.connections).toBe(0);
      // ...an unknown name is a DNS failure in nodemailer's shape (retryable, nothing sent).
      const unknown = nodemailer.createTransport({ host: 'nowhere.test', port: tlsServer.port, getSocket: publicSocket({ resolver: fakeDns({}) }) as never });
      // Allowed (the same socket path, refusing nothing): TLS is checked against mail.test, not the address.
      const open = nodemailer.createTransport({ host: 'mail.test', port: tlsServer.port, secure: true, tls: { ca: pems.cert, servername: 'mail.test' }, auth: { user: 'ana@example.com', pass: 'right-password' }, getSocket: publicSocket({ resolver: fakeDns({ 'mail.test': ['127.0.0.1'] }), allowPrivate: true }) as never });
      const info = await open.sendMail({ from: 'ana@example.com', to: 'bo@example.com', subject: 'over the given socket', text: 'hi' });
      expect(info.accepted).toEqual(['bo@example.com']);
      expect(tlsServer.received).toHaveLength(1);
      expect(tlsServer.received[0]!.secure).toBe(true);
      open.close();
      // A certificate for another name is refused: the host name, not the address, is what TLS checks.
      const wrong = nodemailer.createTransport({ host: 'other.test', port: tlsServer.port, secure: true, tls: { ca: pems.cert }, getSocket: publicSocket({ resolver: fakeDns({ 'other.test': ['127.0.0.1'] }), allowPrivate: true }) as never });
      await expect(wrong.verify()).rejects.toThrow(/other\.test|altnames|certificate/i);
      await expect(unknown.verify()).rejects.toMatchObject({ code: 'EDNS', originalCode: 'ENOTFOUND' });
    } finally {
      strict.close();
      await tlsServer.close();
    }
  }, 30_000);
});
