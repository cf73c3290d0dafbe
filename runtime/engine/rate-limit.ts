// A manifest's rate_limit is a budget per integration: calls wait in a bounded queue for their
// turn, and fail with rate_limited once the queue is full, so one tenant's burst can never push a
// provider account over its limit. rate-limiter-flexible does the token accounting.
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import type { RateLimitSpec } from '../manifest/types.ts';

export class ProviderRateLimits {
  private readonly queues = new Map<string, RateLimiterQueue>();

  /** Resolves when the call may go; rejects with an Error when the integration's queue is full. */
  async acquire(connectorName: string, spec: RateLimitSpec | undefined, integrationKey: string): Promise<void> {
    if (!spec || (!spec.requests_per_second && !spec.requests_per_minute)) return;
    let q = this.queues.get(connectorName);
    if (!q) {
      // Whole tokens per window: 0.5 rps becomes 1 request per 2 s, 2.5 rps 5 per 2 s.
      const perSecond = spec.requests_per_second ?? spec.requests_per_minute! / 60;
      let duration = 1;
      while (!Number.isInteger(Math.round(perSecond * duration * 1000) / 1000) && duration < 60) duration++;
      const points = Math.max(1, Math.floor(perSecond * duration));
      q = new RateLimiterQueue(new RateLimiterMemory({ points, duration }), { maxQueueSize: spec.max_queue ?? 100 });
      this.queues.set(connectorName, q);
    }
    await q.removeTokens(1, integrationKey);
  }
}
