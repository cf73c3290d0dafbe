// Usage analytics: per tenant, credential, route and status, aggregated in memory per minute and
// flushed to the store every few seconds, so requests never wait on a write.
import type { Store, UsageRow } from '../store/types.ts';
import { invalid } from '../errors/plugboard-error.ts';

/** Upper bounds (ms) of the latency buckets; one more bucket counts everything slower. */
export const USAGE_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000];

function bucketOf(ms: number): number {
  const i = USAGE_BUCKETS_MS.findIndex((b) => ms <= b);
  return i === -1 ? USAGE_BUCKETS_MS.length : i;
}

/** Percentile from bucket counts, interpolated inside the bucket. */
export function percentile(hist: number[], p: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = (p / 100) * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const c = hist[i] ?? 0;
    if (seen + c >= rank && c > 0) {
      const lo = i === 0 ? 0 : USAGE_BUCKETS_MS[i - 1]!;
      const hi = USAGE_BUCKETS_MS[i] ?? lo * 2;
      return Math.round((lo + ((rank - seen) / c) * (hi - lo)) * 100) / 100;
    }
    seen += c;
  }
  return USAGE_BUCKETS_MS[USAGE_BUCKETS_MS.length - 1]!;
}

export type UsageGroup = 'key' | 'route' | 'status' | 'hour' | 'day';

/** Time buckets of GET /usage?group_by=hour|day, and the longest range each may span (buckets are UTC-aligned). */
export const USAGE_SERIES: Record<'hour' | 'day', { ms: number; maxRangeDays: number }> = {
  hour: { ms: 3600_000, maxRangeDays: 31 },
  day: { ms: 86_400_000, maxRangeDays: 366 },
};

export class UsageCollector {
  private pending = new Map<string, UsageRow>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: Store, intervalMs = 5000) {
    // A failed flush must never become an unhandled rejection (it would end the process).
    this.timer = setInterval(() => this.flush().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  record(tenantId: string, credential: string, route: string, status: number, ms: number): void {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    const k = `${tenantId}|${minute}|${credential}|${route}|${status}`;
    let row = this.pending.get(k);
    if (!row) {
      row = { tenant_id: tenantId, minute, credential, route, status, count: 0, latency_ms_sum: 0, latency_histogram: new Array(USAGE_BUCKETS_MS.length + 1).fill(0) };
      this.pending.set(k, row);
    }
    row.count++;
    row.latency_ms_sum += ms;
    row.latency_histogram[bucketOf(ms)]!++;
  }

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.usage.add(rows);
    } catch (err) {
      for (const r of rows) if (!this.pending.has(`${r.tenant_id}|${r.minute}|${r.credential}|${r.route}|${r.status}`)) this.pending.set(`${r.tenant_id}|${r.minute}|${r.credential}|${r.route}|${r.status}`, r);
      throw err;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Totals and per-group figures over [from, to). Flushes first so the answer includes the latest requests. */
  async report(tenantId: string, from: Date, to: Date, groupBy: UsageGroup) {
    if (from >= to) throw invalid({ from: ['must be before to'] });
    if (groupBy === 'hour' || groupBy === 'day') {
      const { maxRangeDays } = USAGE_SERIES[groupBy];
      if (to.getTime() - from.getTime() > maxRangeDays * 86_400_000) throw invalid({ from: [`must be at most ${maxRangeDays} days before to with group_by=${groupBy}`] });
    }
    await this.flush();
    const floor = new Date(Math.floor(from.getTime() / 60_000) * 60_000).toISOString();
    const rows = await this.store.usage.range(tenantId, floor, to.toISOString());
    const summarise = (rs: UsageRow[]) => {
      const hist = new Array(USAGE_BUCKETS_MS.length + 1).fill(0) as number[];
      let count = 0;
      let errors = 0;
      let sum = 0;
      for (const r of rs) {
        count += r.count;
        if (r.status >= 400) errors += r.count;
        sum += r.latency_ms_sum;
        r.latency_histogram.forEach((v, i) => (hist[i]! += v));
      }
      return {
        requests: count,
        errors,
        error_rate: count ? Math.round((errors / count) * 10_000) / 10_000 : 0,
        latency_ms: { avg: count ? Math.round((sum / count) * 100) / 100 : null, p50: percentile(hist, 50), p95: percentile(hist, 95), p99: percentile(hist, 99) },
      };
    };
    const routes = new Map<string, number>();
    for (const r of rows) routes.set(r.route, (routes.get(r.route) ?? 0) + r.count);
    const top_routes = [...routes].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([route, requests]) => ({ route, requests }));
    if (groupBy === 'hour' || groupBy === 'day') {
      // Every bucket from the one holding `from` to the one holding the end, empty ones included.
      const size = USAGE_SERIES[groupBy].ms;
      const first = Math.floor(from.getTime() / size) * size;
      const byStart = new Map<number, UsageRow[]>();
      for (const r of rows) {
        const start = Math.floor(Date.parse(r.minute) / size) * size;
        const bucket = byStart.get(start);
        if (bucket) bucket.push(r);
        else byStart.set(start, [r]);
      }
      const series = [];
      for (let start = first; start < to.getTime(); start += size) {
        series.push({ start: new Date(start).toISOString(), end: new Date(start + size).toISOString(), ...summarise(byStart.get(start) ?? []) });
      }
      return { from: from.toISOString(), to: to.toISOString(), group_by: groupBy, totals: summarise(rows), series, top_routes };
    }
    const keyOf = (r: UsageRow) => (groupBy === 'key' ? r.credential : groupBy === 'route' ? r.route : String(r.status));
    const groups = new Map<string, UsageRow[]>();
    for (const r of rows) {
      const k = keyOf(r);
      const list = groups.get(k);
      if (list) list.push(r);
      else groups.set(k, [r]);
    }
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      group_by: groupBy,
      totals: summarise(rows),
      groups: [...groups].map(([k, rs]) => ({ [groupBy]: k, ...summarise(rs) })).sort((a, b) => b.requests - a.requests),
      top_routes,
    };
  }
}
