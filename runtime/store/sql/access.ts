// SQL repositories: Tenants, API keys, OAuth clients, revoked tokens, audit log and usage.
import type { Store, ApiKeyRow, AuditEntry, AuditFilter, ListQuery, OAuthClientRow, TenantRow, UsageRow } from '../types.ts';
import { changed, type SqlConnection } from './connection.ts';
import { json, parse, toApiKey, equalityFilters, patchValues, type Row } from './rows.ts';

const toTenant = (r: Row): TenantRow => ({ ...(r as unknown as TenantRow), rate_limits: parse(r['rate_limits'], null) });
const toClient = (r: Row): OAuthClientRow => ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) });
const toAudit = (r: Row): AuditEntry => ({ ...(r as unknown as AuditEntry), changed_fields: parse(r['changed_fields'], []) });
const toUsage = (r: Row): UsageRow => ({ ...(r as unknown as UsageRow), latency_histogram: parse(r['latency_histogram'], []) });

export function tenantsRepo(c: SqlConnection): Store['tenants'] {
  const { db } = c;
  const repo: Store['tenants'] = {
    create: async (row: TenantRow) => {
      await db.insertInto('tenants').values({ ...row, rate_limits: row.rate_limits ? json(row.rate_limits) : null }).execute();
    },
    get: async (id: string) => {
      const r = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toTenant(r) : undefined;
    },
    update: async (id: string, patch: Partial<Pick<TenantRow, 'name' | 'plan' | 'rate_limits'>>) => {
      const values = patchValues(patch, ['rate_limits']);
      if (Object.keys(values).length) await db.updateTable('tenants').set(values).where('id', '=', id).execute();
      return repo.get(id);
    },
  };
  return repo;
}

export function apiKeysRepo(c: SqlConnection): Store['apiKeys'] {
  const { db } = c;
  return {
    create: async (row: ApiKeyRow) => {
      await db.insertInto('api_keys').values({ ...row, scopes: json(row.scopes) }).execute();
    },
    // Every authenticated request: constant SQL text (no query-builder compile per request).
    findByHash: async (hash: string) => {
      const r = (await c.raw<Record<string, unknown>>(db, 'SELECT * FROM api_keys WHERE key_hash = ?', [hash])).rows[0];
      return r ? toApiKey(r) : undefined;
    },
    get: async (tenantId: string, id: string) => {
      const r = await db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return r ? toApiKey(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery) =>
      c.page(db.selectFrom('api_keys').where('tenant_id', '=', tenantId).where('revoked_at', 'is', null), q, [['created_at', 'asc'], ['id', 'asc']], toApiKey),
    revoke: async (tenantId: string, id: string, at: string) =>
      changed(await db.updateTable('api_keys').set({ revoked_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()) === 1,
    touch: async (uses: Array<{ id: string; at: string }>) => {
      if (!uses.length) return;
      await c.write(async (trx) => {
        for (const u of uses) {
          await trx.updateTable('api_keys').set({ last_used_at: u.at }).where('id', '=', u.id)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', u.at)])).execute();
        }
      });
    },
  };
}

export function oauthClientsRepo(c: SqlConnection): Store['oauthClients'] {
  const { db } = c;
  return {
    create: async (row: OAuthClientRow) => {
      await db.insertInto('oauth_clients').values({ ...row, scopes: json(row.scopes) }).execute();
    },
    findByClientId: async (clientId: string) => {
      const r = await db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      return r ? toClient(r) : undefined;
    },
    findById: async (id: string) => {
      const r = await db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toClient(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery) =>
      c.page(db.selectFrom('oauth_clients').where('tenant_id', '=', tenantId).where('revoked_at', 'is', null), q, [['created_at', 'asc'], ['id', 'asc']], toClient),
    revoke: async (tenantId: string, id: string, at: string) =>
      changed(await db.updateTable('oauth_clients').set({ revoked_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()) === 1,
  };
}

export function revokedTokensRepo(c: SqlConnection): Store['revokedTokens'] {
  const { db } = c;
  return {
    add: async (jti: string, tenantId: string, expiresAt: string) => {
      await db.insertInto('revoked_tokens').values({ jti, tenant_id: tenantId, expires_at: expiresAt }).onConflict((oc) => oc.column('jti').doNothing()).execute();
      await db.deleteFrom('revoked_tokens').where('expires_at', '<', new Date().toISOString()).execute();
    },
    isRevoked: async (jti: string) => !!(await db.selectFrom('revoked_tokens').select('jti').where('jti', '=', jti).executeTakeFirst()),
  };
}

export function auditRepo(c: SqlConnection): Store['audit'] {
  const { db } = c;
  return {
    append: async (e: AuditEntry) => {
      await db.insertInto('audit_log').values({ ...e, changed_fields: json(e.changed_fields) }).execute();
    },
    list: async (tenantId: string, f: AuditFilter) => {
      let base = db.selectFrom('audit_log').where('tenant_id', '=', tenantId);
      for (const [col, v] of equalityFilters(f, ['action', 'target_type', 'target_id', 'actor'])) base = base.where(col as 'action', '=', v as string);
      if (f.from) base = base.where('created_at', '>=', f.from);
      if (f.to) base = base.where('created_at', '<', f.to);
      return c.page(base, f, [['created_at', 'desc'], ['id', 'desc']], toAudit);
    },
  };
}

export function usageRepo(c: SqlConnection): Store['usage'] {
  const { db } = c;
  return {
    add: async (rows: UsageRow[]) => {
      if (!rows.length) return;
      // Read-modify-write of the histogram: serialised across processes (advisory lock on PostgreSQL).
      await c.write(async (trx) => {
        await c.lock(trx, 'usage_minutes');
        for (const r of rows) {
          const old = await trx.selectFrom('usage_minutes').select(['count', 'latency_ms_sum', 'latency_histogram'])
            .where('tenant_id', '=', r.tenant_id).where('minute', '=', r.minute).where('credential', '=', r.credential)
            .where('route', '=', r.route).where('status', '=', r.status).executeTakeFirst();
          const hist = old ? parse<number[]>(old.latency_histogram, []).map((v, i) => v + (r.latency_histogram[i] ?? 0)) : r.latency_histogram;
          const totals = { count: r.count + Number(old?.count ?? 0), latency_ms_sum: r.latency_ms_sum + Number(old?.latency_ms_sum ?? 0), latency_histogram: json(hist) };
          const key = { tenant_id: r.tenant_id, minute: r.minute, credential: r.credential, route: r.route, status: r.status };
          await trx.insertInto('usage_minutes').values({ ...key, ...totals })
            .onConflict((oc) => oc.columns(['tenant_id', 'minute', 'credential', 'route', 'status']).doUpdateSet(totals)).execute();
        }
      });
    },
    range: async (tenantId: string, from: string, to: string) =>
      (await db.selectFrom('usage_minutes').selectAll().where('tenant_id', '=', tenantId).where('minute', '>=', from).where('minute', '<', to).execute()).map(toUsage),
  };
}
