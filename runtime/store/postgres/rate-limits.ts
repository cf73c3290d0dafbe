// PostgreSQL rate-limit counters: rate-limiter-flexible's RateLimiterPostgres on the store's pool
// (table rate_limits, created by a migration), so every process on the database shares one budget.
// When the database fails or answers slower than `timeoutMs`, an in-memory limiter with the same
// budget answers instead (per process: a degraded but bounded limit rather than none or an error).
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitStore, RateLimiterOptions, WindowCount, WindowHit } from '../rate-limits.ts';
import { assertDistinct, MemoryWindows, windowCounts, windowUpsertParams, windowUpsertSql } from '../sql/rate-windows.ts';
import { dollarParams } from '../sql/connection.ts';

/** How long a counter update may take before the in-memory limiter answers instead. */
const RATE_LIMIT_TIMEOUT_MS = 1000;

export function postgresRateLimits(pool: pg.Pool, opts: { schema?: string; timeoutMs?: number } = {}): RateLimitStore {
  const timeoutMs = opts.timeoutMs ?? RATE_LIMIT_TIMEOUT_MS;
  const insurance = new MemoryWindows();
  const texts = new Map<number, string>();
  return {
    // One round trip for all the windows; on an error or past `timeoutMs`, the in-memory windows
    // answer (counted once: a late answer of a timed-out query is ignored).
    hit: async (windows: readonly WindowHit[]): Promise<WindowCount[]> => {
      assertDistinct(windows);
      const now = Date.now();
      let text = texts.get(windows.length);
      if (!text) texts.set(windows.length, (text = dollarParams(windowUpsertSql(windows.length))));
      let timer: NodeJS.Timeout | undefined;
      const stored = pool.query<{ key: string; points: number; expire: string }>(text, windowUpsertParams(windows, now)).then((r) => windowCounts(windows, r.rows, now));
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, timeoutMs, undefined)));
      try {
        return (await Promise.race([stored, late])) ?? insurance.hit(windows);
      } catch {
        return insurance.hit(windows);
      } finally {
        clearTimeout(timer);
        stored.catch(() => undefined);
      }
    },
    limiter: (o: RateLimiterOptions): RateLimiterAbstract => {
      const insuranceLimiter = new RateLimiterMemory({ ...o });
      const stored = new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: 'rate_limits',
        ...(opts.schema ? { schemaName: opts.schema } : {}),
        tableCreated: true,
        clearExpiredByTimeout: true,
        // No insurance here: the wrapper's falls back on both errors and timeouts, and a query
        // that first times out and then fails would otherwise count twice in memory.
        ...o,
      });
      // The wrapper's own points and duration are unused (it delegates); callers read `points`.
      const limiter = new RLWrapperTimeouts({ limiter: stored, timeoutMs, insuranceLimiter, keyPrefix: o.keyPrefix, blockDuration: o.blockDuration });
      limiter.points = o.points;
      limiter.duration = o.duration;
      return limiter;
    },
  };
}
