// The Store port keeps SQLite to itself: rate-limit counters come from the store (shared by every
// process on the file, never silently per-process), and the webhook delivery claim is a pure store
// operation with plain parameters (no caller code inside its transaction).
import { describe, it, expect, vi, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../runtime/store/sqlite/store.ts';
import type { Store, WebhookDeliveryRow } from '../../runtime/store/types.ts';
import { ApiRateLimiter } from '../../runtime/access/rate-limits.ts';
import { newId } from '../../runtime/store/ids.ts';

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function storeOn(file: string): Promise<Store> {
  const s = new SqliteStore(file);
  await s.migrate();
  open.push(s);
  return s;
}

const tmpFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-port-')), 'plugboard.db');

describe('Store.rateLimits', () => {
  it('shares one budget between two processes on the same database', async () => {
    const file = tmpFile();
    const a = await storeOn(file);
    const b = await storeOn(file); // a second connection, as a second process would have
    const tenantId = newId();
    await a.tenants.create({ id: tenantId, name: 'Acme', plan: 'basic', rate_limits: { per_hour: 1000, burst: 3 }, created_at: new Date().toISOString() });
    const first = new ApiRateLimiter(a);
    const second = new ApiRateLimiter(b);
    expect((await first.consume(tenantId, 'key:1')).allowed).toBe(true);
    expect((await second.consume(tenantId, 'key:1')).allowed).toBe(true);
    expect((await first.consume(tenantId, 'key:1')).allowed).toBe(true);
    const fourth = await second.consume(tenantId, 'key:1');
    expect(fourth.allowed).toBe(false);
    expect(fourth.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('counts several windows in one call, shared by two connections, and restarts a window once it ends', async () => {
    const file = tmpFile();
    const a = await storeOn(file);
    const b = await storeOn(file);
    const windows = [{ key: 'b:60:tenant:t1', durationSeconds: 60 }, { key: 'h:3600:tenant:t1', durationSeconds: 3600 }];
    expect((await a.rateLimits.hit(windows)).map((c) => c.hits)).toEqual([1, 1]);
    const second = await b.rateLimits.hit(windows);
    expect(second.map((c) => c.hits)).toEqual([2, 2]);
    expect(second[0]!.msBeforeReset).toBeGreaterThan(50_000);
    expect(second[0]!.msBeforeReset).toBeLessThanOrEqual(60_000);
    expect(second[1]!.msBeforeReset).toBeGreaterThan(3_500_000);
    // The same counters a rate-limiter-flexible limiter of that prefix reads.
    await expect(a.rateLimits.limiter({ keyPrefix: 'b:60', points: 2, duration: 60 }).consume('tenant:t1')).rejects.toMatchObject({ remainingPoints: 0 });
    // The burst window ends: it starts again at 1 while the hourly one keeps counting.
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect((await a.rateLimits.hit(windows)).map((c) => c.hits)).toEqual([1, 3]);
    await expect(a.rateLimits.hit([windows[0]!, windows[0]!])).rejects.toThrow(/distinct/);
  });

  it('hands out limiters whose counters live in the database file', async () => {
    const file = tmpFile();
    const a = await storeOn(file);
    const b = await storeOn(file);
    const opts = { keyPrefix: 'test', points: 2, duration: 60 };
    await a.rateLimits.limiter(opts).consume('k');
    await b.rateLimits.limiter(opts).consume('k');
    await expect(a.rateLimits.limiter(opts).consume('k')).rejects.toMatchObject({ remainingPoints: 0 });
  });
});

describe('Store.webhookDeliveries.claimDue', () => {
  const now = Date.now();
  const delivery = (tenantId: string, subscriptionId: string, i: number): WebhookDeliveryRow => ({
    id: newId(), tenant_id: tenantId, event_id: `evt_${i}`, event_type: 'test.event', subscription_id: subscriptionId, body: '{}', status: 'pending', attempts: 0,
    next_attempt_at: now - 1000 + i, locked_until: null, last_status_code: null, last_error: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString(), delivered_at: null,
  });

  it('leases due deliveries up to the limit and the per-subscription room, from plain parameters', async () => {
    const store = await storeOn(tmpFile());
    const tenantId = newId();
    const iso = new Date().toISOString();
    await store.tenants.create({ id: tenantId, name: 'Acme', plan: 'basic', created_at: iso });
    const [busy, slow, idle] = [newId(), newId(), newId()];
    let i = 0;
    for (const sub of [busy, slow, idle]) {
      await store.webhookSubscriptions.create({
        id: sub, tenant_id: tenantId, kind: 'subscription', url: 'http://127.0.0.1:9/hook', events: ['*'], description: null, enabled: true, secret_sealed: Buffer.from('x'),
        data_key_wrapped: Buffer.from('y'), master_key_id: 'k1', previous_secret_expires_at: null, failing_since: null, disabled_reason: null, created_at: iso, updated_at: iso, deleted_at: null,
      });
      const rows = [delivery(tenantId, sub, i++), delivery(tenantId, sub, i++), delivery(tenantId, sub, i++)];
      await store.webhookDeliveries.createWithEvent({ id: newId(), tenant_id: tenantId, type: 'test.event', schema_version: 1, occurred_at: iso, data: {}, source: 'test', created_at: iso }, rows.map((r) => ({ ...r, event_id: `e_${sub}_${r.event_id}` })));
    }
    // In flight is counted in the database: oldest due first, busy takes 2 of 2 allowed and slow 1.
    const first = await store.webhookDeliveries.claimDue({ now, leaseMs: 30_000, limit: 3, perSubscription: 2 });
    const per = (rows: WebhookDeliveryRow[], sub: string) => rows.filter((d) => d.subscription_id === sub).length;
    expect([per(first, busy), per(first, slow), per(first, idle)]).toEqual([2, 1, 0]);
    // busy: none claimable; slow: 1 more; idle: 2.
    const claimed = await store.webhookDeliveries.claimDue({ now, leaseMs: 30_000, limit: 10, perSubscription: 2 });
    expect([per(claimed, busy), per(claimed, slow), per(claimed, idle)]).toEqual([0, 1, 2]);
    expect(claimed.every((d) => d.locked_until === now + 30_000)).toBe(true);
    // Leased rows are not claimed again until the lease ends.
    const again = await store.webhookDeliveries.claimDue({ now, leaseMs: 30_000, limit: 10, perSubscription: 8 });
    expect(again.map((d) => d.id).filter((id) => [...first, ...claimed].some((c) => c.id === id))).toEqual([]);
    expect(again).toHaveLength(3);
    const limited = await store.webhookDeliveries.claimDue({ now: now + 60_000, leaseMs: 30_000, limit: 4, perSubscription: 8 });
    expect(limited).toHaveLength(4);
  });
});
