// Brute-force throttling: failed authentications are counted per client address (and per client id
// at the OAuth endpoints); past the budget the answer is 429 with Retry-After before the credential
// is checked, while the same credentials keep working from other addresses. Requests leave from
// different loopback addresses (127.0.0.x) so each test has addresses of its own.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { AUTH_FAILURE_BUDGETS } from '../../runtime/access/auth-throttle.ts';

let pb: TestPlatform;
let admin: { id: string; key: string };
const agents: Agent[] = [];

beforeAll(async () => {
  pb = await startTestPlatform();
  admin = await pb.tenant('Throttle Co');
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await pb?.close();
});

/** fetch from a chosen loopback source address. */
function from(address: string) {
  const agent = new Agent({ localAddress: address });
  agents.push(agent);
  return async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const res = await undiciFetch(`${pb.url}/api/v1${path}`, { ...init, dispatcher: agent });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as any };
  };
}

const perAddress = AUTH_FAILURE_BUDGETS.perAddress.failures;

describe('failed API key and token authentication', () => {
  it('answers 429 with Retry-After once an address has used up its failures, while the right key still works from another address', async () => {
    const attacker = from('127.0.0.2');
    const statuses: number[] = [];
    for (let i = 0; i < perAddress; i++) {
      const guess = `pb_${String(i).padStart(32, 'x')}`;
      statuses.push((await attacker('/integrations', { headers: { authorization: `Bearer ${guess}` } })).status);
    }
    expect(statuses.every((s) => s === 401)).toBe(true);
    const throttled = await attacker('/integrations', { headers: { authorization: 'Bearer pb_yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' } });
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({ success: false, code: 'auth_throttled' });
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(AUTH_FAILURE_BUDGETS.perAddress.windowSeconds);
    // the address cannot tell a right guess from a wrong one any more, nor escape by claiming another address
    expect((await attacker('/integrations', { headers: { authorization: `Bearer ${admin.key}` } })).status).toBe(429);
    expect((await attacker('/integrations', { headers: { 'x-api-key': admin.key, 'x-forwarded-for': '203.0.113.9' } })).status).toBe(429);
    // the right key works from any other address
    const elsewhere = await from('127.0.0.3')('/integrations', { headers: { authorization: `Bearer ${admin.key}` } });
    expect(elsewhere.status).toBe(200);
  });

  it('counts invalid access tokens too', async () => {
    const attacker = from('127.0.0.4');
    for (let i = 0; i < perAddress; i++) expect((await attacker('/integrations', { headers: { authorization: `Bearer eyJhbGciOiJIUzI1NiJ9.eyJ4Ijo${i}fQ.c2ln` } })).status).toBe(401);
    expect((await attacker('/integrations', { headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln' } })).status).toBe(429);
  });

  it('does not count requests that present no credential, nor successful ones', async () => {
    const client = from('127.0.0.5');
    for (let i = 0; i < perAddress + 5; i++) expect((await client('/integrations')).status).toBe(401);
    await pb.platform.store.tenants.update(admin.id, { rate_limits: { per_hour: 100_000, burst: 10_000, burst_window_seconds: 60 } });
    for (let i = 0; i < perAddress + 5; i++) expect((await client('/integrations', { headers: { authorization: `Bearer ${admin.key}` } })).status).toBe(200);
  });
});

describe('failed client authentication at /oauth/token', () => {
  const form = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

  async function newClient() {
    const r = await pb.api(admin.key, 'POST', '/oauth/clients', { name: 'partner', scopes: ['read'] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.data as { client_id: string; client_secret: string };
  }

  it('throttles one address guessing secrets (429 temporarily_unavailable with Retry-After); the right secret works from elsewhere', async () => {
    const c = await newClient();
    const attacker = from('127.0.0.6');
    for (let i = 0; i < perAddress; i++) {
      const r = await attacker('/oauth/token', form(`grant_type=client_credentials&client_id=${c.client_id}&client_secret=guess${i}`));
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_client');
    }
    const throttled = await attacker('/oauth/token', form(`grant_type=client_credentials&client_id=${c.client_id}&client_secret=${c.client_secret}`));
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toBe('temporarily_unavailable');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    const ok = await from('127.0.0.7')('/oauth/token', form(`grant_type=client_credentials&client_id=${c.client_id}&client_secret=${c.client_secret}`));
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toBeTruthy();
  });

  it('throttles one client id guessed from many addresses, without blocking other clients', async () => {
    const target = await newClient();
    const other = await newClient();
    const budget = AUTH_FAILURE_BUDGETS.perClientId.failures;
    let sent = 0;
    for (let a = 10; sent < budget; a++) {
      const attacker = from(`127.0.0.${a}`);
      for (let i = 0; i < perAddress - 1 && sent < budget; i++, sent++) {
        expect((await attacker('/oauth/token', form(`grant_type=client_credentials&client_id=${target.client_id}&client_secret=guess${sent}`))).status).toBe(401);
      }
    }
    const fresh = from('127.0.0.40');
    const refused = await fresh('/oauth/token', form(`grant_type=client_credentials&client_id=${target.client_id}&client_secret=${target.client_secret}`));
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect((await fresh('/oauth/token', form(`grant_type=client_credentials&client_id=${other.client_id}&client_secret=${other.client_secret}`))).status).toBe(200);
  });
});
