// SQLite repositories: Tenants, API keys, OAuth clients, revoked tokens, audit log and usage.
import type { Store, ApiKeyRow, AuditEntry, AuditFilter, ListQuery, OAuthClientRow, TenantRow, UsageRow } from '../types.ts';
import type { SqliteConnection } from './connection.ts';
import { json, parse, toApiKey, equalityFilters, setClause, type Row } from './rows.ts';

export function tenantsRepo(c: SqliteConnection): Store['tenants'] {
  const repo: Store['tenants'] = {
    create: async (row: TenantRow) => {
      c.sql('INSERT INTO tenants (id, name, plan, rate_limits, created_at) VALUES (@id, @name, @plan, @rate_limits, @created_at)').run({ ...row, rate_limits: row.rate_limits ? json(row.rate_limits) : null });
    },
    get: async (id: string) => {
      const r = c.sql('SELECT * FROM tenants WHERE id = ?').get(id) as Row | undefined;
      return r ? ({ ...(r as unknown as TenantRow), rate_limits: parse(r['rate_limits'], null) } as TenantRow) : undefined;
    },
    update: async (id: string, patch: Partial<Pick<TenantRow, 'name' | 'plan' | 'rate_limits'>>) => {
      const { sql, params } = setClause(patch as Row, ['rate_limits']);
      if (sql) c.sql(`UPDATE tenants SET ${sql} WHERE id = @__id`).run({ ...params, __id: id });
      return repo.get(id);
    },
  };
  return repo;
}

export function apiKeysRepo(c: SqliteConnection): Store['apiKeys'] {
  const repo: Store['apiKeys'] = {
    create: async (row: ApiKeyRow) => {
      c.sql(`INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, expires_at, last_used_at, revoked_at, created_at)
        VALUES (@id, @tenant_id, @name, @prefix, @key_hash, @scopes, @expires_at, @last_used_at, @revoked_at, @created_at)`).run({ ...row, scopes: json(row.scopes) });
    },
    findByHash: async (hash: string) => {
      const r = c.sql('SELECT * FROM api_keys WHERE key_hash = ?').get(hash) as Row | undefined;
      return r ? toApiKey(r) : undefined;
    },
    get: async (tenantId: string, id: string) => {
      const r = c.sql('SELECT * FROM api_keys WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toApiKey(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery) => c.page('FROM api_keys WHERE tenant_id = @tenantId AND revoked_at IS NULL', { tenantId }, q, 'created_at, id', toApiKey),
    revoke: async (tenantId: string, id: string, at: string) => c.sql('UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').run(at, tenantId, id).changes === 1,
    touch: async (uses: Array<{ id: string; at: string }>) => {
      const st = c.sql('UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)');
      c.db.transaction(() => {
        for (const u of uses) st.run(u);
      })();
    },
  };
  return repo;
}

export function oauthClientsRepo(c: SqliteConnection): Store['oauthClients'] {
  const repo: Store['oauthClients'] = {
    create: async (row: OAuthClientRow) => {
      c.sql(`INSERT INTO oauth_clients (id, tenant_id, name, client_id, secret_hash, scopes, revoked_at, last_used_at, created_at)
        VALUES (@id, @tenant_id, @name, @client_id, @secret_hash, @scopes, @revoked_at, @last_used_at, @created_at)`).run({ ...row, scopes: json(row.scopes) });
    },
    findByClientId: async (clientId: string) => {
      const r = c.sql('SELECT * FROM oauth_clients WHERE client_id = ?').get(clientId) as Row | undefined;
      return r ? ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) } as OAuthClientRow) : undefined;
    },
    findById: async (id: string) => {
      const r = c.sql('SELECT * FROM oauth_clients WHERE id = ?').get(id) as Row | undefined;
      return r ? ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) } as OAuthClientRow) : undefined;
    },
    list: async (tenantId: string, q: ListQuery) =>
      c.page('FROM oauth_clients WHERE tenant_id = @tenantId AND revoked_at IS NULL', { tenantId }, q, 'created_at, id', (r) => ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) }) as OAuthClientRow),
    revoke: async (tenantId: string, id: string, at: string) => c.sql('UPDATE oauth_clients SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').run(at, tenantId, id).changes === 1,
  };
  return repo;
}

export function revokedTokensRepo(c: SqliteConnection): Store['revokedTokens'] {
  const repo: Store['revokedTokens'] = {
    add: async (jti: string, tenantId: string, expiresAt: string) => {
      c.sql('INSERT OR IGNORE INTO revoked_tokens (jti, tenant_id, expires_at) VALUES (?, ?, ?)').run(jti, tenantId, expiresAt);
      c.sql('DELETE FROM revoked_tokens WHERE expires_at < ?').run(new Date().toISOString());
    },
    isRevoked: async (jti: string) => !!c.sql('SELECT 1 FROM revoked_tokens WHERE jti = ?').get(jti),
  };
  return repo;
}

export function auditRepo(c: SqliteConnection): Store['audit'] {
  const repo: Store['audit'] = {
    append: async (e: AuditEntry) => {
      c.sql(`INSERT INTO audit_log (id, tenant_id, actor, action, target_type, target_id, request_id, changed_fields, created_at)
        VALUES (@id, @tenant_id, @actor, @action, @target_type, @target_id, @request_id, @changed_fields, @created_at)`).run({ ...e, changed_fields: json(e.changed_fields) });
    },
    list: async (tenantId: string, f: AuditFilter) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['action', 'target_type', 'target_id', 'actor']);
      if (f.from) {
        where.push('created_at >= @from');
        params['from'] = f.from;
      }
      if (f.to) {
        where.push('created_at < @to');
        params['to'] = f.to;
      }
      return c.page(`FROM audit_log WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', (r) => ({ ...(r as unknown as AuditEntry), changed_fields: parse(r['changed_fields'], []) }));
    },
  };
  return repo;
}

export function usageRepo(c: SqliteConnection): Store['usage'] {
  const repo: Store['usage'] = {
    add: async (rows: UsageRow[]) => {
      const get = c.sql('SELECT count, latency_ms_sum, latency_histogram FROM usage_minutes WHERE tenant_id = @tenant_id AND minute = @minute AND credential = @credential AND route = @route AND status = @status');
      const put = c.sql(`INSERT OR REPLACE INTO usage_minutes (tenant_id, minute, credential, route, status, count, latency_ms_sum, latency_histogram)
        VALUES (@tenant_id, @minute, @credential, @route, @status, @count, @latency_ms_sum, @latency_histogram)`);
      c.db.transaction(() => {
        for (const r of rows) {
          const old = get.get(r) as { count: number; latency_ms_sum: number; latency_histogram: string } | undefined;
          const hist = old ? (JSON.parse(old.latency_histogram) as number[]).map((v, i) => v + (r.latency_histogram[i] ?? 0)) : r.latency_histogram;
          put.run({ ...r, count: r.count + (old?.count ?? 0), latency_ms_sum: r.latency_ms_sum + (old?.latency_ms_sum ?? 0), latency_histogram: json(hist) });
        }
      }).immediate();
    },
    range: async (tenantId: string, from: string, to: string) =>
      (c.sql('SELECT * FROM usage_minutes WHERE tenant_id = ? AND minute >= ? AND minute < ?').all(tenantId, from, to) as Row[]).map((r) => ({ ...(r as unknown as UsageRow), latency_histogram: parse(r['latency_histogram'], []) })),
  };
  return repo;
}
