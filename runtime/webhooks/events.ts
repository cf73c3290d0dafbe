// Normalized events: validated against schemas/events, stored with one delivery row per matching
// subscription in a single transaction, then handed to the dispatcher.
import type { Logger } from 'pino';
import type { Store, EventRow, WebhookDeliveryRow } from '../store/types.ts';
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

export class EventBus implements EventPublisher {
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
    const info = getEventType(type);
    if (!info) throw new PlugboardError('internal', `unknown event type ${type}`);
    const check = validateEventData(type, data);
    if (!check.ok) throw new PlugboardError('internal', `event ${type} does not match its schema: ${check.message}`);
    const now = new Date();
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
    const subs = (await this.store.webhookSubscriptions.enabled(tenantId)).filter((s) => (opts.onlySubscription ? s.id === opts.onlySubscription : matchesAny(s.events, type)));
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
    // An operation event nobody subscribes to needs no row (one is emitted per call). Everything
    // else is recorded: inbound events (their id makes reprocessing idempotent), integration events.
    if (deliveries.length || !type.startsWith('operation.')) await this.store.webhookDeliveries.createWithEvent(event, deliveries);
    if (deliveries.length) for (const l of this.listeners) l();
    for (const l of this.typeListeners.get(type) ?? []) l(tenantId, data);
    this.logger.debug({ tenantId, eventId: event.id, type, deliveries: deliveries.length }, 'event published');
    return { eventId: event.id, deliveries: deliveries.length, deliveryIds: deliveries.map((d) => d.id) };
  }
}
