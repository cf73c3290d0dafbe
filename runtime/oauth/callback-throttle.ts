// The OAuth callback takes no API key, so anyone can call it with made-up states. Refused callbacks
// (no usable state, a malformed query) are counted per client address (an IPv6 client by its /64)
// in the store's rate-limit counters, shared by every process on one database; once an address has
// spent its budget, its callbacks are answered 429 (a page with Retry-After) before any state lookup.
// Callbacks that carry a valid state are never counted: each needs a connect made with an API key.
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../store/types.ts';
import { addressKey } from '../access/auth-throttle.ts';

export interface CallbackRefusalBudget {
  refusals: number;
  windowSeconds: number;
}

/** Defaults of PLUGBOARD_OAUTH_CALLBACK_FAILURES_PER_ADDRESS and PLUGBOARD_AUTH_FAILURE_WINDOW. */
export const CALLBACK_REFUSAL_BUDGET: CallbackRefusalBudget = { refusals: 30, windowSeconds: 600 };

export class CallbackThrottle {
  private readonly limiter: RateLimiterAbstract;

  constructor(store: Store, budget: CallbackRefusalBudget = CALLBACK_REFUSAL_BUDGET) {
    this.limiter = store.rateLimits.limiter({ keyPrefix: 'oauthcb:addr', points: budget.refusals, duration: budget.windowSeconds });
  }

  /** Seconds to wait when the address has spent its budget (a read: nothing is counted), else undefined. */
  async blocked(address: string | undefined): Promise<number | undefined> {
    const res = await this.limiter.get(`a:${addressKey(address)}`);
    return res && res.consumedPoints > this.limiter.points ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : undefined;
  }

  /** Counts one refused callback; the seconds to wait when this one is past the budget. */
  async refused(address: string | undefined): Promise<number | undefined> {
    try {
      await this.limiter.consume(`a:${addressKey(address)}`);
      return undefined;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    }
  }
}
