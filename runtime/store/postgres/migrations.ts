// Schema migrations for PostgreSQL, applied in order on start; the table plugboard_migrations
// records each applied version. Never edit a released migration: add a new one, and add the same
// change to the SQLite migrations (test/store/schema-parity.test.ts compares the two schemas).
// Types: TEXT -> text, INTEGER -> integer, epoch-millisecond columns -> bigint, REAL -> double
// precision, BLOB -> bytea; JSON stays text so row mapping is shared with SQLite.
import type pg from 'pg';

export const POSTGRES_MIGRATIONS: string[] = [
  // 1: the whole schema of SQLite migrations 1-10.
  `
  CREATE TABLE tenants (
    id text PRIMARY KEY,
    name text NOT NULL,
    plan text NOT NULL DEFAULT 'basic',
    created_at text NOT NULL,
    rate_limits text
  );
  CREATE TABLE api_keys (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    scopes text NOT NULL,
    expires_at text,
    last_used_at text,
    revoked_at text,
    created_at text NOT NULL
  );
  CREATE INDEX api_keys_tenant ON api_keys(tenant_id);
  CREATE TABLE integrations (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    provider text NOT NULL,
    status text NOT NULL,
    enabled_capabilities text NOT NULL,
    metadata text NOT NULL,
    credentials_public text NOT NULL,
    credentials_sealed bytea NOT NULL,
    data_key_wrapped bytea NOT NULL,
    master_key_id text NOT NULL,
    credentials_version integer NOT NULL DEFAULT 1,
    verified_at text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    deleted_at text,
    environment text,
    system_metadata text NOT NULL DEFAULT '{}',
    oauth_tokens_sealed bytea,
    token_expires_at text,
    token_version integer NOT NULL DEFAULT 0,
    connection text NOT NULL DEFAULT '{}'
  );
  CREATE UNIQUE INDEX integrations_one_per_provider ON integrations(tenant_id, provider) WHERE deleted_at IS NULL;
  CREATE INDEX integrations_tenant ON integrations(tenant_id, created_at);
  CREATE TABLE integration_environment_backfill (integration_id text PRIMARY KEY, environment text NOT NULL);
  CREATE TABLE routing_rules (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    capability text NOT NULL,
    integration_id text NOT NULL,
    fallback_integration_id text,
    is_default integer NOT NULL DEFAULT 0,
    priority integer NOT NULL DEFAULT 100,
    conditions text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL
  );
  CREATE INDEX routing_rules_capability ON routing_rules(tenant_id, capability, priority);
  CREATE TABLE operations (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    capability text NOT NULL,
    idempotency_key text,
    request_hash text NOT NULL,
    status text NOT NULL,
    http_status integer,
    response text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    lease_expires_at bigint
  );
  CREATE UNIQUE INDEX operations_idempotency ON operations(tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX operations_in_progress ON operations(lease_expires_at) WHERE status = 'in_progress';
  CREATE TABLE deliveries (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    operation_id text NOT NULL,
    capability text NOT NULL,
    integration_id text NOT NULL,
    provider text NOT NULL,
    attempt integer NOT NULL,
    status text NOT NULL,
    provider_status_code integer,
    duration_ms integer NOT NULL,
    error text,
    request_id text,
    provider_request_id text,
    created_at text NOT NULL
  );
  CREATE INDEX deliveries_tenant ON deliveries(tenant_id, created_at);
  CREATE INDEX deliveries_operation ON deliveries(tenant_id, operation_id);
  CREATE INDEX deliveries_in_progress ON deliveries(operation_id) WHERE status = 'in_progress';
  -- Counters of rate-limiter-flexible's RateLimiterPostgres, in the shape it creates itself.
  CREATE TABLE rate_limits (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint);
  CREATE TABLE oauth_clients (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    name text NOT NULL,
    client_id text NOT NULL UNIQUE,
    secret_hash text NOT NULL,
    scopes text NOT NULL,
    revoked_at text,
    last_used_at text,
    created_at text NOT NULL
  );
  CREATE INDEX oauth_clients_tenant ON oauth_clients(tenant_id);
  CREATE TABLE revoked_tokens (
    jti text PRIMARY KEY,
    tenant_id text NOT NULL,
    expires_at text NOT NULL
  );
  CREATE TABLE audit_log (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    actor text NOT NULL,
    action text NOT NULL,
    target_type text NOT NULL,
    target_id text,
    request_id text,
    changed_fields text NOT NULL,
    created_at text NOT NULL
  );
  CREATE INDEX audit_log_tenant ON audit_log(tenant_id, created_at);
  -- Append-only: the database refuses to change, remove or truncate audit entries.
  CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
  END
  $$;
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
  CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
  CREATE TABLE usage_minutes (
    tenant_id text NOT NULL,
    minute text NOT NULL,
    credential text NOT NULL,
    route text NOT NULL,
    status integer NOT NULL,
    count integer NOT NULL,
    latency_ms_sum double precision NOT NULL,
    latency_histogram text NOT NULL,
    PRIMARY KEY (tenant_id, minute, credential, route, status)
  );
  CREATE TABLE webhook_subscriptions (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    kind text NOT NULL,
    url text NOT NULL,
    events text NOT NULL,
    description text,
    enabled integer NOT NULL,
    secret_sealed bytea NOT NULL,
    data_key_wrapped bytea NOT NULL,
    master_key_id text NOT NULL,
    previous_secret_expires_at text,
    failing_since text,
    disabled_reason text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    deleted_at text
  );
  CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions(tenant_id, created_at);
  CREATE TABLE events (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    type text NOT NULL,
    schema_version integer NOT NULL,
    occurred_at text NOT NULL,
    data text NOT NULL,
    source text NOT NULL,
    created_at text NOT NULL
  );
  CREATE INDEX events_tenant ON events(tenant_id, created_at);
  CREATE TABLE webhook_deliveries (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id),
    event_id text NOT NULL,
    event_type text NOT NULL,
    subscription_id text NOT NULL,
    body text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    locked_until bigint,
    last_status_code integer,
    last_error text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    delivered_at text,
    UNIQUE (event_id, subscription_id)
  );
  -- Covers the claim scan without touching the (large) rows.
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at, locked_until, subscription_id, id);
  CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries(tenant_id, created_at);
  CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries(tenant_id, subscription_id, created_at);
  CREATE TABLE webhook_attempts (
    id text PRIMARY KEY,
    tenant_id text NOT NULL,
    delivery_id text NOT NULL,
    attempt integer NOT NULL,
    status_code integer,
    response_excerpt text,
    duration_ms integer NOT NULL,
    error text,
    created_at text NOT NULL
  );
  CREATE INDEX webhook_attempts_delivery ON webhook_attempts(tenant_id, delivery_id, attempt);
  CREATE TABLE inbound_events (
    id text PRIMARY KEY,
    tenant_id text NOT NULL,
    integration_id text NOT NULL,
    provider text NOT NULL,
    provider_event_id text,
    provider_event_type text,
    status text NOT NULL,
    reason text,
    content_type text,
    body text NOT NULL,
    normalized_event_id text,
    next_attempt_at bigint,
    locked_until bigint,
    attempts integer NOT NULL DEFAULT 0,
    received_at text NOT NULL,
    processed_at text
  );
  CREATE UNIQUE INDEX inbound_events_dedupe ON inbound_events(tenant_id, integration_id, provider_event_id) WHERE provider_event_id IS NOT NULL AND status != 'rejected';
  CREATE INDEX inbound_events_due ON inbound_events(status, next_attempt_at);
  CREATE INDEX inbound_events_tenant ON inbound_events(tenant_id, received_at);
  CREATE INDEX inbound_events_rejected ON inbound_events(integration_id, received_at) WHERE status = 'rejected';
  CREATE TABLE inbound_rejections (
    tenant_id text NOT NULL,
    integration_id text NOT NULL,
    provider text NOT NULL,
    code text NOT NULL,
    count integer NOT NULL,
    first_at text NOT NULL,
    last_at text NOT NULL,
    last_reason text NOT NULL,
    PRIMARY KEY (tenant_id, integration_id, code)
  );
  CREATE TABLE oauth_states (
    state_hash text PRIMARY KEY,
    tenant_id text NOT NULL,
    provider text NOT NULL,
    verifier_sealed bytea,
    data_key_wrapped bytea,
    master_key_id text,
    return_to text,
    expires_at text NOT NULL,
    used_at text,
    created_at text NOT NULL
  );
  CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
  CREATE TABLE oauth_refresh_leases (
    integration_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    holder text NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE TABLE plugboard_settings (key text PRIMARY KEY, value text NOT NULL);
  `,
  // Deliveries in flight per endpoint are counted at every claim: the leased rows only (SQLite 11).
  `
  CREATE INDEX webhook_deliveries_leased ON webhook_deliveries(status, locked_until, subscription_id) WHERE locked_until IS NOT NULL;
  `,
  // Sync (streams, SQLite 12): per stream state (incremental cursor, resume token of the next page, the lease
  // that lets one process at a time run the stream), runs (newest first per integration), and the
  // records streams keep, upserted by primary key, soft-deleted by a full refresh, listed newest
  // updated first per tenant.
  `
  CREATE TABLE sync_state (
    tenant_id text NOT NULL,
    integration_id text NOT NULL,
    stream text NOT NULL,
    cursor text,
    resume text,
    run_id text,
    lease_holder text,
    lease_until bigint,
    updated_at text NOT NULL,
    PRIMARY KEY (tenant_id, integration_id, stream)
  );
  CREATE TABLE sync_runs (
    id text PRIMARY KEY,
    tenant_id text NOT NULL,
    integration_id text NOT NULL,
    stream text NOT NULL,
    full_refresh integer NOT NULL DEFAULT 0,
    status text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    pages integer NOT NULL DEFAULT 0,
    records_read integer NOT NULL DEFAULT 0,
    records_created integer NOT NULL DEFAULT 0,
    records_updated integer NOT NULL DEFAULT 0,
    records_deleted integer NOT NULL DEFAULT 0,
    records_invalid integer NOT NULL DEFAULT 0,
    invalid_keys text NOT NULL DEFAULT '[]',
    cursor text,
    error text
  );
  CREATE INDEX sync_runs_integration ON sync_runs(tenant_id, integration_id, started_at);
  CREATE TABLE records (
    tenant_id text NOT NULL,
    integration_id text NOT NULL,
    provider text NOT NULL,
    stream text NOT NULL,
    model text NOT NULL,
    key text NOT NULL,
    data text NOT NULL,
    hash text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    deleted_at text,
    seen_run_id text,
    PRIMARY KEY (tenant_id, integration_id, stream, key)
  );
  CREATE INDEX records_updated ON records(tenant_id, updated_at);
  CREATE INDEX records_stream_updated ON records(tenant_id, stream, updated_at);
  `,
  // Hybrid sync (SQLite 13): when an inbound webhook asked for a run of the stream (debounce: one pending at a time).
  `
  ALTER TABLE sync_state ADD COLUMN trigger_due_at bigint;
  `,
  // The integrations list and routing reads (SQLite 14): a tenant's live rows in list order from the index.
  `
  CREATE INDEX integrations_tenant_live ON integrations(tenant_id, created_at, id) WHERE deleted_at IS NULL;
  `,
];

/** Two-key advisory lock: this class id and the schema's name, so schemas migrate independently. */
const MIGRATION_LOCK_CLASS = 0x504c42; // "PLB"
const SCHEMA_KEY = `hashtext(coalesce(current_schema(), ''))`;

export interface MigrationRun {
  from: number;
  to: number;
}

/** The highest applied version; 0 when the schema has never been migrated. */
export async function appliedVersion(q: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await q.query<{ t: string | null }>(`SELECT to_regclass('plugboard_migrations')::text AS t`);
  if (!rows[0]?.t) return 0;
  const max = await q.query<{ v: number | null }>('SELECT max(version) AS v FROM plugboard_migrations');
  return max.rows[0]?.v ?? 0;
}

/**
 * Applies the migrations not yet recorded, each in its own transaction with its version row, under
 * a session advisory lock held on one dedicated client: two processes starting at once never run a
 * migration twice (the second waits, then finds nothing left to do).
 */
export async function migratePostgres(pool: pg.Pool, migrations: string[] = POSTGRES_MIGRATIONS): Promise<MigrationRun> {
  const client = await pool.connect();
  let locked = false;
  try {
    // Waiting for the lock and long migrations must not hit the pool's statement_timeout.
    await client.query('SET statement_timeout = 0');
    await client.query(`SELECT pg_advisory_lock($1, ${SCHEMA_KEY})`, [MIGRATION_LOCK_CLASS]);
    locked = true;
    await client.query('CREATE TABLE IF NOT EXISTS plugboard_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)');
    const from = await appliedVersion(client);
    for (let v = from; v < migrations.length; v++) {
      await client.query('BEGIN');
      try {
        await client.query(migrations[v]!);
        await client.query('INSERT INTO plugboard_migrations (version, applied_at) VALUES ($1, $2)', [v + 1, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return { from, to: Math.max(from, migrations.length) };
  } finally {
    if (locked) await client.query(`SELECT pg_advisory_unlock($1, ${SCHEMA_KEY})`, [MIGRATION_LOCK_CLASS]).catch(() => undefined);
    // The session's settings were changed: discard the connection rather than return it to the pool.
    client.release(true);
  }
}
