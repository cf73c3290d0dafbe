// PostgreSQL rate-limit counters: rate-limiter-flexible's RateLimiterPostgres on the store's pool
// (table rate_limits, created by a migration), so every process on the database shares one budget.
// When the database fails or answers slower than `timeoutMs`, an in-memory limiter with the same
// budget answers instead (per process: a degraded but bounded limit rather than none or an error).
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitStore, RateLimiterOptions } from '../rate-limits.ts';

/** How long a counter update may take before the in-memory limiter answers instead. */
const RATE_LIMIT_TIMEOUT_MS = 1000;

export function postgresRateLimits(pool: pg.Pool, opts: { schema?: string; timeoutMs?: number } = {}): RateLimitStore {
  const timeoutMs = opts.timeoutMs ?? RATE_LIMIT_TIMEOUT_MS;
  return {
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
