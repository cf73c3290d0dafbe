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
];
