// Brute-force throttling: the presented credential is checked first, so the right one passes from any
// address, also one over its budget; only guesses count (not an issued key or token that expired or
// was revoked), per client address and per (OAuth client id, address); past the budget FAILURES are
// answered 429 with Retry-After instead of 401. X-Forwarded-For is the client's address only with
// PLUGBOARD_TRUST_PROXY. Requests leave from different loopback addresses (127.0.0.x) so each test
// has addresses of its own.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { AUTH_FAILURE_BUDGETS } from '../../runtime/access/auth-throttle.ts';
import { TOKEN_TTL_SECONDS } from '../../runtime/access/oauth.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let pb: TestPlatform;
/** Behind a proxy on loopback (PLUGBOARD_TRUST_PROXY=loopback), with a metrics token. */
let proxied: TestPlatform;
let admin: { id: string; key: string };
let proxiedAdmin: { id: string; key: string };
const agents: Agent[] = [];

beforeAll(async () => {
  pb = await startTestPlatform();
  proxied = await startTestPlatform({ PLUGBOARD_TRUST_PROXY: 'loopback', PLUGBOARD_METRICS_TOKEN: METRICS_TOKEN });
  admin = await pb.tenant('Throttle Co');
  proxiedAdmin = await proxied.tenant('Proxied Co');
  for (const [p, t] of [[pb, admin], [proxied, proxiedAdmin]] as const) {
    await p.platform.store.tenants.update(t.id, { rate_limits: { per_hour: 100_000, burst: 10_000, burst_window_seconds: 60 } });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await pb?.close();
  await proxied?.close();
});

/** fetch from a chosen loopback source address. */
function from(address: string, server: () => TestPlatform = () => pb) {
  const agent = new Agent({ localAddress: address });
  agents.push(agent);
  return async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const root = path.startsWith('/metrics');
    const res = await undiciFetch(`${server().url}${root ? '' : '/api/v1'}${path}`, { ...init, dispatcher: agent });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as any };
  };
}

const perAddress = AUTH_FAILURE_BUDGETS.perAddress.failures;
const perClient = AUTH_FAILURE_BUDGETS.perClientId.failures;
const bearer = (key: string, extra: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${key}`, ...extra } });
const guess = (i: number) => `pb_${String(i).padStart(32, 'x')}`;

function expectThrottled(r: { status: number; headers: Headers; body: any }) {
  expect(r.status).toBe(429);
  const retryAfter = Number(r.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(AUTH_FAILURE_BUDGETS.perAddress.windowSeconds);
}

describe('failed API key and token authentication', () => {
  it('answers failures past the budget 429 with Retry-After, while the right key still works from that address and any other', async () => {
    const attacker = from('127.0.0.2');
    const statuses: number[] = [];
    for (let i = 0; i < perAddress; i++) statuses.push((await attacker('/integrations', bearer(guess(i)))).status);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const throttled = await attacker('/integrations', bearer('pb_yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'));
    expectThrottled(throttled);
    expect(throttled.body).toMatchObject({ success: false, code: 'auth_throttled' });
    // the legitimate key is checked first: it gets through from the blocked address, both ways of presenting it
    expect((await attacker('/integrations', bearer(admin.key))).status).toBe(200);
    expect((await attacker('/integrations', { headers: { 'x-api-key': admin.key } })).status).toBe(200);
    // and failures stay throttled there
    expectThrottled(await attacker('/integrations', bearer(guess(999))));
    // another address: the right key works, a wrong one is a plain 401
    const elsewhere = from('127.0.0.3');
    expect((await elsewhere('/integrations', bearer(admin.key))).status).toBe(200);
    expect((await elsewhere('/integrations', bearer(guess(1)))).status).toBe(401);
  });

  it('counts forged access tokens too', async () => {
    const attacker = from('127.0.0.4');
    for (let i = 0; i < perAddress; i++) expect((await attacker('/integrations', bearer(`eyJhbGciOiJIUzI1NiJ9.eyJ4Ijo${i}fQ.c2ln`))).status).toBe(401);
    expectThrottled(await attacker('/integrations', bearer('eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln')));
    expect((await attacker('/integrations', bearer(admin.key))).status).toBe(200);
  });

  it('does not count requests that present no credential, nor successful ones', async () => {
    const client = from('127.0.0.5');
    for (let i = 0; i < perAddress + 5; i++) expect((await client('/integrations')).status).toBe(401);
    for (let i = 0; i < perAddress + 5; i++) expect((await client('/integrations', bearer(admin.key))).status).toBe(200);
    expect((await client('/integrations', bearer(guess(1)))).status).toBe(401);
  });

  it('does not count revoked or expired keys and tokens (workers behind one NAT whose tokens expire are not guessing)', async () => {
    const nat = from('127.0.0.8');
    const created = await pb.api(admin.key, 'POST', '/oauth/clients', { name: 'worker', scopes: ['read'] });
    expect(created.status).toBe(201);
    const { client_id, client_secret } = created.body.data as { client_id: string; client_secret: string };
    const tokenForm = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}` };
    const issue = async () => {
      const r = await nat('/oauth/token', tokenForm);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.access_token as string;
    };

    // expired: a validly signed token presented after its hour
    const expiring = await issue();
    expect((await nat('/integrations', bearer(expiring))).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + (TOKEN_TTL_SECONDS + 60) * 1000);
      for (let i = 0; i < perAddress + 5; i++) expect((await nat('/integrations', bearer(expiring))).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }

    // revoked: a token, and an API key
    const revoked = await issue();
    const rv = await pb.api(admin.key, 'POST', '/oauth/revoke', `token=${revoked}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(rv.status).toBe(200);
    const key = await pb.api(admin.key, 'POST', '/api-keys', { name: 'old worker', scopes: ['read'] });
    expect(key.status).toBe(201);
    expect((await pb.api(admin.key, 'DELETE', `/api-keys/${key.body.data.id}`)).status).toBeLessThan(300);
    for (let i = 0; i < perAddress + 5; i++) {
      expect((await nat('/integrations', bearer(revoked))).status).toBe(401);
      expect((await nat('/integrations', bearer(key.body.data.key))).status).toBe(401);
    }

    // none of that was counted: a wrong key is still a plain 401, and the right credentials work
    expect((await nat('/integrations', bearer(guess(7)))).status).toBe(401);
    expect((await nat('/integrations', bearer(admin.key))).status).toBe(200);
    await issue();
  });
});

describe('failed client authentication at /oauth/token', () => {
  const form = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const tokenFor = (id: string, secret: string) => form(`grant_type=client_credentials&client_id=${id}&client_secret=${secret}`);

  async function newClient() {
    const r = await pb.api(admin.key, 'POST', '/oauth/clients', { name: 'partner', scopes: ['read'] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.data as { client_id: string; client_secret: string };
  }

  it('throttles wrong secrets per (client id, address) with 429 temporarily_unavailable; the right secret works from that address and elsewhere', async () => {
    const c = await newClient();
    const attacker = from('127.0.0.6');
    for (let i = 0; i < perClient; i++) {
      const r = await attacker('/oauth/token', tokenFor(c.client_id, `guess${i}`));
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_client');
    }
    const throttled = await attacker('/oauth/token', tokenFor(c.client_id, 'guess-again'));
    expectThrottled(throttled);
    expect(throttled.body.error).toBe('temporarily_unavailable');
    const ok = await attacker('/oauth/token', tokenFor(c.client_id, c.client_secret));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.access_token).toBeTruthy();
    const elsewhere = from('127.0.0.7');
    expect((await elsewhere('/oauth/token', tokenFor(c.client_id, c.client_secret))).status).toBe(200);
    expect((await elsewhere('/oauth/token', tokenFor(c.client_id, 'guess-elsewhere'))).status).toBe(401);
  });

  it('cannot lock a client out by its public client_id: 50 wrong secrets from 3 addresses leave the real client working everywhere', async () => {
    const target = await newClient();
    const attackers = ['127.0.0.10', '127.0.0.11', '127.0.0.12'].map((a) => from(a));
    for (let sent = 0; sent < 50; sent++) {
      const r = await attackers[sent % 3]!('/oauth/token', tokenFor(target.client_id, `guess${sent}`));
      expect([401, 429]).toContain(r.status);
    }
    expect((await from('127.0.0.13')('/oauth/token', tokenFor(target.client_id, target.client_secret))).status).toBe(200);
    for (const attacker of attackers) expect((await attacker('/oauth/token', tokenFor(target.client_id, target.client_secret))).status).toBe(200);
  });
});

describe('the client address behind a proxy', () => {
  it('ignores a spoofed X-Forwarded-For when PLUGBOARD_TRUST_PROXY is not set', async () => {
    const attacker = from('127.0.0.20');
    for (let i = 0; i < perAddress; i++) expect((await attacker('/integrations', bearer(guess(i), { 'x-forwarded-for': `203.0.113.${i + 1}` }))).status).toBe(401);
    expectThrottled(await attacker('/integrations', bearer(guess(99), { 'x-forwarded-for': '198.51.100.77' })));
  });

  it('honours X-Forwarded-For from a trusted proxy: each client behind it has its own budget', async () => {
    const proxy = from('127.0.0.21', () => proxied);
    for (let i = 0; i < perAddress; i++) expect((await proxy('/integrations', bearer(guess(i), { 'x-forwarded-for': '203.0.113.1' }))).status).toBe(401);
    expectThrottled(await proxy('/integrations', bearer(guess(99), { 'x-forwarded-for': '203.0.113.1' })));
    expect((await proxy('/integrations', bearer(guess(100), { 'x-forwarded-for': '203.0.113.2' }))).status).toBe(401);
    expect((await proxy('/integrations', bearer(proxiedAdmin.key, { 'x-forwarded-for': '203.0.113.1' }))).status).toBe(200);
  });
});

describe('wrong PLUGBOARD_METRICS_TOKEN guesses', () => {
  it('are throttled per address the same way; the right token always works', async () => {
    const scraper = from('127.0.0.22', () => proxied);
    for (let i = 0; i < perAddress; i++) expect((await scraper('/metrics', bearer(`wrong-metrics-token-${i}`))).status).toBe(401);
    const throttled = await scraper('/metrics', bearer('wrong-metrics-token-again'));
    expectThrottled(throttled);
    expect(throttled.body).toMatchObject({ success: false, code: 'auth_throttled' });
    const ok = await undiciFetch(`${proxied.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, dispatcher: agents.at(-1) });
    expect(ok.status).toBe(200);
    await ok.text();
    expect((await from('127.0.0.23', () => proxied)('/metrics', bearer('wrong-metrics-token-x'))).status).toBe(401);
  });
});

describe('lowered budgets from the environment', () => {
  it('PLUGBOARD_AUTH_FAILURES_PER_ADDRESS=3 and PLUGBOARD_AUTH_FAILURE_WINDOW=90s: the 4th guess is 429 with Retry-After within 90 s', async () => {
    const low = await startTestPlatform({ PLUGBOARD_AUTH_FAILURES_PER_ADDRESS: '3', PLUGBOARD_AUTH_FAILURE_WINDOW: '90s' });
    try {
      const t = await low.tenant('Low Budget Co');
      const attacker = from('127.0.0.40', () => low);
      for (let i = 0; i < 3; i++) expect((await attacker('/integrations', bearer(guess(i)))).status).toBe(401);
      const throttled = await attacker('/integrations', bearer(guess(3)));
      expect(throttled.status).toBe(429);
      const retryAfter = Number(throttled.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(90);
      expect((await attacker('/integrations', bearer(t.key))).status).toBe(200);
    } finally {
      await low.close();
    }
  }, 60_000);
});
