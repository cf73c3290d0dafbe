// API access: OAuth2 client credentials with a third-party client library, API key scopes and
// expiry, rate limits, audit log and usage, hardening.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { hkdfSync, randomBytes } from 'node:crypto';
import { ClientCredentials } from 'simple-oauth2';
import { SignJWT } from 'jose';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sqlQuery } from '../helpers/store.ts';
import { assertScopesDeclared, loadOpenApiDocument } from '../../runtime/api/app.ts';
import { hashApiKey } from '../../runtime/access/api-keys.ts';

let pb: TestPlatform;
let admin: { id: string; key: string };
const secretsSeen: string[] = [];

beforeAll(async () => {
  pb = await startTestPlatform();
  admin = await pb.tenant('Access Co');
  secretsSeen.push(admin.key);
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

async function newClient(scopes: string[]) {
  const r = await pb.api(admin.key, 'POST', '/oauth/clients', { name: 'partner', scopes });
  expect(r.status, r.text).toBe(201);
  secretsSeen.push(r.body.data.client_secret);
  return r.body.data as { id: string; client_id: string; client_secret: string };
}

function oauthClient(c: { client_id: string; client_secret: string }, authorizationMethod: 'header' | 'body' = 'header') {
  return new ClientCredentials({
    client: { id: c.client_id, secret: c.client_secret },
    auth: { tokenHost: pb.url, tokenPath: '/api/v1/oauth/token' },
    options: { authorizationMethod },
  });
}

/** Signs a token the way the server does, with chosen claims, to build invalid ones. */
async function forge(claims: { aud?: string; exp?: number; key?: Uint8Array; cid: string; tenant: string }) {
  const master = pb.platform.keyring.active;
  const key = claims.key ?? new Uint8Array(hkdfSync('sha256', master.key, Buffer.from('plugboard'), Buffer.from('oauth-access-token-signing'), 32));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'read', tenant: claims.tenant, cid: claims.cid })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: master.id })
    .setIssuer('plugboard')
    .setAudience(claims.aud ?? 'plugboard-api')
    .setSubject('x')
    .setJti(`j${now}${Math.random()}`)
    .setIssuedAt(now - 7200)
    .setExpirationTime(claims.exp ?? now + 600)
    .sign(key);
}

describe('OAuth2 client credentials', () => {
  it('issues a token to a standard OAuth2 client library that then calls the API', async () => {
    const c = await newClient(['read']);
    const token = await oauthClient(c).getToken({ scope: 'read' });
    expect(token.token['token_type']).toBe('Bearer');
    expect(token.token['expires_in']).toBe(3600);
    const r = await pb.api(token.token['access_token'] as string, 'GET', '/integrations');
    expect(r.status, r.text).toBe(200);
    // the read-only token may not write
    expect((await pb.api(token.token['access_token'] as string, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: '01aaaaaaaaaaaaaaaaaaaaaaaa' })).status).toBe(403);
    // client authentication in the body works too
    const viaBody = await oauthClient(c, 'body').getToken({});
    expect((await pb.api(viaBody.token['access_token'] as string, 'GET', '/integrations')).status).toBe(200);
  });

  it('answers RFC 6749 §5.2 errors', async () => {
    const c = await newClient(['read']);
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${pb.url}/api/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const wrong = await post(`grant_type=client_credentials&client_id=${c.client_id}&client_secret=nope`);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    const scope = await post(`grant_type=client_credentials&client_id=${c.client_id}&client_secret=${c.client_secret}&scope=admin`);
    expect(scope.status).toBe(400);
    expect(await scope.json()).toMatchObject({ error: 'invalid_scope' });
    const grant = await post(`grant_type=password&client_id=${c.client_id}&client_secret=${c.client_secret}`);
    expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' });
    expect(grant.headers.get('cache-control')).toBe('no-store');
    const basicWrong = await post('grant_type=client_credentials', { authorization: `Basic ${Buffer.from(`${c.client_id}:bad`).toString('base64')}` });
    expect(basicWrong.status).toBe(401);
    expect(basicWrong.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('refuses expired, wrongly signed, wrong-audience and revoked tokens, and tokens of a deleted client', async () => {
    const c = await newClient(['read']);
    const good = await forge({ cid: c.id, tenant: admin.id });
    expect((await pb.api(good, 'GET', '/integrations')).status).toBe(200); // the forger itself is faithful
    const expired = await forge({ cid: c.id, tenant: admin.id, exp: Math.floor(Date.now() / 1000) - 10 });
    expect((await pb.api(expired, 'GET', '/integrations')).status).toBe(401);
    const badSig = await forge({ cid: c.id, tenant: admin.id, key: new Uint8Array(randomBytes(32)) });
    expect((await pb.api(badSig, 'GET', '/integrations')).status).toBe(401);
    const badAud = await forge({ cid: c.id, tenant: admin.id, aud: 'someone-else' });
    expect((await pb.api(badAud, 'GET', '/integrations')).status).toBe(401);

    const t1 = (await oauthClient(c).getToken({})).token['access_token'] as string;
    expect((await pb.api(t1, 'GET', '/integrations')).status).toBe(200);
    const revoke = await fetch(`${pb.url}/api/v1/oauth/revoke`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${t1}` });
    expect(revoke.status).toBe(200);
    expect((await pb.api(t1, 'GET', '/integrations')).status).toBe(401);

    const t2 = (await oauthClient(c).getToken({})).token['access_token'] as string;
    expect((await pb.api(admin.key, 'DELETE', `/oauth/clients/${c.id}`)).status).toBe(200);
    expect((await pb.api(t2, 'GET', '/integrations')).status).toBe(401);
    await expect(oauthClient(c).getToken({})).rejects.toThrow();
  });
});

describe('OAuth2 details (RFC 6749, RFC 7009)', () => {
  const form = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${pb.url}/api/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const revoke = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${pb.url}/api/v1/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const basic = (c: { client_id: string; client_secret: string }, secret = c.client_secret) => ({ authorization: `Basic ${Buffer.from(`${c.client_id}:${secret}`).toString('base64')}` });

  it('gives an admin client a narrower scope when it asks for one', async () => {
    const c = await newClient(['admin']);
    const r = await form(`grant_type=client_credentials&scope=read&client_id=${c.client_id}&client_secret=${c.client_secret}`);
    expect(r.status).toBe(200);
    const token = (await r.json()) as { access_token: string; scope: string };
    expect(token.scope).toBe('read');
    expect((await pb.api(token.access_token, 'GET', '/integrations')).status).toBe(200);
    expect((await pb.api(token.access_token, 'POST', '/api-keys', { name: 'x', scopes: ['read'] })).status).toBe(403);
    // a read client still cannot ask for more
    const reader = await newClient(['read']);
    expect(await (await form(`grant_type=client_credentials&scope=write&client_id=${reader.client_id}&client_secret=${reader.client_secret}`)).json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('takes form-encoded requests only: JSON is invalid_request, even with good credentials', async () => {
    const c = await newClient(['read']);
    const r = await fetch(`${pb.url}/api/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret }) });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'invalid_request' });
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('lets a client revoke its own token with its own credentials (Basic or in the form), and only its own', async () => {
    const c = await newClient(['read']);
    const other = await newClient(['read']);
    const tokenOf = async (x: { client_id: string; client_secret: string }) => (await oauthClient(x).getToken({})).token['access_token'] as string;
    const t1 = await tokenOf(c);
    const r1 = await revoke(`token=${t1}`, basic(c));
    expect(r1.status).toBe(200);
    expect((await pb.api(t1, 'GET', '/integrations')).status).toBe(401);
    const t2 = await tokenOf(c);
    expect((await revoke(`token=${t2}&client_id=${c.client_id}&client_secret=${c.client_secret}`)).status).toBe(200);
    expect((await pb.api(t2, 'GET', '/integrations')).status).toBe(401);
    // another client's token is answered like an unknown one and keeps working
    const theirs = await tokenOf(other);
    expect((await revoke(`token=${theirs}`, basic(c))).status).toBe(200);
    expect((await pb.api(theirs, 'GET', '/integrations')).status).toBe(200);
    // a wrong secret is invalid_client in RFC 6749 form
    const wrong = await revoke(`token=${theirs}`, basic(other, 'nope'));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    expect((await pb.api(theirs, 'GET', '/integrations')).status).toBe(200);
    // no credentials at all: 401
    expect((await revoke(`token=${theirs}`)).status).toBe(401);
  });

  it('audits a revocation only when a token was revoked (200 either way)', async () => {
    const c = await newClient(['read']);
    const revokedEntries = async () => (await pb.api(admin.key, 'GET', '/audit-log?action=oauth_token.revoked&per_page=100')).body.meta.total as number;
    const before = await revokedEntries();
    const token = (await oauthClient(c).getToken({})).token['access_token'] as string;
    expect((await revoke(`token=${token}`, basic(c))).status).toBe(200);
    expect(await revokedEntries()).toBe(before + 1);
    // Again (already revoked), a made-up token, a malformed one: 200, nothing revoked, nothing audited.
    expect((await revoke(`token=${token}`, basic(c))).status).toBe(200);
    expect((await revoke(`token=${token.slice(0, -4)}AAAA`, basic(c))).status).toBe(200);
    expect((await revoke('token=not-a-token', basic(c))).status).toBe(200);
    const admins = await fetch(`${pb.url}/api/v1/oauth/revoke`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=not-a-token' });
    expect(admins.status).toBe(200);
    expect(await revokedEntries()).toBe(before + 1);
  });
});

describe('API keys and scopes', () => {
  it('refuses key and client names with NUL, CR/LF, lone surrogates, bidi overrides, zero-width characters or only spaces, naming the field', async () => {
    for (const name of ['a\u0000b', 'line\r\nInjected: yes', 'half \ud800 pair', '\u2028', 'invoice\u202Egnp.exe', 'ad\u200Bmin', '   ', '\u3000']) {
      for (const p of ['/api-keys', '/oauth/clients']) {
        const r = await pb.api(admin.key, 'POST', p, { name, scopes: ['read'] });
        expect(r.status, `${p} ${JSON.stringify(name)}`).toBe(422);
        expect(r.body.errors).toEqual({ name: ['must be printable text, not blank, without control or invisible format characters, line breaks or lone surrogates'] });
      }
    }
    for (const name of ['CI 🚀 — Zoë', '東京の請求', '👩‍💻 deploy', 'مفتاح الإنتاج']) {
      const key = await pb.api(admin.key, 'POST', '/api-keys', { name, scopes: ['read'] });
      expect(key.status, name).toBe(201);
      expect(key.body.data.name).toBe(name);
      secretsSeen.push(key.body.data.key);
      const client = await pb.api(admin.key, 'POST', '/oauth/clients', { name, scopes: ['read'] });
      expect(client.status, name).toBe(201);
      secretsSeen.push(client.body.data.client_secret);
    }
  });

  it('a read key gets 403 on POST /integrations; a deleted key stops working at once', async () => {
    const created = await pb.api(admin.key, 'POST', '/api-keys', { name: 'reporting', scopes: ['read'] });
    expect(created.status, created.text).toBe(201);
    const key = created.body.data.key as string;
    secretsSeen.push(key);
    expect(key).toMatch(/^pb_[0-9A-Za-z]{32}$/);
    expect((await pb.api(key, 'GET', '/integrations')).status).toBe(200);
    const denied = await pb.api(key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_0000000000' } });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('insufficient_scope');
    const list = await pb.api(admin.key, 'GET', '/api-keys');
    expect(list.text).not.toContain(key);
    expect(list.body.data.find((k: any) => k.id === created.body.data.id)).toMatchObject({ name: 'reporting', prefix: key.slice(0, 7) });
    expect((await pb.api(admin.key, 'DELETE', `/api-keys/${created.body.data.id}`)).status).toBe(200);
    expect((await pb.api(key, 'GET', '/integrations')).status).toBe(401);
  });

  it('an expired key gets 401; expiry must be in the future', async () => {
    expect((await pb.api(admin.key, 'POST', '/api-keys', { name: 'old', scopes: ['read'], expires_at: '2001-01-01T00:00:00Z' })).status).toBe(422);
    const soon = new Date(Date.now() + 1500).toISOString();
    const created = await pb.api(admin.key, 'POST', '/api-keys', { name: 'short', scopes: ['read'], expires_at: soon });
    const key = created.body.data.key as string;
    secretsSeen.push(key);
    expect((await pb.api(key, 'GET', '/integrations')).status).toBe(200);
    await pb.waitFor(async () => Date.now() > Date.parse(soon) + 50, 'expiry');
    const r = await pb.api(key, 'GET', '/integrations');
    expect(r.status).toBe(401);
  });

  it('stores only the hash of a key, and records last use in batches', async () => {
    const created = await pb.api(admin.key, 'POST', '/api-keys', { name: 'hash', scopes: ['read'] });
    const key = created.body.data.key as string;
    secretsSeen.push(key);
    const row = await pb.platform.store.apiKeys.findByHash(hashApiKey(key));
    expect(row?.key_hash).toBe(hashApiKey(key));
    await pb.api(key, 'GET', '/integrations');
    await pb.platform.lastUsed.flush();
    expect((await pb.platform.store.apiKeys.get(admin.id, created.body.data.id))?.last_used_at).toBeTruthy();
  });

  it('every operation in schemas/openapi.yaml declares a scope, and a route without one is refused', () => {
    const doc = loadOpenApiDocument();
    expect(() => assertScopesDeclared(doc)).not.toThrow();
    const broken = structuredClone(doc);
    delete broken.paths['/integrations'].get['x-required-scope'];
    expect(() => assertScopesDeclared(broken)).toThrow(/GET \/integrations declares no valid x-required-scope/);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After and X-RateLimit-* past a tiny budget, recovers after the window, and keeps tenants apart', async () => {
    const tiny = await pb.tenant('Tiny Tier');
    const other = await pb.tenant('Other Tenant');
    await pb.platform.store.tenants.update(tiny.id, { rate_limits: { per_hour: 1000, burst: 3, burst_window_seconds: 2 } });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await pb.api(tiny.key, 'GET', '/integrations'));
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    // Limit, Remaining and Reset describe one window, the one that binds (here the 2-second burst of 3)
    const window = (r: { headers: Headers }) => ['limit', 'remaining', 'reset'].map((h) => Number(r.headers.get(`x-ratelimit-${h}`)));
    expect(window(results[0]!).slice(0, 2)).toEqual([3, 2]);
    expect(window(results[1]!).slice(0, 2)).toEqual([3, 1]);
    for (const r of results.slice(0, 3)) {
      expect(window(r)[2]).toBeGreaterThanOrEqual(1);
      expect(window(r)[2]).toBeLessThanOrEqual(2);
    }
    const limited = results[3]!;
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(window(limited)).toEqual([3, 0, retryAfter]);
    // another tenant is not affected
    expect((await pb.api(other.key, 'GET', '/integrations')).status).toBe(200);
    // after the window the tenant can call again
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expect((await pb.api(tiny.key, 'GET', '/integrations')).status).toBe(200);
  });
});

describe('rate limit headers', () => {
  it('report the hourly window when it is the one that binds, and keep Reset the same kind of number', async () => {
    const t = await pb.tenant('Hourly Tier');
    await pb.platform.store.tenants.update(t.id, { rate_limits: { per_hour: 3, burst: 100, burst_window_seconds: 60 } });
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await pb.api(t.key, 'GET', '/integrations'));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(rs.map((r) => r.headers.get('x-ratelimit-limit'))).toEqual(['3', '3', '3', '3']);
    expect(rs.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    for (const r of rs) expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThan(60); // the hour, not the burst minute
    expect(rs[3]!.headers.get('x-ratelimit-reset')).toBe(rs[3]!.headers.get('retry-after'));
  });
});

describe('audit log and usage', () => {
  it('records who changed what (field names, not values) and reports usage, with no secret anywhere', async () => {
    const t = await pb.tenant('Audited');
    secretsSeen.push(t.key);
    const created = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_AuditSecret000001' }, metadata: { label: 'x' } }, { 'x-request-id': 'audit-req-1' });
    expect(created.status).toBe(201);
    secretsSeen.push('sk_test_AuditSecret000001');
    await pb.api(t.key, 'PATCH', `/integrations/${created.body.data.id}`, { credentials: { secret_key: 'sk_test_AuditSecret000002' } });
    secretsSeen.push('sk_test_AuditSecret000002');
    await pb.api(t.key, 'POST', `/integrations/${created.body.data.id}/disable`);
    const key = await pb.api(t.key, 'POST', '/api-keys', { name: 'ci', scopes: ['read'] });
    secretsSeen.push(key.body.data.key);

    const log = await pb.api(t.key, 'GET', '/audit-log');
    expect(log.status).toBe(200);
    const actions = log.body.data.map((e: any) => e.action);
    expect(actions).toEqual(['api_key.created', 'integration.disabled', 'integration.updated', 'integration.created']);
    const createdEntry = log.body.data.find((e: any) => e.action === 'integration.created');
    expect(createdEntry).toMatchObject({ target_type: 'integration', target_id: created.body.data.id, request_id: 'audit-req-1', changed_fields: ['credentials.secret_key', 'metadata.label', 'provider'] });
    expect(createdEntry.actor).toMatch(/^key:/);
    const filtered = await pb.api(t.key, 'GET', `/audit-log?action=integration.updated`);
    expect(filtered.body.data).toHaveLength(1);
    expect(filtered.body.data[0].changed_fields).toEqual(['credentials.secret_key']);

    const usage = await pb.api(t.key, 'GET', '/usage?group_by=route');
    expect(usage.status).toBe(200);
    const routes = usage.body.data.groups.map((g: any) => g.route);
    expect(routes).toEqual(expect.arrayContaining(['POST /api/v1/integrations', 'PATCH /api/v1/integrations/{id}', 'GET /api/v1/audit-log']));
    expect(usage.body.data.totals.requests).toBeGreaterThanOrEqual(6);
    expect(usage.body.data.totals.latency_ms.p50).toBeGreaterThan(0);
    const byStatus = await pb.api(t.key, 'GET', '/usage?group_by=status');
    expect(byStatus.body.data.groups.map((g: any) => g.status)).toEqual(expect.arrayContaining(['200', '201']));
    const byKey = await pb.api(t.key, 'GET', '/usage?group_by=key');
    expect(byKey.body.data.groups[0].key).toMatch(/^key:/);

    for (const text of [log.text, usage.text, byKey.text]) for (const s of secretsSeen) expect(text.includes(s)).toBe(false);
  });

  it('refuses to change or delete audit entries at the database level', async () => {
    await expect(sqlQuery(pb.platform.store, "UPDATE audit_log SET action = 'x'")).rejects.toThrow(/append-only/);
    await expect(sqlQuery(pb.platform.store, 'DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });
});

describe('hardening', () => {
  it('requires JSON bodies (415), limits size (413) and sends security headers', async () => {
    const r = await fetch(`${pb.url}/api/v1/integrations`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'text/plain' }, body: 'provider=stripe' });
    expect(r.status).toBe(415);
    const big = await pb.api(admin.key, 'POST', '/integrations', { provider: 'stripe', credentials: { x: 'y'.repeat(1_200_000) } });
    expect(big.status).toBe(413);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-powered-by')).toBeNull();
  });

  it('keeps every secret of this suite out of the logs and the database', async () => {
    const database = await pb.dumpDatabase();
    expect(database).toContain(admin.id); // the search sees stored rows
    for (const [name, content] of Object.entries({ database, log: fs.readFileSync(pb.logFile, 'latin1') })) {
      for (const s of secretsSeen) expect(content.includes(s), `the ${name} holds a secret`).toBe(false);
    }
  });
});
