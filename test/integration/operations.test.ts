// Fallback, tenant isolation, request validation and access over real HTTP.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlugboardError } from '../../runtime/errors/plugboard-error.ts';
import { sqlOne, sqlQuery } from '../helpers/store.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { startTestPlatform, connectorsDirWith, secondTwilioManifest, type TestPlatform } from '../helpers/platform.ts';

let failing: SpecServer;
let healthy: SpecServer;
let pb: TestPlatform;

const creds = (digit: string) => ({ account_sid: 'AC' + digit.repeat(32), auth_token: digit.repeat(32), from_number: '+15005550006' });

beforeAll(async () => {
  // The primary answers its verify call but every message send with 500.
  failing = await startSpecServer('twilio', {
    respond: (req) => (req.operationId === 'CreateMessage' ? { status: 500, body: { code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 } } : undefined),
  });
  healthy = await startSpecServer('twilio');
  pb = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ twilio_secondary: secondTwilioManifest() }),
    PLUGBOARD_BASE_URL_TWILIO: failing.baseUrlFor('https://api.twilio.com'),
    PLUGBOARD_BASE_URL_TWILIO_SECONDARY: healthy.baseUrlFor('https://api.twilio.com'),
    PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1',
  });
}, 60_000);

afterAll(async () => {
  await pb?.close();
  await Promise.all([failing?.close(), healthy?.close()]);
});

async function activeIntegration(key: string, provider: string, credentials: Record<string, unknown>): Promise<string> {
  const r = await pb.api(key, 'POST', '/integrations', { provider, credentials });
  expect(r.status, r.text).toBe(201);
  const id = r.body.data.id as string;
  await pb.waitFor(async () => (await pb.api(key, 'GET', `/integrations/${id}`)).body.data.status === 'active', `${provider} active`);
  return id;
}

/**
 * A Twilio on loopback that forwards to the spec server; message sends are held `holdMs`, answered
 * 500 while `fail()` says so, and reported to `onSend`.
 */
async function twilioStandIn(opts: { holdMs?: number; fail?: () => boolean; onSend?: () => void }): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = req.method === 'POST' && req.url?.endsWith('/Messages.json');
      if (send) opts.onSend?.();
      const forward = () => {
        if (send && opts.fail?.()) {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 20500, message: 'Internal Server Error', status: 500 }));
          return;
        }
        const up = http.request(healthy.baseUrlFor('https://api.twilio.com') + req.url, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(chunks));
      };
      if (send && opts.holdMs) setTimeout(forward, opts.holdMs);
      else forward();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('fallback', () => {
  it('serves the operation from the fallback when the primary answers 500, and records both attempts', async () => {
    const t = await pb.tenant('Fallback Ltd');
    const primary = await activeIntegration(t.key, 'twilio', creds('a'));
    const backup = await activeIntegration(t.key, 'twilio_secondary', creds('b'));
    const rule = await pb.api(t.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: primary, fallback_integration_id: backup, is_default: true });
    expect(rule.status, rule.text).toBe(201);

    const op = await pb.api(t.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'fallback please' } });
    expect(op.status, op.text).toBe(200);
    expect(op.body.data).toMatchObject({ integration_id: backup, provider: 'twilio_secondary', fallback_used: true });
    expect(failing.requests.filter((r) => r.operationId === 'CreateMessage').length).toBeGreaterThanOrEqual(1);
    expect(failing.violations).toEqual([]);
    expect(healthy.violations).toEqual([]);

    const list = await pb.api(t.key, 'GET', `/deliveries?operation_id=${op.body.data.operation_id}`);
    expect(list.status).toBe(200);
    const byIntegration = Object.fromEntries(list.body.data.map((d: any) => [d.integration_id, d]));
    expect(byIntegration[primary]).toMatchObject({ status: 'failed', provider_status_code: 500, capability: 'send_sms', attempt: 1, error: { type: 'provider_error' } });
    expect(byIntegration[backup]).toMatchObject({ status: 'succeeded', provider_status_code: 201, attempt: 2 });
    expect(byIntegration[primary].request_id).toBe(op.headers.get('x-request-id'));
    const one = await pb.api(t.key, 'GET', `/deliveries/${byIntegration[primary].id}`);
    expect(one.body.data.error.message).toContain('Twilio answered 500');
  });

  it('does not fall back on a request the provider rejects as invalid (4xx)', async () => {
    const t = await pb.tenant('No Fallback on 4xx');
    const bad = await startSpecServer('twilio', { respond: (req) => (req.operationId === 'CreateMessage' ? { status: 400, body: { code: 21211, message: "The 'To' number is not valid.", more_info: 'x', status: 400 } } : undefined) });
    try {
      // point this tenant's primary at the 400 server through a separate connector name
      const id = await activeIntegration(t.key, 'twilio', creds('c'));
      const backup = await activeIntegration(t.key, 'twilio_secondary', creds('d'));
      await pb.api(t.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: id, fallback_integration_id: backup, is_default: true });
      pb.platform.engine; // the primary's base URL is the failing (500) server: use input that passes validation
      const op = await pb.api(t.key, 'POST', '/operations/send_sms', { input: { to: 'not-a-number', body: 'x' } });
      expect(op.status).toBe(422);
      expect(op.body.errors['input.to']).toBeDefined();
    } finally {
      await bad.close();
    }
  });
});

describe('tenant isolation', () => {
  it("gives tenant B 404 for tenant A's integration, rule and delivery ids", async () => {
    const a = await pb.tenant('Tenant A');
    const b = await pb.tenant('Tenant B');
    const integration = await activeIntegration(a.key, 'twilio_secondary', creds('e'));
    const rule = (await pb.api(a.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: integration })).body.data.id as string;
    const op = await pb.api(a.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'mine' } });
    expect(op.status, op.text).toBe(200);
    const delivery = op.body.data.deliveries[0] as string;

    for (const p of [`/integrations/${integration}`, `/routing-rules/${rule}`, `/deliveries/${delivery}`]) {
      const r = await pb.api(b.key, 'GET', p);
      expect(r.status, p).toBe(404);
      expect(r.body.success).toBe(false);
    }
    expect((await pb.api(b.key, 'PATCH', `/integrations/${integration}`, { metadata: { x: 1 } })).status).toBe(404);
    expect((await pb.api(b.key, 'POST', `/integrations/${integration}/disable`)).status).toBe(404);
    expect((await pb.api(b.key, 'DELETE', `/routing-rules/${rule}`)).status).toBe(404);
    expect((await pb.api(b.key, 'DELETE', `/integrations/${integration}`)).status).toBe(404);
    // B's lists are empty and B cannot route to A's integration
    expect((await pb.api(b.key, 'GET', '/integrations')).body.meta.total).toBe(0);
    expect((await pb.api(b.key, 'GET', '/deliveries')).body.meta.total).toBe(0);
    expect((await pb.api(b.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: integration })).status).toBe(422);
    const direct = await pb.api(b.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'x' }, integration_id: integration });
    expect(direct.status).toBe(422);
    // and A still sees its integration unchanged
    expect((await pb.api(a.key, 'GET', `/integrations/${integration}`)).body.data.status).toBe('active');
  });
});

describe('requests and access', () => {
  it('answers 401 without or with a bad key (with WWW-Authenticate), before validating the body', async () => {
    const none = await pb.api(undefined, 'POST', '/integrations', { nonsense: true });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const bad = await pb.api('pb_' + 'x'.repeat(32), 'GET', '/integrations');
    expect(bad.status).toBe(401);
  });

  it('accepts the key in X-API-Key as well', async () => {
    const t = await pb.tenant('Header Co');
    const r = await pb.api(undefined, 'GET', '/integrations', undefined, { 'x-api-key': t.key });
    expect(r.status).toBe(200);
  });

  it('validates bodies with per-field errors, refuses unknown providers and oversized payloads', async () => {
    const t = await pb.tenant('Validation Co');
    const r1 = await pb.api(t.key, 'POST', '/integrations', { provider: 'twilio' });
    expect(r1.status).toBe(422);
    expect(r1.body.errors.credentials).toEqual(['is required']);
    const r2 = await pb.api(t.key, 'POST', '/integrations', { provider: 'nosuch', credentials: {} });
    expect(r2.status).toBe(422);
    expect(r2.body.errors.provider[0]).toContain('unknown provider');
    const r3 = await pb.api(t.key, 'POST', '/integrations', { provider: 'twilio', credentials: { account_sid: 'nope', auth_token: 'f'.repeat(32) } });
    expect(r3.status).toBe(422);
    expect(Object.keys(r3.body.errors).sort()).toEqual(['credentials.account_sid', 'credentials.from_number']);
    expect(r3.text).not.toContain('f'.repeat(32));
    const r4 = await pb.api(t.key, 'POST', '/integrations', '{"provider": "twilio",');
    expect(r4.status).toBe(422);
    expect(r4.body.errors.body).toBeDefined();
    const r5 = await pb.api(t.key, 'POST', '/integrations', { provider: 'twilio', credentials: { blob: 'x'.repeat(1_100_000) } });
    expect(r5.status).toBe(413);
    const r6 = await pb.api(t.key, 'GET', '/integrations?per_page=1000');
    expect(r6.status).toBe(422);
    expect(r6.body.errors.per_page).toBeDefined();
    const r7 = await pb.api(t.key, 'POST', '/operations/send_fax', { input: {} });
    expect(r7.status).toBe(404);
    // nothing was stored by the failed attempts
    expect((await pb.api(t.key, 'GET', '/integrations')).body.meta.total).toBe(0);
  });

  it('echoes X-Request-Id and serves health, readiness, metrics, the OpenAPI document and docs', async () => {
    const res = await fetch(`${pb.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect((await pb.api(undefined, 'GET', '/readyz')).body).toMatchObject({ status: 'ready', checks: { store: 'ok', jobs: 'ok' } });
    const metrics = await pb.api(undefined, 'GET', '/metrics');
    expect(metrics.text).toMatch(/plugboard_http_requests_total\{method="GET",route="\/api\/v1\/integrations",status="\d+"\}/);
    expect(metrics.text).toMatch(/plugboard_operations_total\{capability="send_sms",outcome="succeeded"\}/);
    expect(metrics.text).toMatch(/plugboard_job_queue_depth \d+/);
    const doc = await pb.api(undefined, 'GET', '/openapi.json');
    expect(doc.body.paths['/integrations']).toBeDefined();
    const docs = await fetch(`${pb.url}/docs`);
    expect(await docs.text()).toContain('swagger-ui');
    expect((await fetch(`${pb.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

describe('operation leases while the process lives', () => {
  it('keeps renewing the lease of a call that outlasts it: the key answers 409 meanwhile, then the real outcome', async () => {
    // A provider that takes 4 leases to answer a message send (verification passes at once).
    const slow = await twilioStandIn({ holdMs: 1200 });
    const short = await startTestPlatform({ PLUGBOARD_OPERATION_LEASE_MS: '300', PLUGBOARD_BASE_URL_TWILIO: slow.url });
    try {
      const t = await short.tenant('Slow Provider Co');
      const created = await short.api(t.key, 'POST', '/integrations', { provider: 'twilio', credentials: creds('9') });
      expect(created.status, created.text).toBe(201);
      await short.waitFor(async () => (await short.api(t.key, 'GET', `/integrations/${created.body.data.id}`)).body.data.status === 'active', 'active');
      const body = { input: { to: '+14155550123', body: 'slow' }, idempotency_key: 'slow-1' };
      const first = short.api(t.key, 'POST', '/operations/send_sms', body);
      await new Promise((r) => setTimeout(r, 800)); // well past one lease: renewed, not settled
      const meanwhile = await short.api(t.key, 'POST', '/operations/send_sms', body);
      expect(meanwhile.status, meanwhile.text).toBe(409);
      expect(meanwhile.body.code).toBe('operation_in_progress');
      expect((await short.api(t.key, 'GET', '/deliveries')).body.data.map((d: any) => d.status)).toEqual(['in_progress']);
      const done = await first;
      expect(done.status, done.text).toBe(200);
      await new Promise((r) => setTimeout(r, 700)); // the sweep runs meanwhile: a finished operation stays finished
      const replay = await short.api(t.key, 'POST', '/operations/send_sms', body);
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(done.body);
      expect((await short.api(t.key, 'GET', '/deliveries')).body.data.map((d: any) => d.status)).toEqual(['succeeded']);
    } finally {
      await short.close();
      slow.server.close();
    }
  });

  it('stops when the lease lapses while the process still runs: no fallback call, no overwrite of unknown', async () => {
    // The primary holds a message send for 4 leases, then answers 500 (fall back) or succeeds.
    let mode: 'fail' | 'succeed' = 'fail';
    const slow = await twilioStandIn({ holdMs: 1200, fail: () => mode === 'fail' });
    let backupSends = 0;
    const backup = await twilioStandIn({ onSend: () => backupSends++ });
    const short = await startTestPlatform({
      PLUGBOARD_OPERATION_LEASE_MS: '300',
      PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ twilio_secondary: secondTwilioManifest() }),
      PLUGBOARD_BASE_URL_TWILIO: slow.url,
      PLUGBOARD_BASE_URL_TWILIO_SECONDARY: backup.url,
    });
    try {
      const t = await short.tenant('Stalled Process Co');
      const activate = async (provider: string, c: Record<string, unknown>) => {
        const r = await short.api(t.key, 'POST', '/integrations', { provider, credentials: c });
        expect(r.status, r.text).toBe(201);
        await short.waitFor(async () => (await short.api(t.key, 'GET', `/integrations/${r.body.data.id}`)).body.data.status === 'active', `${provider} active`);
        return r.body.data.id as string;
      };
      const primary = await activate('twilio', creds('7'));
      const secondary = await activate('twilio_secondary', creds('8'));
      expect((await short.api(t.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: primary, fallback_integration_id: secondary, is_default: true })).status).toBe(201);
      // Renewals fail (as with SQLITE_BUSY): the process lives on, its lease lapses and the sweep settles it.
      short.platform.store.operations.renew = async () => {
        throw new Error('SQLITE_BUSY: database is locked');
      };

      for (const [key, late] of [['stall-fail', 'failed'], ['stall-ok', 'succeeded']] as const) {
        mode = late === 'failed' ? 'fail' : 'succeed';
        const body = { input: { to: '+14155550123', body: key }, idempotency_key: key };
        const first = short.api(t.key, 'POST', '/operations/send_sms', body);
        await new Promise((r) => setTimeout(r, 800)); // past the lease: settled as unknown while the call runs
        const meanwhile = await short.api(t.key, 'POST', '/operations/send_sms', body);
        expect(meanwhile.status, meanwhile.text).toBe(502);
        expect(meanwhile.body.code).toBe('outcome_unknown');
        const done = await first;
        // The answer stays what the key already said; the late result is on the attempt only.
        expect(done.status, done.text).toBe(502);
        expect(done.body.code).toBe('outcome_unknown');
        const replay = await short.api(t.key, 'POST', '/operations/send_sms', body);
        expect(replay.status).toBe(502);
        expect(replay.body.code).toBe('outcome_unknown');
        const attempts = (await short.api(t.key, 'GET', `/deliveries?operation_id=${done.body.operation_id}`)).body.data;
        expect(attempts.map((d: any) => [d.integration_id, d.status])).toEqual([[primary, late]]);
      }
      expect(backupSends).toBe(0);
      const row = await sqlOne<{ n: number }>(short.platform.store, `SELECT COUNT(*) AS n FROM deliveries WHERE status = 'in_progress'`);
      expect(row!.n).toBe(0);
    } finally {
      await short.close();
      slow.server.close();
      backup.server.close();
    }
  });

  it("keeps the provider's answer on the attempt when the operation's final write fails", async () => {
    const t = await pb.tenant('Final Write Ltd');
    await activeIntegration(t.key, 'twilio_secondary', creds('f'));
    // The write of the outcome (with the last attempt's) fails once, as a lock timeout would.
    const finish = vi.spyOn(pb.platform.store.operations, 'finish').mockRejectedValueOnce(new Error('database is locked'));
    try {
      const op = await pb.api(t.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'final write' } });
      expect(op.status).toBe(500);
    } finally {
      finish.mockRestore();
    }
    const list = await pb.api(t.key, 'GET', '/deliveries');
    expect(list.body.data).toHaveLength(1);
    // Settled with the operation as unknown, the attempt still says what the provider answered.
    expect(list.body.data[0]).toMatchObject({ status: 'succeeded', provider_status_code: 201 });
  });

  it('the sweep settles attempts left in progress by operations already settled', async () => {
    const t = await pb.tenant('Stray Attempts');
    const store = pb.platform.store;
    const now = new Date().toISOString();
    const op = (...p: unknown[]) => sqlQuery(store, `INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, lease_expires_at, created_at, updated_at) VALUES (?, ?, 'send_sms', NULL, 'h', ?, NULL, NULL, ?, ?, ?)`, ...p);
    const attempt = (...p: unknown[]) => sqlQuery(store, `INSERT INTO deliveries (id, tenant_id, operation_id, capability, integration_id, provider, attempt, status, duration_ms, created_at) VALUES (?, ?, ?, 'send_sms', 'i', 'twilio', 1, 'in_progress', 0, ?)`, ...p);
    // What older versions could leave: an attempt started after its operation was settled.
    await op('01strayoperationsettled000', t.id, 'succeeded', null, now, now);
    await attempt('01strayattemptofsettled000', t.id, '01strayoperationsettled000', now);
    // A live operation's attempt is not touched.
    await op('01strayoperationrunning000', t.id, 'in_progress', Date.now() + 60_000, now, now);
    await attempt('01strayattemptofrunning000', t.id, '01strayoperationrunning000', now);
    expect(await pb.platform.operations.settleExpired()).toBeGreaterThanOrEqual(1);
    const status = async (id: string) => (await sqlOne<{ status: string; error: string | null }>(store, 'SELECT status, error FROM deliveries WHERE id = ?', id))!;
    expect((await status('01strayattemptofsettled000')).status).toBe('unknown');
    expect(JSON.parse((await status('01strayattemptofsettled000')).error!).type).toBe('outcome_unknown');
    expect((await status('01strayattemptofrunning000')).status).toBe('in_progress');
    await sqlQuery(store, `UPDATE operations SET status = 'failed', lease_expires_at = NULL WHERE id = '01strayoperationrunning000'`);
    await sqlQuery(store, `UPDATE deliveries SET status = 'failed' WHERE id = '01strayattemptofrunning000'`);
  });

  it('replays keys stored before results were domain results with the same bytes as then', async () => {
    const t = await pb.tenant('Legacy Keys');
    const old = { success: false, message: 'The operation failed: Twilio answered 500: Internal Server Error', code: 'provider_error', errors: { provider: ['Internal Server Error'] }, operation_id: '01hzzzzzzzzzzzzzzzzzzzzzzz', deliveries: ['01hyyyyyyyyyyyyyyyyyyyyyyy'] };
    const input = { to: '+14155550123', body: 'legacy' };
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(`{"capability":"send_sms","input":{"body":"legacy","to":"+14155550123"},"integration_id":null}`).digest('hex');
    const now = new Date().toISOString();
    await sqlQuery(pb.platform.store, `INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, created_at, updated_at) VALUES (?, ?, 'send_sms', 'legacy-1', ?, 'failed', 502, ?, ?, ?)`, old.operation_id, t.id, hash, JSON.stringify(old), now, now);
    const r = await pb.api(t.key, 'POST', '/operations/send_sms', { input, idempotency_key: 'legacy-1' });
    expect(r.status).toBe(502);
    expect(r.text).toBe(JSON.stringify(old));
  });
});

describe('handlers translate HTTP; services hold the rules', () => {
  it('OperationService answers a domain result, not an HTTP status and body', async () => {
    const t = await pb.tenant('Domain Results');
    const integration = await activeIntegration(t.key, 'twilio_secondary', creds('f'));
    const r = await pb.platform.operations.run(t.id, 'send_sms', { input: { to: '+14155550123', body: 'domain' } }, 'req-1');
    expect(r).toMatchObject({ status: 'succeeded', capability: 'send_sms', integration_id: integration, provider: 'twilio_secondary', fallback_used: false, replayed: false });
    expect(r).not.toHaveProperty('httpStatus');
    expect(r).not.toHaveProperty('body');
    await pb.api(t.key, 'POST', `/integrations/${integration}/disable`);
    const none = await pb.platform.operations.run(t.id, 'send_sms', { input: { to: '+14155550123', body: 'domain' } }, 'req-2').catch((e: unknown) => e);
    expect(none).toBeInstanceOf(PlugboardError);
    expect(none).toMatchObject({ kind: 'conflict', code: 'no_active_provider' });
  });

  it('webhook management refusals are typed errors of the service, answered with the same bytes as before', async () => {
    const t = await pb.tenant('Webhook Rules');
    const sub = await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url: 'http://127.0.0.1:9/hook', events: ['operation.*'] });
    expect(sub.status, sub.text).toBe(201);
    await pb.api(t.key, 'PATCH', `/webhooks/subscriptions/${sub.body.data.id}`, { enabled: false });
    const refused = await pb.platform.webhooks.test(t.id, sub.body.data.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'conflict', code: 'subscription_disabled' });
    const viaApi = await pb.api(t.key, 'POST', `/webhooks/subscriptions/${sub.body.data.id}/test`);
    expect(viaApi.status).toBe(409);
    expect(viaApi.text).toBe('{"success":false,"message":"The subscription is disabled: enable it first.","code":"subscription_disabled"}');
    const replay = await pb.api(t.key, 'POST', `/webhooks/subscriptions/${sub.body.data.id}/replay?since=2020-01-01T00:00:00Z`);
    expect(replay.text).toBe(viaApi.text);
    const missing = await pb.api(t.key, 'POST', '/webhooks/deliveries/01hzzzzzzzzzzzzzzzzzzzzzzz/replay');
    expect([missing.status, missing.text]).toEqual([404, '{"success":false,"message":"Delivery not found."}']);
    await expect(pb.platform.webhooks.samples(t.id, 'no.such_event')).rejects.toMatchObject({ kind: 'not_found', message: 'Unknown event type "no.such_event".' });
    const sample = await pb.api(t.key, 'GET', '/hooks/sample/no.such_event');
    expect([sample.status, sample.text]).toEqual([404, '{"success":false,"message":"Unknown event type \\"no.such_event\\"."}']);
    const inbound = await pb.api(t.key, 'POST', '/webhooks/inbound-events/01hzzzzzzzzzzzzzzzzzzzzzzz/reprocess');
    expect([inbound.status, inbound.text]).toEqual([404, '{"success":false,"message":"Inbound event not found."}']);
  });

  it('the operations and webhooks handlers do not reach into the store', () => {
    for (const f of ['operations.ts', 'webhooks.ts']) {
      const src = fs.readFileSync(path.join(PROJECT_ROOT, 'runtime/api/handlers', f), 'utf8');
      expect(src, f).not.toMatch(/platform\.store\b/);
    }
  });
});
