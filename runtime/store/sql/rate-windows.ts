// Fixed-window counters for several keys in one statement: the API's per-request budgets (tenant and
// credential, burst and hourly) are four windows, and four separate upserts were a third of a cheap
// request's time on SQLite (four commits) and four round trips on PostgreSQL. Same table and key
// format as rate-limiter-flexible's limiters (`<prefix>:<key>`, expire in epoch ms), so counters
// written by either are the same counters.
import type { WindowCount, WindowHit } from '../rate-limits.ts';

/**
 * INSERT ... ON CONFLICT DO UPDATE ... RETURNING over `n` keys: a key whose window ended starts a new
 * one at 1, otherwise it counts up. `?` placeholders; keys must be distinct (PostgreSQL refuses to
 * update one row twice in a statement).
 */
export function windowUpsertSql(n: number): string {
  const values = Array.from({ length: n }, () => '(?, 1, ?)').join(', ');
  return (
    `INSERT INTO rate_limits (key, points, expire) VALUES ${values} ON CONFLICT (key) DO UPDATE SET ` +
    'points = CASE WHEN rate_limits.expire <= ? THEN 1 ELSE rate_limits.points + 1 END, ' +
    'expire = CASE WHEN rate_limits.expire <= ? THEN excluded.expire ELSE rate_limits.expire END ' +
    'RETURNING key, points, expire'
  );
}

export function windowUpsertParams(windows: readonly WindowHit[], now: number): unknown[] {
  const params: unknown[] = [];
  for (const w of windows) params.push(w.key, now + w.durationSeconds * 1000);
  params.push(now, now);
  return params;
}

/** The RETURNING rows in the order the windows were given. */
export function windowCounts(windows: readonly WindowHit[], rows: ReadonlyArray<{ key: string; points: number | string; expire: number | string | null }>, now: number): WindowCount[] {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  return windows.map((w) => {
    const r = byKey.get(w.key);
    if (!r) throw new Error(`rate window ${w.key} was not counted`);
    const expire = r.expire === null ? now + w.durationSeconds * 1000 : Number(r.expire);
    return { hits: Number(r.points), msBeforeReset: Math.max(0, expire - now) };
  });
}

export function assertDistinct(windows: readonly WindowHit[]): void {
  if (new Set(windows.map((w) => w.key)).size !== windows.length) throw new Error('rate windows must have distinct keys');
}

/** In-process windows: PostgreSQL's insurance when the database is slow or down (a per-process bound). */
export class MemoryWindows {
  private readonly counters = new Map<string, { points: number; expire: number }>();

  hit(windows: readonly WindowHit[], now = Date.now()): WindowCount[] {
    if (this.counters.size > 100_000) for (const [k, c] of this.counters) if (c.expire <= now) this.counters.delete(k);
    return windows.map((w) => {
      let c = this.counters.get(w.key);
      if (!c || c.expire <= now) this.counters.set(w.key, (c = { points: 0, expire: now + w.durationSeconds * 1000 }));
      c.points++;
      return { hits: c.points, msBeforeReset: c.expire - now };
    });
  }
}
