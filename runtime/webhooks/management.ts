// The rules behind the webhook management routes: testing and replaying subscriptions, reading and
// replaying outbound deliveries, REST-hook samples, and reprocessing inbound events. The API
// handlers only translate HTTP to these calls and back; refusals are typed PlugboardErrors.
import type { Store, ListQuery, ListResult, WebhookDeliveryRow, WebhookAttemptRow, WebhookSubscriptionRow, InboundEventRow } from '../store/types.ts';
import { PlugboardError, conflict, notFound } from '../errors/plugboard-error.ts';
import { newId } from '../store/ids.ts';
import { listEventTypes, matchesPattern, validateEventPatterns } from './catalog.ts';
import { createEnvelope, type EventEnvelope } from './signing.ts';
import type { EventPublisher } from './events.ts';
import type { SubscriptionService } from './subscriptions.ts';
import type { WebhookDispatcher } from './dispatcher.ts';
import type { AuditContext, AuditLog } from '../access/audit.ts';

/** REST hooks (Zapier, Make, n8n) show at most this many samples. */
const SAMPLES = 3;

export type TestAttempt = Awaited<ReturnType<WebhookDispatcher['attempt']>>;

export class WebhookManagement {
  constructor(
    private readonly store: Store,
    private readonly subscriptions: SubscriptionService,
    private readonly events: EventPublisher,
    private readonly dispatcher: Pick<WebhookDispatcher, 'attempt' | 'notify'>,
    private readonly inbound: { notify(): void },
    private readonly audit: AuditLog,
  ) {}

  listSubscriptions(tenantId: string, q: ListQuery): Promise<ListResult<WebhookSubscriptionRow>> {
    return this.store.webhookSubscriptions.list(tenantId, { ...q, kind: 'subscription' });
  }

  /** Sends a webhook.test event to one enabled subscription now; retries follow the normal schedule. */
  async test(tenantId: string, subscriptionId: string): Promise<{ delivery: WebhookDeliveryRow; result: TestAttempt }> {
    const sub = await this.enabledSubscription(tenantId, subscriptionId);
    const sample = listEventTypes().find((t) => t.type === 'webhook.test')!.sample as Record<string, unknown>;
    // Deferred: this request makes the first attempt itself.
    const published = await this.events.publish(tenantId, 'webhook.test', { ...sample, subscription_id: sub.id }, { source: 'test', onlySubscription: sub.id, deferMs: 60_000 });
    const delivery = (await this.store.webhookDeliveries.get(tenantId, published.deliveryIds[0]!))!;
    return { delivery, result: await this.dispatcher.attempt(delivery) };
  }

  /** Queues again every delivery of an enabled subscription created since `since` (ISO); returns how many. */
  async replaySubscription(ctx: AuditContext, subscriptionId: string, since: string): Promise<{ subscription: WebhookSubscriptionRow; queued: number }> {
    const tenantId = ctx.principal.tenantId;
    const subscription = await this.enabledSubscription(tenantId, subscriptionId);
    const ids = await this.store.webhookDeliveries.idsForSubscription(tenantId, subscription.id, since);
    const queued = await this.store.webhookDeliveries.requeue(tenantId, ids, Date.now());
    this.dispatcher.notify();
    await this.audit.record(ctx, 'webhook_subscription.replayed', 'webhook_subscription', subscription.id, ['since']);
    return { subscription, queued };
  }

  listDeliveries(tenantId: string, f: ListQuery & { status?: string; subscription_id?: string; event_type?: string }): Promise<ListResult<WebhookDeliveryRow>> {
    return this.store.webhookDeliveries.list(tenantId, f);
  }

  async delivery(tenantId: string, id: string): Promise<{ delivery: WebhookDeliveryRow; attempts: WebhookAttemptRow[] }> {
    const delivery = await this.store.webhookDeliveries.get(tenantId, id);
    if (!delivery) throw notFound('Delivery');
    return { delivery, attempts: await this.store.webhookDeliveries.attempts(tenantId, delivery.id) };
  }

  /** Sends one delivery again with the same webhook-id; refused while it is in flight or its subscription is off. */
  async replayDelivery(ctx: AuditContext, id: string): Promise<WebhookDeliveryRow> {
    const tenantId = ctx.principal.tenantId;
    const d = await this.store.webhookDeliveries.get(tenantId, id);
    if (!d) throw notFound('Delivery');
    const sub = await this.store.webhookSubscriptions.get(tenantId, d.subscription_id);
    if (!sub?.enabled) throw conflict('The subscription is disabled or deleted: enable it first.', 'subscription_disabled');
    if (!(await this.store.webhookDeliveries.requeue(tenantId, [d.id], Date.now()))) {
      throw conflict('The delivery is being sent right now; replay it once this attempt has finished.', 'delivery_in_flight');
    }
    this.dispatcher.notify();
    await this.audit.record(ctx, 'webhook_delivery.replayed', 'webhook_delivery', d.id);
    return (await this.store.webhookDeliveries.get(tenantId, d.id))!;
  }

  /** Up to three recent real event bodies matching the pattern, else made-up ones from the catalog. */
  async samples(tenantId: string, pattern: string): Promise<Array<EventEnvelope | Record<string, unknown>>> {
    if (Object.keys(validateEventPatterns([pattern], 'event')).length) throw new PlugboardError('not_found', `Unknown event type "${pattern}".`);
    const recent = await this.store.webhookDeliveries.list(tenantId, { page: 1, perPage: 100 });
    const real = recent.items.filter((d) => matchesPattern(pattern, d.event_type) && d.event_type !== 'webhook.test');
    const seen = new Set<string>();
    const bodies = real.filter((d) => !seen.has(d.event_id) && seen.add(d.event_id)).slice(0, SAMPLES).map((d) => JSON.parse(d.body) as Record<string, unknown>);
    if (bodies.length) return bodies;
    return listEventTypes()
      .filter((t) => matchesPattern(pattern, t.type) && t.type !== 'webhook.test')
      .slice(0, SAMPLES)
      .map((t) => createEnvelope({ type: t.type, id: newId(), schema_version: t.schema_version, occurred_at: new Date(), tenant_id: tenantId, data: t.sample }));
  }

  /** Queues a failed or ignored inbound event (e.g. after a manifest fix) for processing again. */
  async reprocessInbound(ctx: AuditContext, id: string): Promise<InboundEventRow> {
    const tenantId = ctx.principal.tenantId;
    const ev = await this.store.inboundEvents.get(tenantId, id);
    if (!ev) throw notFound('Inbound event');
    // Processed events already produced their normalized event (same id), and rejected ones were
    // never authenticated: only failed and ignored events are reprocessed.
    if (ev.status !== 'failed' && ev.status !== 'ignored') {
      throw conflict(`A ${ev.status} event cannot be reprocessed; only failed and ignored ones can.`, 'not_reprocessable');
    }
    if (!(await this.store.inboundEvents.requeue(tenantId, ev.id, Date.now()))) throw conflict('The event is being processed right now.', 'event_in_flight');
    this.inbound.notify();
    await this.audit.record(ctx, 'inbound_event.reprocessed', 'inbound_event', ev.id);
    return ev;
  }

  private async enabledSubscription(tenantId: string, id: string): Promise<WebhookSubscriptionRow> {
    const sub = await this.subscriptions.get(tenantId, id, 'subscription');
    if (!sub.enabled) throw conflict('The subscription is disabled: enable it first.', 'subscription_disabled');
    return sub;
  }
}
