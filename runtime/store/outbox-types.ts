// The webhook outbox's rows: events and their deliveries (sync-types.ts writes them with pages).

export interface EventRow {
  id: string;
  tenant_id: string;
  type: string;
  schema_version: number;
  occurred_at: string;
  data: Record<string, unknown>;
  source: 'internal' | 'inbound' | 'test' | 'sync';
  created_at: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface WebhookDeliveryRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  subscription_id: string;
  /** The exact JSON body signed and sent on every attempt and replay. */
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** Epoch ms when the next attempt is due (pending only). */
  next_attempt_at: number | null;
  locked_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

/** An event with its deliveries, written to the outbox together (by the webhooks service, or inside another repository's transaction). */
export interface OutboxItem {
  event: EventRow;
  deliveries: WebhookDeliveryRow[];
}
