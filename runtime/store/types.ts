// The persistence interface. Services depend on this only; SQLite (default) and PostgreSQL (later)
// implement it. Every method that reads or writes tenant data takes the tenant id and filters on it.
import { PlugboardError } from '../errors/plugboard-error.ts';
import type { IntegrationStore } from './integration-types.ts';
import type { RateLimitStore } from './rate-limits.ts';
import type { ListQuery, ListResult } from './list.ts';
import type { OperationStore, DeliveryRow, DeliveryFilter } from './operation-types.ts';
import type { OAuthStore } from './oauth-types.ts';
import type { SyncStore } from './sync-types.ts';

export type { IntegrationStatus, IntegrationRow, IntegrationFilter, IntegrationStore } from './integration-types.ts';
export type { RateLimitStore } from './rate-limits.ts';
export type { ListQuery, ListResult } from './list.ts';
export type { OperationStore, OperationRow, DeliveryRow, DeliveryFilter, AttemptResult } from './operation-types.ts';
export { UNKNOWN_ATTEMPT_ERROR } from './operation-types.ts';
export type { OAuthStore, OAuthStateRow } from './oauth-types.ts';
export type { SyncStore } from './sync-types.ts';
export type { EventRow, WebhookDeliveryRow, OutboxItem } from './outbox-types.ts';
import type { EventRow, WebhookDeliveryRow, OutboxItem } from './outbox-types.ts';

export interface RateLimitSettings {
  per_hour: number;
  burst: number;
  /** Seconds of the burst window (default 60). */
  burst_window_seconds?: number;
}

export interface TenantRow {
  id: string;
  name: string;
  plan: string;
  /** Overrides the plan's limits when set. */
  rate_limits?: RateLimitSettings | null;
  created_at: string;
}

export interface OAuthClientRow {
  id: string;
  tenant_id: string;
  name: string;
  client_id: string;
  secret_hash: string;
  scopes: string[];
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface AuditEntry {
  id: string;
  tenant_id: string;
  /** key:<id>, client:<id> or cli. */
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  changed_fields: string[];
  created_at: string;
}

export interface AuditFilter extends ListQuery {
  action?: string;
  target_type?: string;
  target_id?: string;
  actor?: string;
  from?: string;
  to?: string;
}

export interface UsageRow {
  tenant_id: string;
  minute: string;
  credential: string;
  route: string;
  status: number;
  count: number;
  latency_ms_sum: number;
  /** Counts per latency bucket (USAGE_BUCKETS_MS upper bounds, last = overflow). */
  latency_histogram: number[];
}

export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string[];
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface RoutingRuleRow {
  id: string;
  tenant_id: string;
  capability: string;
  integration_id: string;
  fallback_integration_id: string | null;
  is_default: boolean;
  priority: number;
  conditions: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface WebhookSubscriptionRow {
  id: string;
  tenant_id: string;
  /** subscription (POST /webhooks/subscriptions) or rest_hook (POST /hooks). */
  kind: 'subscription' | 'rest_hook';
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** { current, previous? } secrets, sealed like credentials (never plaintext). */
  secret_sealed: Buffer;
  data_key_wrapped: Buffer;
  master_key_id: string;
  previous_secret_expires_at: string | null;
  failing_since: string | null;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** A leased delivery and its subscription read in the same transaction (null: deleted since). */
export type ClaimedDelivery = WebhookDeliveryRow & { subscription: WebhookSubscriptionRow | null };

/** What one claim asks for (see claimDue). */
export type ClaimQuery = { now: number; leaseMs: number; limit: number; perSubscription: number };
export type AttemptBatch = Array<{ attempt: WebhookAttemptRow; update: AttemptUpdate; lease: number | null }>;
/** What an attempt changes on its delivery. */
export type AttemptUpdate = Pick<WebhookDeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'delivered_at'>;

export interface WebhookAttemptRow {
  id: string;
  tenant_id: string;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  response_excerpt: string | null;
  duration_ms: number;
  error: string | null;
  created_at: string;
}

export interface InboundEventRow {
  id: string;
  tenant_id: string;
  integration_id: string;
  provider: string;
  provider_event_id: string | null;
  provider_event_type: string | null;
  status: 'received' | 'processed' | 'ignored' | 'rejected' | 'failed';
  reason: string | null;
  content_type: string | null;
  body: string;
  normalized_event_id: string | null;
  next_attempt_at: number | null;
  locked_until: number | null;
  attempts: number;
  received_at: string;
  processed_at: string | null;
}

/** Rejected inbound requests of one integration for one reason code, counted since the first. */
export interface InboundRejectionCount {
  tenant_id: string;
  integration_id: string;
  provider: string;
  code: string;
  count: number;
  first_at: string;
  last_at: string;
  last_reason: string;
}

export interface SealedKeyRef {
  kind: 'integration' | 'webhook_subscription';
  id: string;
  tenant_id: string;
  data_key_wrapped: Buffer;
  master_key_id: string;
}

/** A unique constraint refused a row (duplicate idempotency key, event id, integration). */
export class UniqueViolation extends PlugboardError {
  constructor(message: string) {
    super('conflict', message, { code: 'unique_violation' });
  }
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Rate-limit counters shared by every process on this store (never per-process). */
  readonly rateLimits: RateLimitStore;

  tenants: {
    create(row: TenantRow): Promise<void>;
    get(id: string): Promise<TenantRow | undefined>;
    update(id: string, patch: Partial<Pick<TenantRow, 'name' | 'plan' | 'rate_limits'>>): Promise<TenantRow | undefined>;
  };
  apiKeys: {
    create(row: ApiKeyRow): Promise<void>;
    /** Looks a key up by its hash (the only lookup that is not tenant-scoped: it finds the tenant). */
    findByHash(hash: string): Promise<ApiKeyRow | undefined>;
    get(tenantId: string, id: string): Promise<ApiKeyRow | undefined>;
    list(tenantId: string, q: ListQuery): Promise<ListResult<ApiKeyRow>>;
    revoke(tenantId: string, id: string, at: string): Promise<boolean>;
    /** Batched last_used_at updates (ids may belong to several tenants: ids are unique). */
    touch(uses: Array<{ id: string; at: string }>): Promise<void>;
  };
  oauthClients: {
    create(row: OAuthClientRow): Promise<void>;
    /** By public client_id (not tenant-scoped: it finds the tenant). */
    findByClientId(clientId: string): Promise<OAuthClientRow | undefined>;
    findById(id: string): Promise<OAuthClientRow | undefined>;
    list(tenantId: string, q: ListQuery): Promise<ListResult<OAuthClientRow>>;
    revoke(tenantId: string, id: string, at: string): Promise<boolean>;
  };
  revokedTokens: {
    add(jti: string, tenantId: string, expiresAt: string): Promise<void>;
    isRevoked(jti: string): Promise<boolean>;
  };
  audit: {
    append(entry: AuditEntry): Promise<void>;
    list(tenantId: string, f: AuditFilter): Promise<ListResult<AuditEntry>>;
  };
  webhookSubscriptions: {
    create(row: WebhookSubscriptionRow): Promise<void>;
    get(tenantId: string, id: string): Promise<WebhookSubscriptionRow | undefined>;
    list(tenantId: string, q: ListQuery & { kind?: WebhookSubscriptionRow['kind'] }): Promise<ListResult<WebhookSubscriptionRow>>;
    /** Enabled, live subscriptions of a tenant (pattern matching happens in the service). */
    enabled(tenantId: string): Promise<WebhookSubscriptionRow[]>;
    update(tenantId: string, id: string, patch: Partial<Omit<WebhookSubscriptionRow, 'id' | 'tenant_id' | 'created_at'>>): Promise<WebhookSubscriptionRow | undefined>;
    /** Disables an enabled subscription; false when it already was (so side effects happen once). */
    disable(tenantId: string, id: string, reason: string): Promise<boolean>;
  };
  webhookDeliveries: {
    /** Stores an event and its deliveries in one transaction: nothing is attempted before this returns. */
    createWithEvent(event: EventRow, deliveries: WebhookDeliveryRow[]): Promise<void>;
    /** Many events with their deliveries in one transaction. */
    createWithEvents(items: OutboxItem[]): Promise<void>;
    get(tenantId: string, id: string): Promise<WebhookDeliveryRow | undefined>;
    list(tenantId: string, f: ListQuery & { status?: string; subscription_id?: string; event_type?: string }): Promise<ListResult<WebhookDeliveryRow>>;
    /**
     * Atomically leases (until now + leaseMs) up to `limit` due pending deliveries, oldest due
     * first, at most `perSubscription` in flight per subscription across all processes (in flight:
     * pending with locked_until > now, counted in the database). A pure store operation. Each row
     * comes with its subscription as read under the claim (null when it was deleted), so the
     * worker needs no lookup per delivery.
     */
    claimDue(q: ClaimQuery): Promise<ClaimedDelivery[]>;
    /**
     * Records one attempt and the delivery's new state together, only while the delivery still
     * carries `lease` (the claimed row's locked_until; null for an unclaimed row attempted directly).
     * False, with nothing recorded, when the lease was lost (expired, maybe re-leased by another worker).
     */
    recordAttempt(attempt: WebhookAttemptRow, update: AttemptUpdate, lease: number | null): Promise<boolean>;
    /** recordAttempt for many deliveries in one transaction (the dispatcher's write batch); one answer each, in order. */
    recordAttempts(batch: AttemptBatch): Promise<boolean[]>;
    /** recordAttempts, then claimDue(q) in the same transaction (one commit per finished batch of the dispatcher). */
    recordAttemptsAndClaim(batch: AttemptBatch, q: ClaimQuery): Promise<{ recorded: boolean[]; claimed: ClaimedDelivery[] }>;
    attempts(tenantId: string, deliveryId: string): Promise<WebhookAttemptRow[]>;
    /** Back to pending, due now (replay); attempts restart. Deliveries a worker holds right now are skipped. */
    requeue(tenantId: string, ids: string[], now: number): Promise<number>;
    idsForSubscription(tenantId: string, subscriptionId: string, since: string): Promise<string[]>;
    /** Cancels pending deliveries of a subscription (deleted or disabled). */
    cancelPending(tenantId: string, subscriptionId: string): Promise<number>;
    /** Pending deliveries due at `now` (all tenants; for the queue-depth metric). */
    countDue(now: number): Promise<number>;
  };
  inboundEvents: {
    /** Throws UniqueViolation for an already stored provider event id (a duplicate). */
    create(row: InboundEventRow): Promise<void>;
    get(tenantId: string, id: string): Promise<InboundEventRow | undefined>;
    list(tenantId: string, f: ListQuery & { status?: string; integration_id?: string }): Promise<ListResult<InboundEventRow>>;
    claimDue(now: number, leaseMs: number, limit: number): Promise<InboundEventRow[]>;
    finish(tenantId: string, id: string, patch: Pick<InboundEventRow, 'status' | 'reason' | 'normalized_event_id' | 'processed_at' | 'next_attempt_at' | 'attempts' | 'provider_event_type'>): Promise<void>;
    requeue(tenantId: string, id: string, now: number): Promise<boolean>;
    /**
     * Unauthenticated requests cost a counter, not a row each: adds the counts and stores the samples
     * as `rejected` events (no bodies), keeping only the newest `keep` rejected events per integration.
     */
    addRejections(counts: InboundRejectionCount[], samples: InboundEventRow[], keep: number): Promise<void>;
    rejections(tenantId: string, f: ListQuery & { integration_id?: string }): Promise<ListResult<InboundRejectionCount>>;
    /** Received events due for processing at `now` (all tenants; for the queue-depth metric). */
    countDue(now: number): Promise<number>;
  };
  usage: {
    /** Adds counts into existing minute rows (upsert-add). */
    add(rows: UsageRow[]): Promise<void>;
    range(tenantId: string, from: string, to: string): Promise<UsageRow[]>;
  };
  integrations: IntegrationStore;
  /** Every sealed secret's key material (integrations, webhook subscriptions), for master key rotation. Not tenant-scoped by design. */
  sealedKeys: {
    all(): Promise<SealedKeyRef[]>;
    /** Compare-and-swap: a row changed since it was read (e.g. new credentials) is left alone; returns the rows updated. */
    rewrap(rows: Array<SealedKeyRef & { old_data_key_wrapped: Buffer; old_master_key_id: string }>): Promise<number>;
  };
  routingRules: {
    create(row: RoutingRuleRow): Promise<void>;
    get(tenantId: string, id: string): Promise<RoutingRuleRow | undefined>;
    list(tenantId: string, filter: ListQuery & { capability?: string }): Promise<ListResult<RoutingRuleRow>>;
    forCapability(tenantId: string, capability: string): Promise<RoutingRuleRow[]>;
    update(tenantId: string, id: string, patch: Partial<Omit<RoutingRuleRow, 'id' | 'tenant_id' | 'created_at'>>): Promise<RoutingRuleRow | undefined>;
    delete(tenantId: string, id: string): Promise<boolean>;
    /** An integration was deleted: drop rules that route to it, clear it as a fallback. */
    detachIntegration(tenantId: string, integrationId: string): Promise<void>;
  };
  /** Provider attempts of operations (written through `operations`). */
  deliveries: {
    get(tenantId: string, id: string): Promise<DeliveryRow | undefined>;
    list(tenantId: string, filter: DeliveryFilter): Promise<ListResult<DeliveryRow>>;
  };
  operations: OperationStore;
  /** OAuth connections: authorization states, refresh leases, token writes. */
  oauthConnections: OAuthStore;
  /** Sync: stream state and leases, runs, and the records streams keep. */
  sync: SyncStore;
  /** System settings (not tenant data), e.g. the fingerprint of the master key the database was set up with. */
  settings: {
    get(key: string): Promise<string | undefined>;
    /** Stores `value` unless the key already has one; returns the value stored (the first writer's). */
    putIfAbsent(key: string, value: string): Promise<string>;
    put(key: string, value: string): Promise<void>;
  };
}
