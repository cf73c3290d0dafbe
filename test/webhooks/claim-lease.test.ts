// The webhook outbox across processes: per-endpoint concurrency is counted in the database (two
// store instances on one database never lease more than perSubscription of one endpoint between
// them), and an attempt is recorded only under the lease the worker still holds (a fencing token).
// The body is a function of a backend, so other databases join by adding an entry to `backends`.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../runtime/store/sqlite/store.ts';
import type { Store, WebhookAttemptRow, WebhookDeliveryRow } from '../../runtime/store/types.ts';
import { newId } from '../../runtime/store/ids.ts';

interface Backend {
  name: string;
  /** Claims may truly overlap (separate connections that wait for each other's locks). SQLite in one thread: they may not. */
  parallel: boolean;
  /** A fresh database; `connect` opens one more store on it, as another process would. */
  database(): Promise<{ connect(): Promise<Store>; drop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    parallel: false,
    database: async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-claim-'));
      const file = path.join(dir, 'plugboard.db');
      return {
        connect: async () => {
          const s = new SqliteStore(file);
          await s.migrate();
          return s;
        },
        drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

describe.each(backends)('webhook outbox leases on $name', (backend) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  /** Two stores ("processes") on one new database, a tenant, and subscriptions with due deliveries. */
  async function setup(deliveriesPerSubscription: number[]) {
    const database = await backend.database();
    cleanup.push(() => database.drop());
    const a = await database.connect();
    cleanup.push(() => a.close());
    const b = await database.connect();
    cleanup.push(() => b.close());
    const iso = new Date().toISOString();
    const tenantId = newId();
    await a.tenants.create({ id: tenantId, name: 'Acme', plan: 'basic', created_at: iso });
    const now = Date.now();
    const subs: string[] = [];
    let n = 0;
    for (const count of deliveriesPerSubscription) {
      const sub = newId();
      subs.push(sub);
      await a.webhookSubscriptions.create({
        id: sub, tenant_id: tenantId, kind: 'subscription', url: 'http://127.0.0.1:9/hook', events: ['*'], description: null, enabled: true,
        secret_sealed: Buffer.from('x'), data_key_wrapped: Buffer.from('y'), master_key_id: 'k1', previous_secret_expires_at: null, failing_since: null, disabled_reason: null,
        created_at: iso, updated_at: iso, deleted_at: null,
      });
      const eventId = newId();
      const rows: WebhookDeliveryRow[] = Array.from({ length: count }, () => ({
        id: newId(), tenant_id: tenantId, event_id: eventId, event_type: 'test.event', subscription_id: sub, body: '{}', status: 'pending', attempts: 0,
        next_attempt_at: now - 10_000 + n++, locked_until: null, last_status_code: null, last_error: null, created_at: iso, updated_at: iso, delivered_at: null,
      }));
      // one event per delivery: (event_id, subscription_id) is unique
      for (const r of rows) {
        const ev = newId();
        await a.webhookDeliveries.createWithEvent({ id: ev, tenant_id: tenantId, type: 'test.event', schema_version: 1, occurred_at: iso, data: {}, source: 'test', created_at: iso }, [{ ...r, event_id: ev }]);
      }
    }
    return { a, b, tenantId, subs, now };
  }

  const attemptOf = (d: WebhookDeliveryRow): WebhookAttemptRow => ({
    id: newId(), tenant_id: d.tenant_id, delivery_id: d.id, attempt: d.attempts + 1, status_code: 204, response_excerpt: null, duration_ms: 5, error: null, created_at: new Date().toISOString(),
  });
  const delivered = (d: WebhookDeliveryRow) =>
    ({ status: 'delivered', attempts: d.attempts + 1, next_attempt_at: null, last_status_code: 204, last_error: null, delivered_at: new Date().toISOString() }) as const;
  const count = (rows: WebhookDeliveryRow[], sub: string) => rows.filter((d) => d.subscription_id === sub).length;

  it('never leases more than perSubscription of one endpoint across two stores on one database', async () => {
    const { a, b, subs, now } = await setup([10, 3]);
    const [slow, other] = subs as [string, string];
    const q = { now, leaseMs: 30_000, limit: 50, perSubscription: 2 };
    const claimBoth = async () =>
      backend.parallel ? (await Promise.all([a.webhookDeliveries.claimDue(q), b.webhookDeliveries.claimDue(q)])).flat()
        : [...(await a.webhookDeliveries.claimDue(q)), ...(await b.webhookDeliveries.claimDue(q))];

    const first = await claimBoth();
    expect(count(first, slow)).toBe(2);
    expect(count(first, other)).toBe(2);
    expect(new Set(first.map((d) => d.id)).size).toBe(first.length);
    expect(first.every((d) => d.locked_until === now + 30_000)).toBe(true);
    // Both endpoints are at their limit: neither store leases more while those leases hold.
    expect(await claimBoth()).toEqual([]);

    // One attempt finishes (recorded under its lease): one slot of that endpoint opens, for either store.
    const done = first.find((d) => d.subscription_id === slow)!;
    expect(await a.webhookDeliveries.recordAttempt(attemptOf(done), delivered(done), done.locked_until)).toBe(true);
    const next = await b.webhookDeliveries.claimDue(q);
    expect(next.map((d) => d.subscription_id)).toEqual([slow]);
    expect(await a.webhookDeliveries.claimDue(q)).toEqual([]);

    // Leases that expired no longer count as in flight.
    const later = await a.webhookDeliveries.claimDue({ ...q, now: now + 60_000 });
    expect(count(later, slow)).toBe(2);
    expect(count(later, other)).toBe(2);
  });

  it('records a finished batch and claims its places in one call, fenced and within the endpoint limit', async () => {
    const { a, b, tenantId, subs, now } = await setup([6]);
    const [sub] = subs as [string];
    const q = { now, leaseMs: 30_000, limit: 10, perSubscription: 2 };
    const first = await a.webhookDeliveries.claimDue(q);
    expect(first).toHaveLength(2);
    // One lease was lost meanwhile (a stale token): only the other attempt is recorded, so only one place opens.
    const done = first[0]!;
    const stale = first[1]!;
    const batch = [
      { attempt: attemptOf(done), update: delivered(done), lease: done.locked_until },
      { attempt: attemptOf(stale), update: delivered(stale), lease: stale.locked_until! - 1 },
    ];
    const r = await b.webhookDeliveries.recordAttemptsAndClaim(batch, { ...q, now: now + 1 });
    expect(r.recorded).toEqual([true, false]);
    expect(r.claimed.map((d) => d.subscription_id)).toEqual([sub]);
    expect(r.claimed[0]!.id).not.toBe(done.id);
    expect(r.claimed[0]!.subscription?.id).toBe(sub);
    expect((await a.webhookDeliveries.attempts(tenantId, done.id)).map((x) => x.status_code)).toEqual([204]);
    expect(await a.webhookDeliveries.attempts(tenantId, stale.id)).toEqual([]);
    // The endpoint is at its limit again.
    expect(await a.webhookDeliveries.claimDue({ ...q, now: now + 2 })).toEqual([]);
  });

  it('a backlog for an endpoint at its limit (leased by another store) never hides the others', async () => {
    const { a, b, subs, now } = await setup([60, 1]);
    const [slow, other] = subs as [string, string];
    const q = { now, leaseMs: 30_000, limit: 10, perSubscription: 2 };
    // The oldest 40 due rows (the scan) are all the slow endpoint's: this round leases its 2.
    expect((await a.webhookDeliveries.claimDue(q)).map((d) => d.subscription_id)).toEqual([slow, slow]);
    // Another process sees it full in the database and looks past its backlog.
    expect((await b.webhookDeliveries.claimDue(q)).map((d) => d.subscription_id)).toEqual([other]);
  });

  it('records an attempt only under the lease the worker still holds', async () => {
    const { a, b, tenantId, now } = await setup([1]);
    const leaseMs = 30_000;
    const [mine] = await a.webhookDeliveries.claimDue({ now, leaseMs, limit: 10, perSubscription: 8 });
    expect(mine).toBeDefined();
    // The lease expires (a slow or paused worker) and another process takes the delivery.
    const [theirs] = await b.webhookDeliveries.claimDue({ now: now + leaseMs + 1, leaseMs, limit: 10, perSubscription: 8 });
    expect(theirs?.id).toBe(mine!.id);
    expect(theirs!.locked_until).not.toBe(mine!.locked_until);

    // The first worker's late result: nothing recorded, the delivery untouched.
    expect(await a.webhookDeliveries.recordAttempt(attemptOf(mine!), delivered(mine!), mine!.locked_until)).toBe(false);
    expect(await a.webhookDeliveries.attempts(tenantId, mine!.id)).toEqual([]);
    const held = await a.webhookDeliveries.get(tenantId, mine!.id);
    expect(held).toMatchObject({ status: 'pending', attempts: 0, locked_until: theirs!.locked_until });

    // The holder records; its lease is then spent, so a repeat records nothing either.
    expect(await b.webhookDeliveries.recordAttempt(attemptOf(theirs!), delivered(theirs!), theirs!.locked_until)).toBe(true);
    expect(await b.webhookDeliveries.recordAttempt(attemptOf(theirs!), delivered(theirs!), theirs!.locked_until)).toBe(false);
    expect((await a.webhookDeliveries.attempts(tenantId, mine!.id)).length).toBe(1);
    expect(await a.webhookDeliveries.get(tenantId, mine!.id)).toMatchObject({ status: 'delivered', attempts: 1, locked_until: null });
  });

  it('records a batch in one call: each attempt under its own lease, a lost lease refused alone', async () => {
    const { a, b, tenantId, now } = await setup([3]);
    const leaseMs = 30_000;
    const mine = await a.webhookDeliveries.claimDue({ now, leaseMs, limit: 10, perSubscription: 8 });
    expect(mine).toHaveLength(3);
    // The first delivery's lease expires and another process takes it.
    const [theirs] = await b.webhookDeliveries.claimDue({ now: now + leaseMs + 1, leaseMs, limit: 1, perSubscription: 8 });
    const lost = mine.find((d) => d.id === theirs!.id)!;
    const kept = mine.filter((d) => d.id !== lost.id);
    const batch = [lost, ...kept].map((d) => ({ attempt: attemptOf(d), update: delivered(d), lease: d.locked_until }));
    expect(await a.webhookDeliveries.recordAttempts(batch)).toEqual([false, true, true]);
    expect(await a.webhookDeliveries.attempts(tenantId, lost.id)).toEqual([]);
    expect(await a.webhookDeliveries.get(tenantId, lost.id)).toMatchObject({ status: 'pending', locked_until: theirs!.locked_until });
    for (const d of kept) {
      expect((await a.webhookDeliveries.attempts(tenantId, d.id)).map((x) => x.status_code)).toEqual([204]);
      expect(await a.webhookDeliveries.get(tenantId, d.id)).toMatchObject({ status: 'delivered', locked_until: null });
    }
    expect(await a.webhookDeliveries.recordAttempts([])).toEqual([]);
  });

  it('records a direct attempt of an unclaimed delivery (null lease) only while nobody has claimed it', async () => {
    const { a, b, tenantId, now } = await setup([2]);
    const [first, second] = (await a.webhookDeliveries.list(tenantId, { page: 1, perPage: 10 })).items.sort((x, y) => x.next_attempt_at! - y.next_attempt_at!);
    expect(await a.webhookDeliveries.recordAttempt(attemptOf(first!), delivered(first!), null)).toBe(true);
    const [claimed] = await b.webhookDeliveries.claimDue({ now, leaseMs: 30_000, limit: 10, perSubscription: 8 });
    expect(claimed?.id).toBe(second!.id);
    expect(await a.webhookDeliveries.recordAttempt(attemptOf(second!), delivered(second!), null)).toBe(false);
    expect(await a.webhookDeliveries.attempts(tenantId, second!.id)).toEqual([]);
  });
});
