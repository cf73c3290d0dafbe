// Schema migrations for SQLite, applied in order on start; PRAGMA user_version records progress.
// Never edit a released migration: add a new one.
export const SQLITE_MIGRATIONS: string[] = [
  `
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan TEXT NOT NULL DEFAULT 'basic',
    created_at TEXT NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX api_keys_tenant ON api_keys(tenant_id);
  CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    enabled_capabilities TEXT NOT NULL,
    metadata TEXT NOT NULL,
    credentials_public TEXT NOT NULL,
    credentials_sealed BLOB NOT NULL,
    data_key_wrapped BLOB NOT NULL,
    master_key_id TEXT NOT NULL,
    credentials_version INTEGER NOT NULL DEFAULT 1,
    verified_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
  );
  CREATE UNIQUE INDEX integrations_one_per_provider ON integrations(tenant_id, provider) WHERE deleted_at IS NULL;
  CREATE INDEX integrations_tenant ON integrations(tenant_id, created_at);
  CREATE TABLE routing_rules (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    capability TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    fallback_integration_id TEXT,
    is_default INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 100,
    conditions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX routing_rules_capability ON routing_rules(tenant_id, capability, priority);
  CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    capability TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    response TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX operations_idempotency ON operations(tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    operation_id TEXT NOT NULL,
    capability TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    provider_status_code INTEGER,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    request_id TEXT,
    provider_request_id TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX deliveries_tenant ON deliveries(tenant_id, created_at);
  CREATE INDEX deliveries_operation ON deliveries(tenant_id, operation_id);
  `,
  `
  ALTER TABLE tenants ADD COLUMN rate_limits TEXT;
  -- Counters of rate-limiter-flexible's RateLimiterSQLite (its own schema), shared by all processes.
  CREATE TABLE rate_limits (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER);
  CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX oauth_clients_tenant ON oauth_clients(tenant_id);
  CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    request_id TEXT,
    changed_fields TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX audit_log_tenant ON audit_log(tenant_id, created_at);
  -- Append-only: the application never changes or removes audit entries.
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
  CREATE TABLE usage_minutes (
    tenant_id TEXT NOT NULL,
    minute TEXT NOT NULL,
    credential TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    count INTEGER NOT NULL,
    latency_ms_sum REAL NOT NULL,
    latency_histogram TEXT NOT NULL,
    PRIMARY KEY (tenant_id, minute, credential, route, status)
  );
  `,
  `
  CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    enabled INTEGER NOT NULL,
    secret_sealed BLOB NOT NULL,
    data_key_wrapped BLOB NOT NULL,
    master_key_id TEXT NOT NULL,
    previous_secret_expires_at TEXT,
    failing_since TEXT,
    disabled_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
  );
  CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions(tenant_id, created_at);
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    data TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX events_tenant ON events(tenant_id, created_at);
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    locked_until INTEGER,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (event_id, subscription_id)
  );
  -- Covers the claim scan without touching the (large) rows.
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at, locked_until, subscription_id, id);
  CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries(tenant_id, created_at);
  CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries(tenant_id, subscription_id, created_at);
  CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    response_excerpt TEXT,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX webhook_attempts_delivery ON webhook_attempts(tenant_id, delivery_id, attempt);
  CREATE TABLE inbound_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_event_id TEXT,
    provider_event_type TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    content_type TEXT,
    body TEXT NOT NULL,
    normalized_event_id TEXT,
    next_attempt_at INTEGER,
    locked_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    processed_at TEXT
  );
  CREATE UNIQUE INDEX inbound_events_dedupe ON inbound_events(tenant_id, integration_id, provider_event_id) WHERE provider_event_id IS NOT NULL AND status != 'rejected';
  CREATE INDEX inbound_events_due ON inbound_events(status, next_attempt_at);
  CREATE INDEX inbound_events_tenant ON inbound_events(tenant_id, received_at);
  `,
  // Rejected inbound requests: counters per integration and reason code (the rejected rows kept in
  // inbound_events are only a bounded sample), and an index to trim that sample per integration.
  `
  CREATE TABLE inbound_rejections (
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    code TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    last_reason TEXT NOT NULL,
    PRIMARY KEY (tenant_id, integration_id, code)
  );
  CREATE INDEX inbound_events_rejected ON inbound_events(integration_id, received_at) WHERE status = 'rejected';
  `,
  `
  -- Operations are recorded before their provider call, leased (epoch ms) by the process running
  -- them; an expired lease settles as unknown. Rows left in progress by older versions expire now.
  ALTER TABLE operations ADD COLUMN lease_expires_at INTEGER;
  UPDATE operations SET lease_expires_at = 0 WHERE status = 'in_progress';
  CREATE INDEX operations_in_progress ON operations(lease_expires_at) WHERE status = 'in_progress';
  `,
  // Integrations: the environment is its own field, and state the system sets is kept apart from the
  // tenant's free-form metadata. Keys the system wrote into metadata move to system_metadata;
  // rows whose metadata.environment may have picked an environment are listed for a code step
  // (IntegrationService.adoptLegacyEnvironments: only the manifest knows the environments).
  `
  ALTER TABLE integrations ADD COLUMN environment TEXT;
  ALTER TABLE integrations ADD COLUMN system_metadata TEXT NOT NULL DEFAULT '{}';
  UPDATE integrations SET
    system_metadata = (SELECT json_group_object(key, CASE WHEN type IN ('object', 'array', 'true', 'false') THEN json(CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE value END) ELSE value END)
      FROM json_each(integrations.metadata) WHERE key IN ('verification_error', 'verification_error_type', 'next_verification_at', 'needs_reauth', 'reauth_reason') OR (key = 'verification' AND value LIKE 'skipped:%')),
    metadata = (SELECT json_group_object(key, CASE WHEN type IN ('object', 'array', 'true', 'false') THEN json(CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE value END) ELSE value END)
      FROM json_each(integrations.metadata) WHERE NOT (key IN ('verification_error', 'verification_error_type', 'next_verification_at', 'needs_reauth', 'reauth_reason') OR (key = 'verification' AND value LIKE 'skipped:%')))
  WHERE json_valid(metadata) AND json_type(metadata) = 'object';
  CREATE TABLE integration_environment_backfill (integration_id TEXT PRIMARY KEY, environment TEXT NOT NULL);
  INSERT INTO integration_environment_backfill (integration_id, environment)
    SELECT id, json_extract(metadata, '$.environment') FROM integrations
    WHERE json_valid(metadata) AND json_type(metadata, '$.environment') = 'text';
  `,
  // OAuth connections (Plugboard as an OAuth client of providers): pending authorization states
  // (stored hashed, single use, the PKCE verifier sealed), one refresh lease per integration so two
  // processes never refresh its grant at once, and the integration's sealed tokens (under its own
  // data key), their non-secret expiry and version, and the non-secret connection object.
  `
  CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    verifier_sealed BLOB,
    data_key_wrapped BLOB,
    master_key_id TEXT,
    return_to TEXT,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
  CREATE TABLE oauth_refresh_leases (
    integration_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  ALTER TABLE integrations ADD COLUMN oauth_tokens_sealed BLOB;
  ALTER TABLE integrations ADD COLUMN token_expires_at TEXT;
  ALTER TABLE integrations ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE integrations ADD COLUMN connection TEXT NOT NULL DEFAULT '{}';
  `,
  // Rejected inbound requests that older versions stored one row each: counted per integration and
  // reason code (rows the counters already include, the samples written since, are left out), then
  // trimmed to the newest 20 per integration (REJECTION_SAMPLES_PER_INTEGRATION).
  `
  INSERT INTO inbound_rejections (tenant_id, integration_id, provider, code, count, first_at, last_at, last_reason)
  SELECT tenant_id, integration_id, provider, code, n, first_at, last_at, reason_text FROM (
    SELECT tenant_id, integration_id, provider, code, reason_text,
      COUNT(*) OVER w AS n, MIN(received_at) OVER w AS first_at, MAX(received_at) OVER w AS last_at,
      ROW_NUMBER() OVER (PARTITION BY tenant_id, integration_id, code ORDER BY received_at DESC, id DESC) AS rn
    FROM (
      SELECT e.id, e.tenant_id, e.integration_id, e.provider, e.received_at,
        CASE WHEN instr(COALESCE(e.reason, ''), ': ') > 0 THEN substr(e.reason, 1, instr(e.reason, ': ') - 1) ELSE 'rejected' END AS code,
        CASE WHEN instr(COALESCE(e.reason, ''), ': ') > 0 THEN substr(e.reason, instr(e.reason, ': ') + 2) ELSE COALESCE(e.reason, '') END AS reason_text
      FROM inbound_events e
      WHERE e.status = 'rejected'
        AND NOT EXISTS (SELECT 1 FROM inbound_rejections r WHERE r.tenant_id = e.tenant_id AND r.integration_id = e.integration_id AND r.first_at <= e.received_at)
    )
    WINDOW w AS (PARTITION BY tenant_id, integration_id, code)
  ) WHERE rn = 1
  ON CONFLICT (tenant_id, integration_id, code) DO UPDATE SET
    count = count + excluded.count,
    first_at = min(first_at, excluded.first_at),
    last_reason = CASE WHEN excluded.last_at > last_at THEN excluded.last_reason ELSE last_reason END,
    last_at = max(last_at, excluded.last_at);
  DELETE FROM inbound_events WHERE status = 'rejected' AND id IN (
    SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY integration_id ORDER BY received_at DESC, id DESC) AS rn FROM inbound_events WHERE status = 'rejected')
    WHERE rn > 20);
  `,
  // Older versions stored "no active provider" answers (409) under the idempotency key, using it up
  // although nothing reached a provider: forget them so the key runs once a provider is active.
  // Attempts left in progress by settled operations are found by the sweep through a small index.
  `
  DELETE FROM operations WHERE http_status = 409 AND json_valid(response) AND json_extract(response, '$.code') = 'no_active_provider';
  CREATE INDEX deliveries_in_progress ON deliveries(operation_id) WHERE status = 'in_progress';
  `,
  // Settings the system records once per database (e.g. the master key's fingerprint).
  `
  CREATE TABLE plugboard_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // Deliveries in flight per endpoint are counted in the database at every claim (per-endpoint
  // concurrency across processes): a partial index keeps that count to the leased rows.
  `
  CREATE INDEX webhook_deliveries_leased ON webhook_deliveries(status, locked_until, subscription_id) WHERE locked_until IS NOT NULL;
  `,
  // Sync (streams): per stream state (incremental cursor, resume token of the next page, the lease
  // that lets one process at a time run the stream), runs (newest first per integration), and the
  // records streams keep, upserted by primary key, soft-deleted by a full refresh, listed newest
  // updated first per tenant.
  `
  CREATE TABLE sync_state (
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT,
    resume TEXT,
    run_id TEXT,
    lease_holder TEXT,
    lease_until INTEGER,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, integration_id, stream)
  );
  CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    full_refresh INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    records_read INTEGER NOT NULL DEFAULT 0,
    records_created INTEGER NOT NULL DEFAULT 0,
    records_updated INTEGER NOT NULL DEFAULT 0,
    records_deleted INTEGER NOT NULL DEFAULT 0,
    records_invalid INTEGER NOT NULL DEFAULT 0,
    invalid_keys TEXT NOT NULL DEFAULT '[]',
    cursor TEXT,
    error TEXT
  );
  CREATE INDEX sync_runs_integration ON sync_runs(tenant_id, integration_id, started_at);
  CREATE TABLE records (
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    stream TEXT NOT NULL,
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    seen_run_id TEXT,
    PRIMARY KEY (tenant_id, integration_id, stream, key)
  );
  CREATE INDEX records_updated ON records(tenant_id, updated_at);
  CREATE INDEX records_stream_updated ON records(tenant_id, stream, updated_at);
  `,
  // Hybrid sync: when an inbound webhook asked for a run of the stream (debounce: one pending at a time).
  `
  ALTER TABLE sync_state ADD COLUMN trigger_due_at INTEGER;
  `,
  // List and routing reads in order from the index (integrations_tenant left the id tie-break to a temp B-tree).
  `CREATE INDEX integrations_tenant_live ON integrations(tenant_id, created_at, id) WHERE deleted_at IS NULL;`,
];
