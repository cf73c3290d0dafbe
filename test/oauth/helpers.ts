// A real OAuth authorization server on loopback (oauth2-mock-server) behind a counting proxy, a
// provider API that accepts only the bearer tokens that server issued, and a manifest for that
// imaginary provider (acme_crm) in a temporary connectors directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { OAuth2Server } from 'oauth2-mock-server';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { afterAll, beforeAll } from 'vitest';

export interface AuthServer {
  /** Origin of the proxy in front of the authorization server (what the manifest names). */
  url: string;
  /** Token requests per grant type, counted at the authorization server. */
  counts: Record<string, number>;
  /** Every access and refresh token the server issued (for plaintext searches). */
  issued: string[];
  /** Refresh tokens the server still honours (each refresh rotates: the old one stops working). */
  validRefresh: Set<string>;
  /** Access tokens the provider API accepts. */
  validAccess: Set<string>;
  /** expires_in of the next token responses (default 3600; a string is sent as one). */
  nextExpiresIn: Array<number | string>;
  /** Milliseconds the proxy holds each token request (widens a refresh race). */
  tokenDelayMs: number;
  /** Milliseconds the proxy holds each refresh_token grant request (not code exchanges). */
  refreshDelayMs: number;
  /** Every token request as sent: its Authorization header and form body (client authentication). */
  tokenRequests: Array<{ authorization?: string; body: URLSearchParams }>;
  /** The next token requests are answered by the proxy with these (a 5xx, a 429, invalid_client...). */
  nextTokenFailures: Array<(body: URLSearchParams) => { status: number; body: Record<string, unknown> }>;
  /** Edits of the next successful token responses (e.g. drop scope). */
  nextResponseEdits: Array<(body: Record<string, unknown>) => void>;
  revoked: string[];
  /** The revocation endpoint answers 503. */
  failRevoke: boolean;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startAuthServer(): Promise<AuthServer> {
  const mock = new OAuth2Server();
  await mock.issuer.keys.generate('RS256');
  await mock.start(0, '127.0.0.1');
  const mockUrl = mock.issuer.url!;
  const s: AuthServer = {
    url: '', counts: {}, issued: [], validRefresh: new Set(), validAccess: new Set(), nextExpiresIn: [], tokenDelayMs: 0, revoked: [], failRevoke: false,
    refreshDelayMs: 0, tokenRequests: [], nextTokenFailures: [], nextResponseEdits: [],
    close: async () => {
      await mock.stop();
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    },
  };
  // RS256 signatures are deterministic: without a jti two tokens issued in one second would be equal.
  mock.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
    token.payload['jti'] = randomUUID();
  });
  mock.service.on('beforeResponse', (res: { body: Record<string, unknown>; statusCode: number }, req: { body: Record<string, string> }) => {
    const grant = req.body.grant_type ?? '?';
    s.counts[grant] = (s.counts[grant] ?? 0) + 1;
    if (grant === 'refresh_token') {
      if (!s.validRefresh.has(req.body.refresh_token!)) {
        res.statusCode = 400;
        res.body = { error: 'invalid_grant', error_description: 'The refresh token is invalid or was revoked.' };
        return;
      }
      s.validRefresh.delete(req.body.refresh_token!); // rotation: the old refresh token is spent
    }
    res.body['expires_in'] = s.nextExpiresIn.shift() ?? 3600;
    res.body['instance_url'] = 'https://acme-eu.example.test';
    s.nextResponseEdits.shift()?.(res.body);
    for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof res.body[k] === 'string') s.issued.push(res.body[k] as string);
    s.validAccess.add(res.body['access_token'] as string);
    if (typeof res.body['refresh_token'] === 'string') s.validRefresh.add(res.body['refresh_token']);
  });
  // The proxy forwards everything (a real HTTP hop) and can hold token requests.
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.url?.startsWith('/token')) {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        s.tokenRequests.push({ authorization: req.headers.authorization, body: form });
        const delay = s.tokenDelayMs + (form.get('grant_type') === 'refresh_token' ? s.refreshDelayMs : 0);
        if (delay) await new Promise((r) => setTimeout(r, delay));
        const fail = s.nextTokenFailures.shift();
        if (fail) {
          const f = fail(form);
          if (res.destroyed) return;
          return res.writeHead(f.status, { 'content-type': 'application/json' }).end(JSON.stringify(f.body));
        }
      }
      if (req.url?.startsWith('/revoke')) {
        // The mock answers revocations without reading them: the proxy records and applies them.
        if (s.failRevoke) return res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
        const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token') ?? '';
        s.revoked.push(token);
        s.validRefresh.delete(token);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const up = await fetch(`${mockUrl}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined, redirect: 'manual' });
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => { if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v; });
      res.writeHead(up.status, out).end(Buffer.from(await up.arrayBuffer()));
    });
  });
  s.url = await listen(proxy);
  return s;
}

export interface ProviderApi {
  url: string;
  /** Bearer tokens the API saw (accepted or not). */
  seen: string[];
  close(): Promise<void>;
}

/** The imaginary provider's API: 401 unless the bearer token is one the authorization server issued and still accepts. */
export async function startProviderApi(auth: AuthServer): Promise<ProviderApi> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (m) seen.push(m[1]!);
    req.resume();
    req.on('end', () => {
      if (!m || !auth.validAccess.has(m[1]!)) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"invalid token"}');
      if (req.url?.startsWith('/me')) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"u1"}');
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `c_${seen.length}`, created: new Date().toISOString() }));
    });
  });
  const url = await listen(server);
  return { url, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

export function acmeManifest(auth: AuthServer, api: ProviderApi): string {
  return `schema_version: 1
name: acme_crm
display_name: Acme CRM
category: crm
base_url: ${api.url}
auth:
  type: oauth2_authorization_code
  authorization_url: ${auth.url}/authorize
  token_url: ${auth.url}/token
  revocation_url: ${auth.url}/revoke
  scopes: [contacts.read, contacts.write]
  client_id: "{{app.client_id}}"
  client_secret: "{{app.client_secret}}"
  client_auth: basic
  extra_authorize_params: { access_type: offline }
  connection: '{ "instance_url": instance_url }'
credential_schema: {}
verify:
  request: { method: GET, path: /me }
capabilities:
  create_contact:
    request:
      method: POST
      path: /contacts
      body: '{ "email": input.email }'
    response: '{ "contact_id": id }'
`;
}

/** A connectors directory holding only the acme_crm manifest. */
export function acmeConnectorsDir(auth: AuthServer, api: ProviderApi): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-oauth-connectors-'));
  fs.writeFileSync(path.join(dir, 'acme_crm.yaml'), acmeManifest(auth, api));
  return dir;
}

export const OAUTH_ENV = {
  PLUGBOARD_OAUTH_ACME_CRM_CLIENT_ID: 'plugboardtestclient',
  PLUGBOARD_OAUTH_ACME_CRM_CLIENT_SECRET: 'plugboardtestsecretvalue42',
  PLUGBOARD_ALLOWED_RETURN_ORIGINS: 'https://app.example.test',
};

/** What a browser does: follow the authorization URL; the authorization server redirects back with a code. */
export async function authorize(authorizationUrl: string): Promise<string> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorization server answered ${res.status}: ${await res.text()}`);
  return res.headers.get('location')!;
}

export interface OAuthFixture {
  auth: AuthServer;
  api: ProviderApi;
  tp: TestPlatform;
  /** The environment the platform was started with (a second process reuses it). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Authorization server, provider API and a platform with acme_crm (plus `manifests`), PLUGBOARD_PUBLIC_URL set to itself. */
/**
 * Starts the fixture before the file's tests and closes it after them; the returned object is filled
 * in when it has started (read its fields inside tests, not at module level).
 */
export function useOAuthFixture(opts: Parameters<typeof startOAuthFixture>[0] = {}): OAuthFixture {
  const f = {} as OAuthFixture;
  beforeAll(async () => {
    Object.assign(f, await startOAuthFixture(opts));
  }, 60_000);
  afterAll(() => f.close?.());
  return f;
}

export async function startOAuthFixture(opts: { env?: Record<string, string>; manifests?: (base: string) => Record<string, string> } = {}): Promise<OAuthFixture> {
  const auth = await startAuthServer();
  const api = await startProviderApi(auth);
  const dir = acmeConnectorsDir(auth, api);
  for (const [name, text] of Object.entries(opts.manifests?.(acmeManifest(auth, api)) ?? {})) fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
  const env = { PLUGBOARD_CONNECTORS_DIR: dir, ...OAUTH_ENV, ...opts.env };
  const tp = await startTestPlatform(env);
  tp.platform.config.publicUrl = tp.url; // the redirect URI needs the port the server got
  return {
    auth, api, tp, env,
    close: async () => {
      await tp.close();
      await api.close();
      await auth.close();
    },
  };
}
