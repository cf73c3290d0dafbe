// The rate-limit part of the Store port. Counters live where the store lives, so every process on
// one database shares one budget: the SQLite store keeps them in its file (RateLimiterSQLite), a
// PostgreSQL store in its database (RateLimiterPostgres). Callers never see the connection.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimiterOptions {
  /** Separates this limiter's counters from every other limiter's. */
  keyPrefix: string;
  /** Points (requests) allowed per window. */
  points: number;
  /** Window length in seconds. */
  duration: number;
  /** Seconds a key stays blocked once it has used up its points (default: until the window ends). */
  blockDuration?: number;
}

export interface RateLimitStore {
  /** A rate-limiter-flexible limiter whose counters are stored in this store's database. */
  limiter(opts: RateLimiterOptions): RateLimiterAbstract;
}
