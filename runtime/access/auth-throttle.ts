// Brute-force throttling of guessed credentials. The presented credential is always checked first:
// a right one passes even from an address that is over its budget (API keys and client secrets are
// 32-40 random characters, so "a right guess" is not a threat worth locking users out for). Only
// guesses count: a wrong key, secret or forged token, not a validly signed token that expired or was
// revoked. Once an address (or one address on one OAuth client id) has spent its failures, further
// FAILURES are answered 429 with Retry-After instead of 401. The address is the socket's, or the
// client's behind PLUGBOARD_TRUST_PROXY. Counters live in the store (rate-limiter-flexible), so every
// process on one database shares them.
import { isIPv6 } from 'node:net';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../store/types.ts';

export interface FailureBudget {
  /** Failed attempts allowed per window. */
  failures: number;
  /** Window length in seconds, counted from the first failure; a blocked key is free again after it. */
  windowSeconds: number;
}

/**
 * Defaults of PLUGBOARD_AUTH_FAILURES_PER_ADDRESS, PLUGBOARD_AUTH_FAILURES_PER_CLIENT and PLUGBOARD_AUTH_FAILURE_WINDOW.
 * perClientId is per (client id, address): nobody can lock a client out by naming its public id.
 */
export const AUTH_FAILURE_BUDGETS: { perAddress: FailureBudget; perClientId: FailureBudget } = {
  perAddress: { failures: 20, windowSeconds: 600 },
  perClientId: { failures: 10, windowSeconds: 600 },
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

  constructor(store: Store, budgets = AUTH_FAILURE_BUDGETS) {
    this.byAddress = store.rateLimits.limiter({ keyPrefix: 'authfail:addr', points: budgets.perAddress.failures, duration: budgets.perAddress.windowSeconds });
    this.byClientId = store.rateLimits.limiter({ keyPrefix: 'authfail:client', points: budgets.perClientId.failures, duration: budgets.perClientId.windowSeconds });
  }

  /**
   * Counts one failed guess against the address (and the client id named from that address). Returns
   * the seconds to wait when this failure is past a budget (answer 429 with Retry-After), undefined
   * while within it (answer 401).
   */
  async failed(address: string | undefined, clientId?: string): Promise<number | undefined> {
    const spend = async (limiter: RateLimiterAbstract, key: string): Promise<number | undefined> => {
      try {
        await limiter.consume(key);
        return undefined;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      }
    };
    const addr = addressKey(address);
    const waits = [await spend(this.byAddress, `a:${addr}`)];
    if (clientId) waits.push(await spend(this.byClientId, `c:${clientId}|${addr}`));
    const over = waits.filter((w): w is number => w !== undefined);
    return over.length ? Math.max(...over) : undefined;
  }
}
