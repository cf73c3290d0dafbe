// Scale-out on one PostgreSQL database (issue 12): two `serve --no-jobs` API processes and three
// `worker` processes share a schema. 200 verification jobs run exactly once each with no worker
// dying; 5,000 webhook deliveries all arrive although one worker is SIGKILLed mid-way, and the only
// duplicates are deliveries the dead worker had in flight (same webhook-id); and the two API processes
// together allow exactly the tenant's burst.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import pg from 'pg';
import { readConfig } from '../../runtime/config/env.ts';
import { createPlatform, type Platform } from '../../runtime/platform/platform.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { actingAs } from '../../runtime/access/audit.ts';
import { PLAN_LIMITS } from '../../runtime/access/rate-limits.ts';
import { TEST_PG_URL as PG_BASE } from '../helpers/store.ts';
import { processes, SERVE_READY, WORKER_READY } from '../helpers/processes.ts';

const DELIVERIES = 5000;
const SUBSCRIPTIONS = 10;
const INTEGRATIONS = 200;
/** The dispatcher's deliveries in flight per process (DispatcherOptions.maxInFlight default). */
const MAX_IN_FLIGHT = 64;

/** PostgreSQL answers; in CI it must (the test fails instead of skipping). */
async function postgresUp(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return true;
  } catch (err) {
    if (process.env.CI) throw new Error(`the scale-out test needs PostgreSQL at ${new URL(PG_BASE).host}: ${(err as Error).message}`);
    console.log(`scale-out test skipped: no PostgreSQL at ${new URL(PG_BASE).host} (${(err as Error).message})`);
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const pgUp = await postgresUp();
const schema = `scale_${randomBytes(4).toString('hex')}`;
const url = `${PG_BASE}?schema=${schema}`;
const masterKey = randomBytes(32).toString('base64');
const procs = processes();
const servers: http.Server[] = [];
let platform: Platform | undefined;

/** Receipts per webhook-id and the time each arrived. */
const receipts = new Map<string, number[]>();
const verifications = new Map<string, number>();

function listen(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  await procs.killAll();
  await platform?.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  if (pgUp) {
    const client = new pg.Client({ connectionString: PG_BASE });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
});

describe.skipIf(!pgUp)('scale-out on one PostgreSQL database', () => {
  let env: Record<string, string>;
  const api: string[] = [];
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    // Twilio's account lookup, answered for any account and counted per account SID.
    const provider = await listen((req, res) => {
      const sid = /Accounts\/(AC[0-9a-f]{32})\.json/.exec(req.url ?? '')?.[1];
      if (sid) verifications.set(sid, (verifications.get(sid) ?? 0) + 1);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sid, status: 'active' }));
    });
    // The webhook receiver: a fixed 10 ms per request, so deliveries are in flight when a worker dies.
    const receiver = await listen((req, res) => {
      const id = String(req.headers['webhook-id']);
      req.resume();
      req.on('end', () => {
        const list = receipts.get(id) ?? [];
        list.push(Date.now());
        receipts.set(id, list);
        setTimeout(() => res.writeHead(204).end(), 10);
      });
    });
    env = {
      PORT: '0',
      LOG_LEVEL: 'info',
      PLUGBOARD_DATABASE_URL: url,
      PLUGBOARD_MASTER_KEY: masterKey,
      PLUGBOARD_BASE_URL_TWILIO: provider,
      PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1',
      PLUGBOARD_JOBS_POLL_MS: '100',
      PLUGBOARD_JOBS_LOCK_MS: '30000',
      PLUGBOARD_WEBHOOK_LEASE_MS: '4000',
    };
    // This process is a third API-side process: it creates tenants and publishes events.
    platform = await createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
    for (let i = 0; i < 2; i++) api.push((await procs.start(['serve', '--no-jobs'], env, SERVE_READY)).match[1]!);
    for (let i = 0; i < 3; i++) workers.push((await procs.start(['worker'], env, WORKER_READY)).child);
    (globalThis as { receiverUrl?: string }).receiverUrl = receiver;
  }, 120_000);

  it("two API processes together allow exactly the plan's burst", async () => {
    const t = await createTenant(platform!.store, 'Burst');
    const { burst } = PLAN_LIMITS[(await platform!.store.tenants.get(t.tenant_id))!.plan]!;
    const statuses: number[] = [];
    for (let i = 0; i < burst * 2; i++) {
      const res = await fetch(`${api[i % 2]}/api/v1/integrations`, { headers: { authorization: `Bearer ${t.api_key}` } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(burst);
    expect(statuses.filter((s) => s === 429)).toHaveLength(burst);
  }, 60_000);

  it('runs 200 verification jobs across three workers, each exactly once', async () => {
    const made: Array<{ key: string; id: string }> = [];
    for (let i = 0; i < INTEGRATIONS; i++) {
      const t = await createTenant(platform!.store, `Tenant ${i}`);
      const sid = 'AC' + i.toString(16).padStart(32, '0');
      const res = await fetch(`${api[i % 2]}/api/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'twilio', credentials: { account_sid: sid, auth_token: 'f'.repeat(32), from_number: '+15005550006' } }),
      });
      expect(res.status).toBe(201);
      made.push({ key: t.api_key, id: ((await res.json()) as { data: { id: string } }).data.id });
    }
    await waitFor('every integration verified', 90_000, async () => {
      return verifications.size === INTEGRATIONS && [...verifications.values()].every((n) => n >= 1);
    });
    // Let any second run (a job taken twice) show up before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const twice = [...verifications.entries()].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    for (const { key, id } of made.slice(0, 20)) {
      const body = (await (await fetch(`${api[0]}/api/v1/integrations/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { status: string } };
      expect(body.data.status).toBe('active');
    }
  }, 180_000);

  it('delivers 5,000 webhooks with one worker SIGKILLed mid-way; duplicates only from the dead worker', async () => {
    const receiver = (globalThis as { receiverUrl?: string }).receiverUrl!;
    const t = await createTenant(platform!.store, 'Webhooks');
    const ctx = actingAs(t.tenant_id, 'scale-test');
    for (let i = 0; i < SUBSCRIPTIONS; i++) await platform!.subscriptions.create(ctx, { url: `${receiver}/hook/${i}`, events: ['payment.*'] });
    const events = DELIVERIES / SUBSCRIPTIONS;
    for (let i = 0; i < events; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, events - i) }, (_, j) =>
        platform!.events.publish(t.tenant_id, 'payment.completed', { payment_id: `pi_${i + j}`, provider: 'stripe', amount: 100, currency: 'usd', status: 'succeeded', completed_at: new Date().toISOString() })));
    }
    await waitFor('a third of the deliveries', 120_000, () => receipts.size >= DELIVERIES / 3);
    const killedAt = Date.now();
    workers[0]!.kill('SIGKILL');
    await waitFor('every delivery', 180_000, () => receipts.size >= DELIVERIES);
    // Lease expiry brings the dead worker's deliveries back; give redeliveries a moment to land.
    await new Promise((r) => setTimeout(r, 1000));

    expect(receipts.size).toBe(DELIVERIES);
    const duplicated = [...receipts.entries()].filter(([, times]) => times.length > 1);
    // Only what the killed worker had in flight can arrive twice: at most its in-flight limit,
    // each first received before the kill, and sent again under the same webhook-id.
    console.log(`scale-out: ${receipts.size} deliveries received, ${duplicated.length} received twice after the SIGKILL`);
    expect(duplicated.length).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    for (const [, times] of duplicated) {
      expect(times[0]!).toBeLessThanOrEqual(killedAt + 50);
      expect(times.length).toBe(2);
    }
    const pending = await platform!.store.webhookDeliveries.countDue(Date.now() + 3_600_000);
    expect(pending).toBe(0);
  }, 300_000);
});
