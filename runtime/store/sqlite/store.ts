// SQLite implementation of the Store (better-sqlite3: synchronous, fast, WAL).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type {
  Store, TenantRow, ApiKeyRow, IntegrationRow, RoutingRuleRow, DeliveryRow, OperationRow,
  IntegrationFilter, DeliveryFilter, ListQuery, ListResult, IntegrationStatus,
} from '../types.ts';
import { UniqueViolation } from '../types.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';

type Row = Record<string, unknown>;

const json = (v: unknown) => JSON.stringify(v ?? null);
const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);

function isUnique(err: unknown): boolean {
  return (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function toIntegration(r: Row): IntegrationRow {
  return {
    ...(r as unknown as IntegrationRow),
    enabled_capabilities: parse(r['enabled_capabilities'], []),
    metadata: parse(r['metadata'], {}),
    credentials_public: parse(r['credentials_public'], {}),
  };
}

function toRule(r: Row): RoutingRuleRow {
  return { ...(r as unknown as RoutingRuleRow), is_default: r['is_default'] === 1, conditions: parse(r['conditions'], {}) };
}

function toDelivery(r: Row): DeliveryRow {
  return { ...(r as unknown as DeliveryRow), error: parse(r['error'], null) };
}

function toApiKey(r: Row): ApiKeyRow {
  return { ...(r as unknown as ApiKeyRow), scopes: parse(r['scopes'], []) };
}

function toOperation(r: Row): OperationRow {
  return { ...(r as unknown as OperationRow), response: parse(r['response'], null) };
}

/** Builds "SET a = @a, b = @b" from a patch, serialising JSON columns. */
function setClause(patch: Row, jsonCols: string[], boolCols: string[] = []): { sql: string; params: Row } {
  const params: Row = {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (!/^[a-z_]+$/.test(k)) throw new Error(`bad column ${k}`);
    parts.push(`${k} = @${k}`);
    params[k] = jsonCols.includes(k) ? json(v) : boolCols.includes(k) ? (v ? 1 : 0) : v;
  }
  return { sql: parts.join(', '), params };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;

  // Prepared once per SQL text: better-sqlite3's prepare() costs more than most of our queries.
  private readonly statements = new Map<string, Database.Statement>();
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  constructor(readonly file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  async migrate(): Promise<void> {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private page<T>(sqlFrom: string, params: Row, q: ListQuery, order: string, map: (r: Row) => T): ListResult<T> {
    const total = (this.sql(`SELECT COUNT(*) AS n ${sqlFrom}`).get(params) as { n: number }).n;
    const rows = this.sql(`SELECT * ${sqlFrom} ORDER BY ${order} LIMIT @limit OFFSET @offset`).all({ ...params, limit: q.perPage, offset: (q.page - 1) * q.perPage }) as Row[];
    return { items: rows.map(map), total };
  }

  tenants = {
    create: async (row: TenantRow) => {
      this.sql('INSERT INTO tenants (id, name, plan, created_at) VALUES (@id, @name, @plan, @created_at)').run(row);
    },
    get: async (id: string) => this.sql('SELECT * FROM tenants WHERE id = ?').get(id) as TenantRow | undefined,
  };

  apiKeys = {
    create: async (row: ApiKeyRow) => {
      this.sql(`INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, expires_at, last_used_at, revoked_at, created_at)
        VALUES (@id, @tenant_id, @name, @prefix, @key_hash, @scopes, @expires_at, @last_used_at, @revoked_at, @created_at)`).run({ ...row, scopes: json(row.scopes) });
    },
    findByHash: async (hash: string) => {
      const r = this.sql('SELECT * FROM api_keys WHERE key_hash = ?').get(hash) as Row | undefined;
      return r ? toApiKey(r) : undefined;
    },
  };

  integrations = {
    create: async (row: IntegrationRow) => {
      try {
        this.sql(`INSERT INTO integrations (id, tenant_id, provider, status, enabled_capabilities, metadata, credentials_public,
          credentials_sealed, data_key_wrapped, master_key_id, credentials_version, verified_at, created_at, updated_at, deleted_at)
          VALUES (@id, @tenant_id, @provider, @status, @enabled_capabilities, @metadata, @credentials_public,
          @credentials_sealed, @data_key_wrapped, @master_key_id, @credentials_version, @verified_at, @created_at, @updated_at, @deleted_at)`).run({
          ...row,
          enabled_capabilities: json(row.enabled_capabilities),
          metadata: json(row.metadata),
          credentials_public: json(row.credentials_public),
        });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('integration for this provider exists');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM integrations WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toIntegration(r) : undefined;
    },
    list: async (tenantId: string, f: IntegrationFilter) => {
      const where = ['tenant_id = @tenantId', 'deleted_at IS NULL'];
      const params: Row = { tenantId };
      if (f.status) {
        where.push('status = @status');
        params['status'] = f.status;
      }
      if (f.providers) {
        if (!f.providers.length) return { items: [], total: 0 };
        where.push(`provider IN (${f.providers.map((_, i) => `@p${i}`).join(', ')})`);
        f.providers.forEach((p, i) => (params[`p${i}`] = p));
      }
      return this.page(`FROM integrations WHERE ${where.join(' AND ')}`, params, f, 'created_at, id', toIntegration);
    },
    configuredProviders: async (tenantId: string) =>
      (this.sql('SELECT provider FROM integrations WHERE tenant_id = ? AND deleted_at IS NULL').all(tenantId) as Array<{ provider: string }>).map((r) => r.provider),
    update: async (tenantId: string, id: string, patch: Partial<IntegrationRow>) => {
      const { sql, params } = setClause(patch as Row, ['enabled_capabilities', 'metadata', 'credentials_public']);
      if (sql) {
        try {
          this.sql(`UPDATE integrations SET ${sql} WHERE tenant_id = @__tenant AND id = @__id AND deleted_at IS NULL`).run({ ...params, __tenant: tenantId, __id: id });
        } catch (err) {
          if (isUnique(err)) throw new UniqueViolation('integration for this provider exists');
          throw err;
        }
      }
      return this.integrations.get(tenantId, id);
    },
    setVerificationResult: async (tenantId: string, id: string, version: number, status: IntegrationStatus, metadata: Record<string, unknown>, verifiedAt: string | null) => {
      const res = this.sql(`UPDATE integrations SET status = @status, metadata = @metadata, verified_at = COALESCE(@verifiedAt, verified_at), updated_at = @now
        WHERE tenant_id = @tenantId AND id = @id AND credentials_version = @version AND status = 'pending_verify' AND deleted_at IS NULL`)
        .run({ status, metadata: json(metadata), verifiedAt, now: new Date().toISOString(), tenantId, id, version });
      return res.changes === 1;
    },
    allKeyMaterial: async () => this.sql('SELECT id, tenant_id, data_key_wrapped, master_key_id FROM integrations').all() as Array<Pick<IntegrationRow, 'id' | 'tenant_id' | 'data_key_wrapped' | 'master_key_id'>>,
    rewrapKeys: async (rows: Array<Pick<IntegrationRow, 'id' | 'tenant_id' | 'data_key_wrapped' | 'master_key_id'>>) => {
      const stmt = this.sql('UPDATE integrations SET data_key_wrapped = @data_key_wrapped, master_key_id = @master_key_id WHERE tenant_id = @tenant_id AND id = @id');
      this.db.transaction(() => {
        for (const r of rows) stmt.run(r);
      }).immediate();
    },
  };

  routingRules = {
    create: async (row: RoutingRuleRow) => {
      this.sql(`INSERT INTO routing_rules (id, tenant_id, capability, integration_id, fallback_integration_id, is_default, priority, conditions, created_at, updated_at)
        VALUES (@id, @tenant_id, @capability, @integration_id, @fallback_integration_id, @is_default, @priority, @conditions, @created_at, @updated_at)`).run({ ...row, is_default: row.is_default ? 1 : 0, conditions: json(row.conditions) });
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM routing_rules WHERE tenant_id = ? AND id = ?').get(tenantId, id) as Row | undefined;
      return r ? toRule(r) : undefined;
    },
    list: async (tenantId: string, f: ListQuery & { capability?: string }) => {
      const params: Row = { tenantId };
      let where = 'tenant_id = @tenantId';
      if (f.capability) {
        where += ' AND capability = @capability';
        params['capability'] = f.capability;
      }
      return this.page(`FROM routing_rules WHERE ${where}`, params, f, 'capability, priority, created_at', toRule);
    },
    forCapability: async (tenantId: string, capability: string) =>
      (this.sql('SELECT * FROM routing_rules WHERE tenant_id = ? AND capability = ? ORDER BY priority, created_at').all(tenantId, capability) as Row[]).map(toRule),
    update: async (tenantId: string, id: string, patch: Partial<RoutingRuleRow>) => {
      const { sql, params } = setClause(patch as Row, ['conditions'], ['is_default']);
      if (sql) this.sql(`UPDATE routing_rules SET ${sql} WHERE tenant_id = @__tenant AND id = @__id`).run({ ...params, __tenant: tenantId, __id: id });
      return this.routingRules.get(tenantId, id);
    },
    delete: async (tenantId: string, id: string) => this.sql('DELETE FROM routing_rules WHERE tenant_id = ? AND id = ?').run(tenantId, id).changes === 1,
  };

  deliveries = {
    create: async (row: DeliveryRow) => {
      this.sql(`INSERT INTO deliveries (id, tenant_id, operation_id, capability, integration_id, provider, attempt, status, provider_status_code, duration_ms, error, request_id, provider_request_id, created_at)
        VALUES (@id, @tenant_id, @operation_id, @capability, @integration_id, @provider, @attempt, @status, @provider_status_code, @duration_ms, @error, @request_id, @provider_request_id, @created_at)`).run({ ...row, error: row.error ? json(row.error) : null });
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM deliveries WHERE tenant_id = ? AND id = ?').get(tenantId, id) as Row | undefined;
      return r ? toDelivery(r) : undefined;
    },
    list: async (tenantId: string, f: DeliveryFilter) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      for (const k of ['integration_id', 'capability', 'status', 'operation_id'] as const) {
        if (f[k]) {
          where.push(`${k} = @${k}`);
          params[k] = f[k];
        }
      }
      return this.page(`FROM deliveries WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', toDelivery);
    },
  };

  operations = {
    begin: async (row: OperationRow) => {
      try {
        this.sql(`INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, created_at, updated_at)
          VALUES (@id, @tenant_id, @capability, @idempotency_key, @request_hash, @status, @http_status, @response, @created_at, @updated_at)`).run({ ...row, response: row.response === null ? null : json(row.response) });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('idempotency key in use');
        throw err;
      }
    },
    findByKey: async (tenantId: string, key: string) => {
      const r = this.sql('SELECT * FROM operations WHERE tenant_id = ? AND idempotency_key = ?').get(tenantId, key) as Row | undefined;
      return r ? toOperation(r) : undefined;
    },
    finish: async (tenantId: string, id: string, status: OperationRow['status'], httpStatus: number, response: unknown) => {
      this.sql('UPDATE operations SET status = ?, http_status = ?, response = ?, updated_at = ? WHERE tenant_id = ? AND id = ?').run(status, httpStatus, json(response), new Date().toISOString(), tenantId, id);
    },
  };
}
