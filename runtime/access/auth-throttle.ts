// Brute-force throttling: failed authentications are counted per client address (API keys, access
// tokens, client secrets) and per OAuth client id (client secrets, however many addresses try).
// Past the budget, further attempts are refused with 429 *before* the credential is checked, so a
// blocked address cannot tell a right guess from a wrong one; other addresses are not affected.
// Counters live in the store (rate-limiter-flexible), so every process on one database shares them.
import { isIPv6 } from 'node:net';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../store/types.ts';

export interface FailureBudget {
  /** Failed attempts allowed per window. */
  failures: number;
  /** Window length in seconds, counted from the first failure; a blocked key is free again after it. */
  windowSeconds: number;
}

export const AUTH_FAILURE_BUDGETS: { perAddress: FailureBudget; perClientId: FailureBudget } = {
  perAddress: { failures: 20, windowSeconds: 600 },
  perClientId: { failures: 50, windowSeconds: 600 },
};

/**
 * The throttled unit of an address: an IPv4 address (also when IPv4-mapped, ::ffff:a.b.c.d), or the
 * /64 network of an IPv6 address, since one IPv6 client commonly holds a whole /64.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class AuthThrottle {
  private readonly byAddress: RateLimiterAbstract;
  private readonly byClientId: RateLimiterAbstract;

  constructor(store: Store, private readonly budgets = AUTH_FAILURE_BUDGETS) {
    this.byAddress = store.rateLimits.limiter({ keyPrefix: 'authfail:addr', points: budgets.perAddress.failures, duration: budgets.perAddress.windowSeconds });
    this.byClientId = store.rateLimits.limiter({ keyPrefix: 'authfail:client', points: budgets.perClientId.failures, duration: budgets.perClientId.windowSeconds });
  }

  /** Seconds to wait when this address (or client id) has used up its failures; undefined when it may try. */
  async retryAfter(address: string | undefined, clientId?: string): Promise<number | undefined> {
    const checks: Array<[RateLimiterAbstract, string, number]> = [[this.byAddress, `a:${addressKey(address)}`, this.budgets.perAddress.failures]];
    if (clientId) checks.push([this.byClientId, `c:${clientId}`, this.budgets.perClientId.failures]);
    let wait: number | undefined;
    for (const [limiter, key, failures] of checks) {
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= failures) wait = Math.max(wait ?? 0, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    }
    return wait;
  }

  /** Counts one failed authentication against the address (and the client id, when one was named). */
  async failed(address: string | undefined, clientId?: string): Promise<void> {
    const spend = async (limiter: RateLimiterAbstract, key: string) => {
      try {
        await limiter.consume(key);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res; // already over: nothing more to count
      }
    };
    await spend(this.byAddress, `a:${addressKey(address)}`);
    if (clientId) await spend(this.byClientId, `c:${clientId}`);
  }
}
