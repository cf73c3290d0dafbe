// Integrations over real HTTP: metadata is the tenant's free-form object (never interpreted), the
// environment is its own field and picks the base URL, keys the system sets are kept apart and
// refused on write, and a retried verification shows why it is retried (DESIGN §3, §10).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestPlatform, connectorsDirWith, type TestPlatform } from '../helpers/platform.ts';
import { startServer } from '../helpers/http.ts';

type Loopback = Awaited<ReturnType<typeof startServer>>;

let live: Loopback;
let sandbox: Loopback;
let closedPort: number;
let pb: TestPlatform;
let tenant: { id: string; key: string };

/** A port nothing listens on (bound once, then closed). */
async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const envyManifest = (urls: { live: string; sandbox: string; down: string }) => `
schema_version: 1
name: envy
display_name: Envy
category: echeck
environments: { live: "${urls.live}", sandbox: "${urls.sandbox}", down: "${urls.down}" }
auth: { type: none }
credential_schema: {}
verify:
  request: { method: GET, path: /ping }
capabilities:
  verify_bank_account:
    request: { method: POST, path: /auth, body: '{ "t": input.access_token }' }
    response: '{ "accounts": [] }'
`;

beforeAll(async () => {
  live = await startServer(() => ({ status: 200, body: { ok: 'live' } }));
  sandbox = await startServer(() => ({ status: 200, body: { ok: 'sandbox' } }));
  closedPort = await freePort();
  pb = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ envy: envyManifest({ live: live.url, sandbox: sandbox.url, down: `http://127.0.0.1:${closedPort}` }) }),
    PLUGBOARD_BASE_URL_STRIPE: `http://127.0.0.1:${closedPort}`,
  });
  tenant = await pb.tenant('Acme');
}, 60_000);

afterAll(async () => {
  await pb?.close();
  await Promise.all([live?.close(), sandbox?.close()]);
});

async function waitFor(id: string, what: string, ok: (data: any) => boolean, key = tenant.key, timeoutMs = 15_000) {
  return pb.waitFor(async () => {
    const r = await pb.api(key, 'GET', `/integrations/${id}`);
    return ok(r.body?.data) ? r.body.data : undefined;
  }, `integration ${id}: ${what}`, timeoutMs);
}

describe('integration metadata and environment', () => {
  it("stores the seed's own example metadata {environment: production} for Stripe, which has no environments", async () => {
    const t = await pb.tenant('Seed example');
    const created = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' }, metadata: { environment: 'production', team: { name: 'payments' } } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data).toMatchObject({ status: 'pending_verify', environment: null, metadata: { environment: 'production', team: { name: 'payments' } } });
    const got = await pb.api(t.key, 'GET', `/integrations/${created.body.data.id}`);
    expect(got.body.data.metadata).toMatchObject({ environment: 'production', team: { name: 'payments' } });
  });

  it('validates the top-level environment against the manifest (422 naming environment)', async () => {
    const t = await pb.tenant('Env checks');
    const noEnvs = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' }, environment: 'live' });
    expect(noEnvs.status).toBe(422);
    expect(noEnvs.body.errors.environment).toEqual(['stripe has no environments']);
    const unknown = await pb.api(t.key, 'POST', '/integrations', { provider: 'envy', credentials: {}, environment: 'staging' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors.environment[0]).toMatch(/must be one of: live, sandbox, down/);
    const wrongType = await pb.api(t.key, 'POST', '/integrations', { provider: 'envy', credentials: {}, environment: 7 });
    expect(wrongType.status).toBe(422);
  });

  it('uses the environment for the base URL, and never metadata.environment', async () => {
    const t = await pb.tenant('Envy user');
    live.seen.length = 0;
    sandbox.seen.length = 0;
    // metadata.environment names an environment but is only the tenant's data: the default (live) is used.
    const plain = await pb.api(t.key, 'POST', '/integrations', { provider: 'envy', credentials: {}, metadata: { environment: 'sandbox' } });
    expect(plain.status, plain.text).toBe(201);
    expect(plain.body.data).toMatchObject({ environment: null, metadata: { environment: 'sandbox' } });
    await waitFor(plain.body.data.id, 'active', (d) => d?.status === 'active', t.key);
    expect(live.seen.map((r) => r.url)).toEqual(['/ping']);
    expect(sandbox.seen).toHaveLength(0);

    // PATCH environment: another base URL, verified again there.
    const patched = await pb.api(t.key, 'PATCH', `/integrations/${plain.body.data.id}`, { environment: 'sandbox' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.data).toMatchObject({ environment: 'sandbox', status: 'pending_verify', metadata: { environment: 'sandbox' } });
    await waitFor(plain.body.data.id, 'active again', (d) => d?.status === 'active', t.key);
    expect(sandbox.seen.map((r) => r.url)).toEqual(['/ping']);

    sandbox.seen.length = 0;
    const op = await pb.api(t.key, 'POST', '/operations/verify_bank_account', { input: { access_token: 'access-sandbox-1' } });
    expect(op.status, op.text).toBe(200);
    expect(sandbox.seen.map((r) => r.url)).toEqual(['/auth']);

    const bad = await pb.api(t.key, 'PATCH', `/integrations/${plain.body.data.id}`, { environment: 'staging' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.environment).toBeDefined();
  });

  it('refuses a tenant write to a key the system sets, naming metadata.<key>', async () => {
    const t = await pb.tenant('Sneaky');
    const created = await pb.api(t.key, 'POST', '/integrations', { provider: 'envy', credentials: {}, environment: 'live', metadata: { verification_error: 'all good', label: 'x' } });
    expect(created.status).toBe(422);
    expect(created.body.errors['metadata.verification_error']).toBeDefined();
    const ok = await pb.api(t.key, 'POST', '/integrations', { provider: 'envy', credentials: {}, environment: 'live', metadata: { label: 'x' } });
    expect(ok.status).toBe(201);
    for (const key of ['next_verification_at', 'needs_reauth', 'reauth_reason']) {
      const r = await pb.api(t.key, 'PATCH', `/integrations/${ok.body.data.id}`, { metadata: { [key]: null } });
      expect(r.status, key).toBe(422);
      expect(r.body.errors[`metadata.${key}`], key).toBeDefined();
    }
    const label = await pb.api(t.key, 'PATCH', `/integrations/${ok.body.data.id}`, { metadata: { label: null, owner: 'ops' } });
    expect(label.status).toBe(200);
    expect(label.body.data.metadata).toEqual({ owner: 'ops' });
  });
});

describe('a retried verification shows why', () => {
  it('shows verification_error and next_verification_at from the first failed attempt, and clears them on success', async () => {
    const t = await pb.tenant('Offline');
    // Stripe's base URL points at a closed loopback port (PLUGBOARD_BASE_URL_STRIPE): connection refused.
    const created = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' }, metadata: { label: 'offline' } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.data.id;
    const startedAt = Date.now();
    const retrying = await waitFor(id, 'a verification error while pending', (d) => d?.status === 'pending_verify' && d.metadata.verification_error, t.key);
    expect(retrying.metadata.verification_error).toMatch(/127\.0\.0\.1|ECONNREFUSED|connect/i);
    expect(retrying.metadata.verification_error_type).toBe('network_error');
    expect(retrying.metadata.label).toBe('offline');
    const next = Date.parse(retrying.metadata.next_verification_at);
    // the first retry is due about 15 s after the first attempt
    expect(next).toBeGreaterThan(startedAt + 10_000);
    expect(next).toBeLessThan(Date.now() + 16_000);

    // The provider comes back; a check queued now succeeds and the retry state disappears.
    const back = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    await new Promise<void>((r) => back.listen(closedPort, '127.0.0.1', r));
    try {
      const queued = await pb.api(t.key, 'POST', `/integrations/${id}/verify`);
      expect(queued.status).toBe(202);
      // the check is queued now: the retry that was due later is not what comes next any more
      expect(Date.parse(queued.body.data.metadata.next_verification_at)).toBeLessThanOrEqual(Date.now());
      const active = await waitFor(id, 'active', (d) => d?.status === 'active', t.key);
      expect(active.metadata).toEqual({ label: 'offline' });
    } finally {
      back.closeAllConnections();
      await new Promise<void>((r) => back.close(() => r()));
    }
  });
});
