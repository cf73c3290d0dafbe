// SQLite rate-limit counters: rate-limiter-flexible's RateLimiterSQLite on the store's own database
// (table rate_limits, created by a migration), so every process on the file shares one budget.
import type Database from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import type { RateLimitStore, RateLimiterOptions, WindowHit } from '../rate-limits.ts';
import { assertDistinct, windowCounts, windowUpsertParams, windowUpsertSql } from '../sql/rate-windows.ts';

/**
 * What RateLimiterSQLite needs of a better-sqlite3 connection, with statements prepared once (the
 * library prepares on every call, which was most of its cost). Its "transactions" wrap a single
 * INSERT ... ON CONFLICT ... RETURNING, atomic on its own in SQLite, so they can run directly.
 */
const CLOSED = { run: () => ({ changes: 0 }), get: () => undefined, all: () => [] } as unknown as Database.Statement;

function preparedOnce(db: Database.Database) {
  const cache = new Map<string, Database.Statement>();
  return {
    prepare(sql: string) {
      // rate-limiter-flexible clears expired rows on a 5-minute timer that outlives a closed store:
      // after close its statements do nothing instead of rejecting unhandled.
      if (!db.open) return CLOSED;
      let st = cache.get(sql);
      if (!st) cache.set(sql, (st = db.prepare(sql)));
      return st;
    },
    transaction<F extends (...args: never[]) => unknown>(fn: F): F {
      return fn;
    },
  };
}

export function sqliteRateLimits(db: Database.Database): RateLimitStore {
  const client = preparedOnce(db);
  return {
    // Synchronous and one statement: atomic on its own, one commit for all the windows.
    hit: async (windows: readonly WindowHit[]) => {
      assertDistinct(windows);
      const now = Date.now();
      const rows = client.prepare(windowUpsertSql(windows.length)).all(...windowUpsertParams(windows, now)) as Array<{ key: string; points: number; expire: number }>;
      return windowCounts(windows, rows, now);
    },
    limiter: (opts: RateLimiterOptions) =>
      new RateLimiterSQLite({ storeClient: client, storeType: 'better-sqlite3', tableName: 'rate_limits', tableCreated: true, clearExpiredByTimeout: true, ...opts }),
  };
}
