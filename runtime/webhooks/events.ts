// Normalized events: validated against schemas/events, stored with one delivery row per matching
// subscription in a single transaction, then handed to the dispatcher.
import type { Logger } from 'pino';
import type { Store, EventRow, WebhookDeliveryRow, WebhookSubscriptionRow, OutboxItem } from '../store/types.ts';
import { newId } from '../store/ids.ts';
import { getEventType, matchesAny, validateEventData } from './catalog.ts';
import { createEnvelope, serializeEnvelope } from './signing.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface PublishOptions {
  source?: EventRow['source'];
  occurredAt?: string;
  /** Deliver to this subscription only (test events). */
  onlySubscription?: string;
  /** Leave the deliveries to the caller for this long (it attempts them itself first). */
  deferMs?: number;
  /** Use this event id (idempotent publishing: a second publish with it throws UniqueViolation). */
  eventId?: string;
}

export interface EventPublisher {
  /** Stores the event and its deliveries; resolves with the event id once both are durable. */
  publish(tenantId: string, type: string, data: Record<string, unknown>, opts?: PublishOptions): Promise<{ eventId: string; deliveries: number; deliveryIds: string[] }>;
}

/** Events written inside another repository's transaction (see EventBus.stage). */
export interface EventStager {
  stage(tenantId: string, opts?: Pick<PublishOptions, 'source'>): Promise<{ build(items: Array<{ type: string; data: Record<string, unknown> }>): OutboxItem[]; announce(items: OutboxItem[]): void }>;
}

export class EventBus implements EventPublisher, EventStager {
  private listeners: Array<() => void> = [];
  private readonly typeListeners = new Map<string, Array<(tenantId: string, data: Record<string, unknown>) => void>>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Called after new deliveries are stored (the dispatcher wakes up at once). */
  onDeliveries(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Called in this process after an event of `type` is stored (e.g. integration.activated schedules sync). */
  onEvent(type: string, fn: (tenantId: string, data: Record<string, unknown>) => void): void {
    this.typeListeners.set(type, [...(this.typeListeners.get(type) ?? []), fn]);
  }

  async publish(tenantId: string, type: string, data: Record<string, unknown>, opts: PublishOptions = {}) {
    const now = new Date();
    const subs = (await this.store.webhookSubscriptions.enabled(tenantId)).filter((s) => (opts.onlySubscription ? s.id === opts.onlySubscription : matchesAny(s.events, type)));
    const { event, deliveries } = prepare(tenantId, type, data, subs, now, opts);
    // An operation event nobody subscribes to needs no row (one is emitted per call). Everything
    // else is recorded: inbound events (their id makes reprocessing idempotent), integration events.
    if (deliveries.length || !type.startsWith('operation.')) await this.store.webhookDeliveries.createWithEvent(event, deliveries);
    this.stored(tenantId, [{ event, deliveries }]);
    return { eventId: event.id, deliveries: deliveries.length, deliveryIds: deliveries.map((d) => d.id) };
  }

  /**
   * Outbox rows for events another repository writes in its own transaction (a sync page and the
   * record events it announces commit together). `build` uses the tenant's subscriptions as they
   * are now and leaves out events nobody subscribes to (the records stay readable through GET
   * /records); call `announce` with what was committed to wake the dispatcher.
   */
  async stage(tenantId: string, opts: Pick<PublishOptions, 'source'> = {}): Promise<{ build(items: Array<{ type: string; data: Record<string, unknown> }>): OutboxItem[]; announce(items: OutboxItem[]): void }> {
    const enabled = await this.store.webhookSubscriptions.enabled(tenantId);
    return {
      build: (items) => {
        const now = new Date();
        const out: OutboxItem[] = [];
        for (const { type, data } of items) {
          const subs = enabled.filter((s) => matchesAny(s.events, type));
          if (!subs.length) continue;
          try {
            out.push(prepare(tenantId, type, data, subs, now, opts));
          } catch (err) {
            // An event off its schema is a bug here; it must not undo the write it announces.
            this.logger.error({ tenantId, type, err: (err as Error).message }, 'event left out: it does not match its schema');
          }
        }
        return out;
      },
      announce: (items) => this.stored(tenantId, items),
    };
  }

  private stored(tenantId: string, batch: OutboxItem[]): void {
    if (batch.some((b) => b.deliveries.length)) for (const l of this.listeners) l();
    for (const { event, deliveries } of batch) {
      for (const l of this.typeListeners.get(event.type) ?? []) l(tenantId, event.data);
      this.logger.debug({ tenantId, eventId: event.id, type: event.type, deliveries: deliveries.length }, 'event published');
    }
  }
}

/** An event (validated against its schema) and one pending delivery per subscription. */
function prepare(tenantId: string, type: string, data: Record<string, unknown>, subs: WebhookSubscriptionRow[], now: Date, opts: PublishOptions): OutboxItem {
  const info = getEventType(type);
  if (!info) throw new PlugboardError('internal', `unknown event type ${type}`);
  const check = validateEventData(type, data);
  if (!check.ok) throw new PlugboardError('internal', `event ${type} does not match its schema: ${check.message}`);
  const event: EventRow = {
    id: opts.eventId ?? newId(),
    tenant_id: tenantId,
    type,
    schema_version: info.schema_version,
    occurred_at: opts.occurredAt ?? now.toISOString(),
    data,
    source: opts.source ?? 'internal',
    created_at: now.toISOString(),
  };
  const body = serializeEnvelope(createEnvelope({ type, id: event.id, schema_version: event.schema_version, occurred_at: event.occurred_at, tenant_id: tenantId, data }));
  const deliveries: WebhookDeliveryRow[] = subs.map((s) => ({
    id: newId(),
    tenant_id: tenantId,
    event_id: event.id,
    event_type: type,
    subscription_id: s.id,
    body,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now.getTime() + (opts.deferMs ?? 0),
    locked_until: null,
    last_status_code: null,
    last_error: null,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    delivered_at: null,
  }));
  return { event, deliveries };
}
