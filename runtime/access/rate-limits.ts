// API rate limits per tenant and per credential, sustained (per hour) and burst, by plan tier
// (DESIGN.md §4) or per-tenant settings. The counters live in the store (Store.rateLimits.hit: the
// SQLite file or PostgreSQL), so every process on it shares one budget; the four windows of a
// request are counted in one statement.
import type { Store, RateLimitSettings } from '../store/types.ts';

export const PLAN_LIMITS: Record<string, RateLimitSettings> = {
  basic: { per_hour: 1_000, burst: 100, burst_window_seconds: 60 },
  professional: { per_hour: 10_000, burst: 500, burst_window_seconds: 60 },
  enterprise: { per_hour: 100_000, burst: 2_000, burst_window_seconds: 60 },
};

/** One request's verdict; limit, remaining and resetSeconds all describe the same (binding) window. */
export interface RateDecision {
  allowed: boolean;
  /** Requests the binding window allows (the burst or the hourly allowance). */
  limit: number;
  /** Requests left in the binding window. */
  remaining: number;
  /** Seconds until the binding window resets. */
  resetSeconds: number;
  retryAfterSeconds?: number;
}

export class ApiRateLimiter {
  private readonly tenantSettings = new Map<string, { settings: RateLimitSettings; at: number }>();

  constructor(private readonly store: Store) {}

  private async settingsFor(tenantId: string): Promise<RateLimitSettings> {
    const hit = this.tenantSettings.get(tenantId);
    if (hit && Date.now() - hit.at < 30_000) return hit.settings;
    const tenant = await this.store.tenants.get(tenantId);
    const settings = tenant?.rate_limits ?? PLAN_LIMITS[tenant?.plan ?? 'basic'] ?? PLAN_LIMITS['basic']!;
    this.tenantSettings.set(tenantId, { settings, at: Date.now() });
    return settings;
  }

  /** One request by `credentialId` of `tenantId`: counts against both the tenant's and the credential's budgets. */
  async consume(tenantId: string, credentialId: string): Promise<RateDecision> {
    const settings = await this.settingsFor(tenantId);
    // Counters are keyed by window length only, not by the numbers: when a tenant's limits change
    // (tenants limits) the requests already made in the current window still count against the
    // new numbers. Only a new burst window length starts its count afresh. All four windows are
    // counted in one statement (Store.rateLimits.hit).
    const burstSeconds = settings.burst_window_seconds ?? 60;
    const plan = [
      { limit: settings.burst, durationSeconds: burstSeconds, key: `b:${burstSeconds}:tenant:${tenantId}` },
      { limit: settings.burst, durationSeconds: burstSeconds, key: `b:${burstSeconds}:cred:${credentialId}` },
      { limit: settings.per_hour, durationSeconds: 3600, key: `h:3600:tenant:${tenantId}` },
      { limit: settings.per_hour, durationSeconds: 3600, key: `h:3600:cred:${credentialId}` },
    ];
    const counts = await this.store.rateLimits.hit(plan);
    const windows = plan.map((w, i) => {
      const c = counts[i]!;
      return { limit: w.limit, remaining: Math.max(0, w.limit - c.hits), msBeforeNext: c.msBeforeReset, over: c.hits > w.limit };
    });
    // The headers describe one window, the one that binds: when refused, the exhausted window that
    // frees last; otherwise the one with the fewest requests left (on a tie, the one resetting last).
    const over = windows.filter((w) => w.over);
    const pool = over.length ? over : windows;
    const binding = pool.reduce((a, b) => {
      const left = (w: typeof a) => (w.over ? 0 : w.remaining);
      if (left(b) !== left(a)) return left(b) < left(a) ? b : a;
      return b.msBeforeNext > a.msBeforeNext ? b : a;
    });
    const reset = Math.max(1, Math.ceil(binding.msBeforeNext / 1000));
    if (over.length) return { allowed: false, limit: binding.limit, remaining: 0, resetSeconds: reset, retryAfterSeconds: reset };
    return { allowed: true, limit: binding.limit, remaining: binding.remaining, resetSeconds: reset };
  }
}
