// Changing a tenant's limits (`plugboard tenants limits`) keeps counting in the same windows: the
// requests already made still count against the new numbers (the counters are keyed by tenant
// and window length, not by the settings).
import { describe, it, expect, afterEach, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../runtime/store/sqlite/store.ts';
import { ApiRateLimiter } from '../../runtime/access/rate-limits.ts';
import { newId } from '../../runtime/store/ids.ts';

let store: SqliteStore | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await store?.close();
});

async function setup() {
  store = new SqliteStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-limits-')), 'plugboard.db'));
  await store.migrate();
  const tenantId = newId();
  await store.tenants.create({ id: tenantId, name: 'Acme', plan: 'basic', rate_limits: { per_hour: 10, burst: 100, burst_window_seconds: 60 }, created_at: new Date().toISOString() });
  return { s: store, tenantId };
}

describe('changing a tenant\'s rate limits', () => {
  it('keeps the hourly count: 4 used of 10, then limited to 5, allows one more', async () => {
    const { s, tenantId } = await setup();
    const limiter = new ApiRateLimiter(s);
    for (let i = 0; i < 4; i++) expect((await limiter.consume(tenantId, 'key:1')).allowed).toBe(true);
    await s.tenants.update(tenantId, { rate_limits: { per_hour: 5, burst: 100, burst_window_seconds: 60 } });
    // The same process picks the new settings up after its 30 s cache; the window has not ended.
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 31_000);
    const fifth = await limiter.consume(tenantId, 'key:1');
    expect(fifth).toMatchObject({ allowed: true, limit: 5, remaining: 0 });
    const sixth = await limiter.consume(tenantId, 'key:1');
    expect(sixth.allowed).toBe(false);
    // Another process (or a restart) sees the same count.
    expect((await new ApiRateLimiter(s).consume(tenantId, 'key:2')).allowed).toBe(false);
  });

  it('keeps the burst count when only the burst changes, and raising a limit frees requests at once', async () => {
    const { s, tenantId } = await setup();
    await s.tenants.update(tenantId, { rate_limits: { per_hour: 1000, burst: 3, burst_window_seconds: 60 } });
    const before = new ApiRateLimiter(s);
    for (let i = 0; i < 3; i++) expect((await before.consume(tenantId, 'key:1')).allowed).toBe(true);
    expect((await before.consume(tenantId, 'key:1')).allowed).toBe(false);
    await s.tenants.update(tenantId, { rate_limits: { per_hour: 1000, burst: 5, burst_window_seconds: 60 } });
    const after = new ApiRateLimiter(s);
    const d = await after.consume(tenantId, 'key:1');
    expect(d).toMatchObject({ allowed: true, limit: 5 });
    expect(d.remaining).toBeLessThanOrEqual(1);
  });
});
