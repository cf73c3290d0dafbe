// API rate limits per tenant and per credential, sustained (per hour) and burst, by plan tier
// (DESIGN.md §4) or per-tenant settings. rate-limiter-flexible keeps the counters in the store
// (Store.rateLimits: the SQLite file, later PostgreSQL), so every process on it shares one budget.
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
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

interface Limiters {
  hourly: RateLimiterAbstract;
  burst: RateLimiterAbstract;
  settings: RateLimitSettings;
}

export class ApiRateLimiter {
  private readonly limiters = new Map<string, Limiters>();
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

  private make(settings: RateLimitSettings): Limiters {
    const key = `${settings.per_hour}/${settings.burst}/${settings.burst_window_seconds ?? 60}`;
    let l = this.limiters.get(key);
    if (!l) {
      // Counters are keyed by window length only, not by the numbers: when a tenant's limits change
      // (tenants limits) the requests already made in the current window still count against the
      // new numbers. Only a new burst window length starts its count afresh.
      const mk = (prefix: string, points: number, duration: number): RateLimiterAbstract => this.store.rateLimits.limiter({ keyPrefix: `${prefix}:${duration}`, points, duration });
      l = { hourly: mk('h', settings.per_hour, 3600), burst: mk('b', settings.burst, settings.burst_window_seconds ?? 60), settings };
      this.limiters.set(key, l);
    }
    return l;
  }

  /** One request by `credentialId` of `tenantId`: counts against both the tenant's and the credential's budgets. */
  async consume(tenantId: string, credentialId: string): Promise<RateDecision> {
    const l = this.make(await this.settingsFor(tenantId));
    const windows: Array<{ limit: number; res: RateLimiterRes; over: boolean }> = [];
    for (const [limiter, limit] of [[l.burst, l.settings.burst], [l.hourly, l.settings.per_hour]] as const) {
      for (const key of [`tenant:${tenantId}`, `cred:${credentialId}`]) {
        try {
          windows.push({ limit, res: await limiter.consume(key), over: false });
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) throw res;
          windows.push({ limit, res, over: true });
        }
      }
    }
    // The headers describe one window, the one that binds: when refused, the exhausted window that
    // frees last; otherwise the one with the fewest requests left (on a tie, the one resetting last).
    const over = windows.filter((w) => w.over);
    const pool = over.length ? over : windows;
    const binding = pool.reduce((a, b) => {
      const left = (w: typeof a) => (w.over ? 0 : w.res.remainingPoints);
      if (left(b) !== left(a)) return left(b) < left(a) ? b : a;
      return b.res.msBeforeNext > a.res.msBeforeNext ? b : a;
    });
    const reset = Math.max(1, Math.ceil(binding.res.msBeforeNext / 1000));
    if (over.length) return { allowed: false, limit: binding.limit, remaining: 0, resetSeconds: reset, retryAfterSeconds: reset };
    return { allowed: true, limit: binding.limit, remaining: Math.max(0, binding.res.remainingPoints), resetSeconds: reset };
  }
}
