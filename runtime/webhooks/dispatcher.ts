// The deliver-webhook worker. Each delivery row is its own durable job: stored before any attempt,
// leased atomically by one worker at a time (a crashed worker's lease simply expires), attempted
// with Standard Webhooks signatures, and rescheduled along the retry schedule. Per-endpoint
// concurrency (counted by the store across every worker process) keeps one slow receiver from
// starving the others. Only the worker still holding a delivery's lease records its attempt.
import type { Logger } from 'pino';
import type { Store, ClaimedDelivery, ClaimQuery, WebhookDeliveryRow, WebhookSubscriptionRow } from '../store/types.ts';
import { newId } from '../store/ids.ts';
import { signDelivery } from './signing.ts';
import { sendWebhook, type SendResult } from './sender.ts';
import { nextAttemptAt, shouldDisableAfterContinuousFailure, DEFAULT_RETRY_SCHEDULE_MS, CONTINUOUS_FAILURE_DISABLE_MS } from './retry-schedule.ts';
import type { UrlPolicy } from './url-policy.ts';
import type { SubscriptionService } from './subscriptions.ts';
import type { EventPublisher } from './events.ts';
import { PollingWorker } from './polling-worker.ts';
import { AttemptWriter } from './attempt-writer.ts';

export function webhookId(deliveryId: string): string {
  return `msg_${deliveryId}`;
}

export interface DispatcherOptions {
  schedule?: readonly number[];
  /** Deliveries in flight per process. */
  maxInFlight?: number;
  /** Deliveries in flight per subscription (endpoint), across all processes. */
  perEndpoint?: number;
  pollMs?: number;
  leaseMs?: number;
  timeoutMs?: number;
  /** How long an endpoint may fail continuously before its subscription is disabled. */
  disableAfterMs?: number;
  policy: () => UrlPolicy;
  onAttempt?: (outcome: string) => void;
}

export class WebhookDispatcher extends PollingWorker {
  /** Attempts this process is running (bounded by maxInFlight, with the places a running claim may fill). */
  private total = 0;
  private reserved = 0;
  /** Deliveries this worker claimed (their attempts' places are claimed again when they are recorded). */
  private readonly owned = new WeakSet<WebhookDeliveryRow>();
  /** Attempts whose recording already claimed their replacements (no extra round needed). */
  private readonly replaced = new WeakSet<WebhookDeliveryRow>();
  private readonly opts: Required<Omit<DispatcherOptions, 'onAttempt'>> & Pick<DispatcherOptions, 'onAttempt'>;
  private readonly attempts: AttemptWriter;

  constructor(
    private readonly store: Store,
    private readonly subscriptions: SubscriptionService,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    opts: DispatcherOptions,
  ) {
    super(opts.pollMs ?? 1000, (err) => logger.error({ err: (err as Error).message }, 'webhook delivery round failed'));
    this.opts = {
      schedule: DEFAULT_RETRY_SCHEDULE_MS,
      maxInFlight: 64,
      perEndpoint: 8,
      pollMs: 1000,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      disableAfterMs: CONTINUOUS_FAILURE_DISABLE_MS,
      ...opts,
    };
    this.attempts = new AttemptWriter(store, {
      take: (finishing) => this.reserve(finishing),
      give: (claimed, q) => {
        this.reserved -= q.limit;
        this.launch(claimed);
      },
      running: () => this.total,
    });
  }

  override async stop(): Promise<void> {
    await super.stop();
    // let attempts in flight finish (they are bounded by the send timeout)
    const deadline = Date.now() + this.opts.timeoutMs + 1000;
    while (this.total > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * A claim for the free places, reserved until it returns; null when none. After a recorded batch
   * (`finishing` of this worker's attempts) only their places: the claim's scan grows with its
   * limit, and other free places are the poll round's.
   */
  private reserve(finishing?: number): ClaimQuery | null {
    if (!this.active) return null;
    const open = this.opts.maxInFlight - this.total - this.reserved;
    const free = finishing === undefined ? open : Math.min(finishing, open + finishing);
    if (free <= 0) return null;
    this.reserved += free;
    return { now: Date.now(), leaseMs: this.opts.leaseMs, limit: free, perSubscription: this.opts.perEndpoint };
  }

  private launch(claimed: ClaimedDelivery[]): void {
    for (const d of claimed) {
      this.total++;
      this.owned.add(d);
      void this.attempt(d)
        .catch((err: Error) => this.logger.error({ deliveryId: d.id, err: err.message }, 'webhook attempt crashed'))
        .finally(() => {
          this.total--;
          if (!this.replaced.delete(d)) this.notify();
        });
    }
  }

  protected async round(): Promise<boolean> {
    let claimed: ClaimedDelivery[] = [];
    const q = this.reserve();
    const free = q?.limit ?? 0;
    if (q) {
      try {
        claimed = await this.store.webhookDeliveries.claimDue(q);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'claiming webhook deliveries failed');
      } finally {
        this.reserved -= q.limit;
      }
    }
    this.launch(claimed);
    // Another round at once only when the claim was cut short by this process's own limit; a shorter
    // claim means nothing more is claimable now (none due, or every due one's endpoint is busy), so
    // wait for a finished attempt (which frees a slot) or the poll.
    return free > 0 && claimed.length >= free && this.total < this.opts.maxInFlight;
  }

  /**
   * One attempt of one delivery (also used directly by the subscription test endpoint). A claimed
   * delivery brings its subscription, read under the claim; otherwise it is looked up here.
   */
  async attempt(d: WebhookDeliveryRow & { subscription?: WebhookSubscriptionRow | null }): Promise<SendResult & { status_after: WebhookDeliveryRow['status'] }> {
    const sub = d.subscription !== undefined ? d.subscription : await this.store.webhookSubscriptions.get(d.tenant_id, d.subscription_id);
    const attemptNo = d.attempts + 1;
    const now = new Date();
    if (!sub || !sub.enabled) {
      const result: SendResult = { status: null, duration_ms: 0, response_excerpt: null, error: 'subscription disabled or deleted', outcome: 'disable' };
      return { ...result, status_after: (await this.record(d, attemptNo, result, 'cancelled', null)).status };
    }
    // webhook-id: stable across retries and replays, so receivers can deduplicate.
    let result: SendResult;
    try {
      const signed = signDelivery({ id: webhookId(d.id), body: d.body, secrets: this.subscriptions.signingSecrets(sub), now });
      result = await sendWebhook({ url: sub.url, body: signed.body, headers: { ...signed.headers }, timeoutMs: this.opts.timeoutMs, policy: this.opts.policy() });
    } catch (err) {
      // e.g. the secret cannot be opened: still an attempt, so the schedule and dead-lettering apply.
      this.logger.error({ deliveryId: d.id, err: (err as Error).message }, 'webhook attempt could not be made');
      result = { status: null, duration_ms: 0, response_excerpt: null, error: 'internal error preparing the delivery', outcome: 'retry' };
    }
    let status: WebhookDeliveryRow['status'];
    let next: number | null = null;
    if (result.outcome === 'delivered') {
      status = 'delivered';
      if (sub.failing_since) await this.store.webhookSubscriptions.update(sub.tenant_id, sub.id, { failing_since: null });
    } else if (result.outcome === 'disable') {
      status = 'failed';
      await this.disable(sub, 'endpoint_gone', 'the receiver answered 410 Gone');
    } else {
      const at = nextAttemptAt(attemptNo, now, { schedule: this.opts.schedule });
      status = at ? 'pending' : 'failed';
      next = at ? at.getTime() : null;
      const failingSince = sub.failing_since ?? now.toISOString();
      if (!sub.failing_since) await this.store.webhookSubscriptions.update(sub.tenant_id, sub.id, { failing_since: failingSince });
      if (shouldDisableAfterContinuousFailure(failingSince, now, this.opts.disableAfterMs)) {
        await this.disable(sub, 'continuous_failure', `every delivery failed for ${Math.round(this.opts.disableAfterMs / 60_000)} min`);
      }
    }
    const after = await this.record(d, attemptNo, result, status, next);
    if (after.recorded) this.opts.onAttempt?.(result.outcome);
    return { ...result, status_after: after.status };
  }

  /**
   * Records the attempt under the lease `d` was claimed with; the delivery's status afterwards. A lost
   * lease (it expired; another worker may hold the delivery now) records nothing and counts nothing.
   */
  private async record(d: WebhookDeliveryRow, attempt: number, r: SendResult, status: WebhookDeliveryRow['status'], next: number | null): Promise<{ recorded: boolean; status: WebhookDeliveryRow['status'] }> {
    const { recorded, replaced } = await this.attempts.record(
      { id: newId(), tenant_id: d.tenant_id, delivery_id: d.id, attempt, status_code: r.status, response_excerpt: r.response_excerpt, duration_ms: r.duration_ms, error: r.error, created_at: new Date().toISOString() },
      { status, attempts: attempt, next_attempt_at: status === 'pending' ? next : null, last_status_code: r.status, last_error: r.error, delivered_at: status === 'delivered' ? new Date().toISOString() : null },
      d.locked_until,
      this.owned.has(d),
    );
    if (replaced) this.replaced.add(d);
    if (recorded) return { recorded, status };
    this.logger.warn({ deliveryId: d.id, tenantId: d.tenant_id, attempt, outcome: r.outcome }, 'webhook delivery lease lost before its attempt was recorded; attempt not recorded');
    return { recorded, status: (await this.store.webhookDeliveries.get(d.tenant_id, d.id))?.status ?? d.status };
  }

  private async disable(sub: WebhookSubscriptionRow, code: 'endpoint_gone' | 'continuous_failure', reason: string): Promise<void> {
    // Only the attempt that actually flips it publishes the event (8 may be in flight).
    if (!(await this.store.webhookSubscriptions.disable(sub.tenant_id, sub.id, reason))) return;
    await this.store.webhookDeliveries.cancelPending(sub.tenant_id, sub.id);
    this.logger.warn({ tenantId: sub.tenant_id, subscriptionId: sub.id, reason }, 'webhook subscription disabled');
    await this.events.publish(sub.tenant_id, 'integration.webhook_disabled', { subscription_id: sub.id, url: sub.url, reason: code, disabled_at: new Date().toISOString() }).catch((err: Error) =>
      this.logger.error({ err: err.message }, 'cannot publish integration.webhook_disabled'),
    );
  }
}
