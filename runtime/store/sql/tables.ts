// Kysely's view of the tables (one shape for SQLite and PostgreSQL). JSON columns are TEXT holding
// JSON, booleans are 0/1 integers, epoch-millisecond columns are numbers (PostgreSQL BIGINT parsed
// to number by the pool), so row mapping is the same on both databases. Keep in step with the
// migrations of both dialects (test/store/schema-parity.test.ts compares them).
import type { Generated } from 'kysely';

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface AuditLogTable {
  id: string;
  tenant_id: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  changed_fields: string;
  created_at: string;
}

export interface DeliveriesTable {
  id: string;
  tenant_id: string;
  operation_id: string;
  capability: string;
  integration_id: string;
  provider: string;
  attempt: number;
  status: string;
  provider_status_code: number | null;
  duration_ms: number;
  error: string | null;
  request_id: string | null;
  provider_request_id: string | null;
  created_at: string;
}

export interface EventsTable {
  id: string;
  tenant_id: string;
  type: string;
  schema_version: number;
  occurred_at: string;
  data: string;
  source: string;
  created_at: string;
}

export interface InboundEventsTable {
  id: string;
  tenant_id: string;
  integration_id: string;
  provider: string;
  provider_event_id: string | null;
  provider_event_type: string | null;
  status: string;
  reason: string | null;
  content_type: string | null;
  body: string;
  normalized_event_id: string | null;
  next_attempt_at: number | null;
  locked_until: number | null;
  attempts: Generated<number>;
  received_at: string;
  processed_at: string | null;
}

export interface InboundRejectionsTable {
  tenant_id: string;
  integration_id: string;
  provider: string;
  code: string;
  count: number;
  first_at: string;
  last_at: string;
  last_reason: string;
}

export interface IntegrationEnvironmentBackfillTable {
  integration_id: string;
  environment: string;
}

export interface IntegrationsTable {
  id: string;
  tenant_id: string;
  provider: string;
  status: string;
  enabled_capabilities: string;
  metadata: string;
  credentials_public: string;
  credentials_sealed: Buffer;
  data_key_wrapped: Buffer;
  master_key_id: string;
  credentials_version: Generated<number>;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  environment: string | null;
  system_metadata: Generated<string>;
  oauth_tokens_sealed: Buffer | null;
  token_expires_at: string | null;
  token_version: Generated<number>;
  connection: Generated<string>;
}

export interface OauthClientsTable {
  id: string;
  tenant_id: string;
  name: string;
  client_id: string;
  secret_hash: string;
  scopes: string;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface OauthRefreshLeasesTable {
  integration_id: string;
  tenant_id: string;
  holder: string;
  expires_at: number;
}

export interface OauthStatesTable {
  state_hash: string;
  tenant_id: string;
  provider: string;
  verifier_sealed: Buffer | null;
  data_key_wrapped: Buffer | null;
  master_key_id: string | null;
  return_to: string | null;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface OperationsTable {
  id: string;
  tenant_id: string;
  capability: string;
  idempotency_key: string | null;
  request_hash: string;
  status: string;
  http_status: number | null;
  response: string | null;
  created_at: string;
  updated_at: string;
  lease_expires_at: number | null;
}

export interface PlugboardSettingsTable {
  key: string;
  value: string;
}

export interface RevokedTokensTable {
  jti: string;
  tenant_id: string;
  expires_at: string;
}

export interface RoutingRulesTable {
  id: string;
  tenant_id: string;
  capability: string;
  integration_id: string;
  fallback_integration_id: string | null;
  is_default: Generated<number>;
  priority: Generated<number>;
  conditions: string;
  created_at: string;
  updated_at: string;
}

export interface TenantsTable {
  id: string;
  name: string;
  plan: Generated<string>;
  created_at: string;
  rate_limits: string | null;
}

export interface UsageMinutesTable {
  tenant_id: string;
  minute: string;
  credential: string;
  route: string;
  status: number;
  count: number;
  latency_ms_sum: number;
  latency_histogram: string;
}

export interface WebhookAttemptsTable {
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

export interface WebhookDeliveriesTable {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  subscription_id: string;
  body: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number | null;
  locked_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface WebhookSubscriptionsTable {
  id: string;
  tenant_id: string;
  kind: string;
  url: string;
  events: string;
  description: string | null;
  enabled: number;
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

export interface SyncStateTable {
  tenant_id: string;
  integration_id: string;
  stream: string;
  cursor: string | null;
  resume: string | null;
  run_id: string | null;
  lease_holder: string | null;
  lease_until: number | null;
  updated_at: string;
  /** Epoch ms an inbound webhook's run is due (null: none pending). */
  trigger_due_at: number | null;
}

export interface SyncRunsTable {
  id: string;
  tenant_id: string;
  integration_id: string;
  stream: string;
  full_refresh: Generated<number>;
  status: string;
  started_at: string;
  finished_at: string | null;
  pages: Generated<number>;
  records_read: Generated<number>;
  records_created: Generated<number>;
  records_updated: Generated<number>;
  records_deleted: Generated<number>;
  records_invalid: Generated<number>;
  invalid_keys: Generated<string>;
  cursor: string | null;
  error: string | null;
}

export interface RecordsTable {
  tenant_id: string;
  integration_id: string;
  provider: string;
  stream: string;
  model: string;
  key: string;
  data: string;
  hash: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  seen_run_id: string | null;
}

export interface Tables {
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  deliveries: DeliveriesTable;
  events: EventsTable;
  inbound_events: InboundEventsTable;
  inbound_rejections: InboundRejectionsTable;
  integration_environment_backfill: IntegrationEnvironmentBackfillTable;
  integrations: IntegrationsTable;
  oauth_clients: OauthClientsTable;
  oauth_refresh_leases: OauthRefreshLeasesTable;
  oauth_states: OauthStatesTable;
  operations: OperationsTable;
  plugboard_settings: PlugboardSettingsTable;
  records: RecordsTable;
  revoked_tokens: RevokedTokensTable;
  routing_rules: RoutingRulesTable;
  sync_runs: SyncRunsTable;
  sync_state: SyncStateTable;
  tenants: TenantsTable;
  usage_minutes: UsageMinutesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
}
