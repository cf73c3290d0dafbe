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

/** One fixed window to count a hit in: `key` is `<prefix>:<key>`, as a limiter of that prefix names it. */
export interface WindowHit {
  key: string;
  durationSeconds: number;
}

/** A window's count after the hit, and when it ends. */
export interface WindowCount {
  hits: number;
  msBeforeReset: number;
}

export interface RateLimitStore {
  /**
   * Counts one hit in each window, all in one statement (distinct keys), and returns the counts in
   * order. Every hit counts, allowed or not, as a limiter's consume() does.
   */
  hit(windows: readonly WindowHit[]): Promise<WindowCount[]>;
  /** A rate-limiter-flexible limiter whose counters are stored in this store's database. */
  limiter(opts: RateLimiterOptions): RateLimiterAbstract;
}
