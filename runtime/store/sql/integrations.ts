// SQL repositories: Tenant integrations and their sealed data keys.
import { sql } from 'kysely';
import type { Store, IntegrationFilter, IntegrationRow, IntegrationStatus, SealedKeyRef } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import { changed, type SqlConnection } from './connection.ts';
import { json, parse, toIntegration, patchValues } from './rows.ts';

const JSON_COLS = ['enabled_capabilities', 'metadata', 'system_metadata', 'credentials_public', 'connection'];

export function integrationsRepo(c: SqlConnection): Store['integrations'] {
  const { db } = c;
  const unique = (err: unknown): never => {
    if (c.isUnique(err)) throw new UniqueViolation('integration for this provider exists');
    throw err;
  };
  const repo: Store['integrations'] = {
    create: async (row: IntegrationRow) => {
      await db.insertInto('integrations').values({
        id: row.id, tenant_id: row.tenant_id, provider: row.provider, status: row.status,
        enabled_capabilities: json(row.enabled_capabilities),
        environment: row.environment ?? null,
        metadata: json(row.metadata),
        system_metadata: json(row.system_metadata ?? {}),
        credentials_public: json(row.credentials_public),
        credentials_sealed: row.credentials_sealed, data_key_wrapped: row.data_key_wrapped, master_key_id: row.master_key_id,
        credentials_version: row.credentials_version, verified_at: row.verified_at,
        created_at: row.created_at, updated_at: row.updated_at, deleted_at: row.deleted_at,
        oauth_tokens_sealed: row.oauth_tokens_sealed ?? null,
        token_expires_at: row.token_expires_at ?? null,
        token_version: row.token_version ?? 0,
        connection: json(row.connection ?? {}),
      }).execute().catch(unique);
    },
    get: async (tenantId: string, id: string) => {
      const r = await db.selectFrom('integrations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      return r ? toIntegration(r) : undefined;
    },
    // Every inbound webhook reads this row: constant SQL text (no builder compile per request).
    getForInbound: async (id: string) => {
      const r = (await c.raw<Record<string, unknown>>(db, 'SELECT * FROM integrations WHERE id = ? AND deleted_at IS NULL', [id])).rows[0];
      return r ? toIntegration(r) : undefined;
    },
    list: async (tenantId: string, f: IntegrationFilter) => {
      // The common lists (all, or by status) as constant SQL text: GET /integrations is the API's
      // most frequent read, and the query builder's compile was a visible share of it.
      if (!f.providers) {
        const where = `tenant_id = ? AND deleted_at IS NULL${f.status ? ' AND status = ?' : ''}`;
        const params = f.status ? [tenantId, f.status] : [tenantId];
        const count = (await c.raw<{ n: number | string }>(db, `SELECT count(*) AS n FROM integrations WHERE ${where}`, params)).rows[0];
        const rows = (await c.raw<Record<string, unknown>>(db, `SELECT * FROM integrations WHERE ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`, [...params, f.perPage, (f.page - 1) * f.perPage])).rows;
        return { items: rows.map(toIntegration), total: Number(count?.n ?? 0) };
      }
      let base = db.selectFrom('integrations').where('tenant_id', '=', tenantId).where('deleted_at', 'is', null);
      if (f.status) base = base.where('status', '=', f.status);
      if (f.providers) {
        if (!f.providers.length) return { items: [], total: 0 };
        base = base.where('provider', 'in', f.providers);
      }
      return c.page(base, f, [['created_at', 'asc'], ['id', 'asc']], toIntegration);
    },
    // Every operation routes through this: constant SQL text; 'active' a literal for the partial index convention.
    active: async (tenantId: string, limit: number) =>
      (await c.raw<Record<string, unknown>>(db, "SELECT * FROM integrations WHERE tenant_id = ? AND status = 'active' AND deleted_at IS NULL ORDER BY created_at, id LIMIT ?", [tenantId, limit])).rows.map(toIntegration),
    activeOf: async (providers: string[]) =>
      providers.length ? db.selectFrom('integrations').select(['tenant_id', 'id']).where('provider', 'in', providers).where('status', '=', 'active').where('deleted_at', 'is', null).execute() : [],
    configuredProviders: async (tenantId: string) =>
      (await db.selectFrom('integrations').select('provider').where('tenant_id', '=', tenantId).where('deleted_at', 'is', null).execute()).map((r) => r.provider),
    update: async (tenantId: string, id: string, patch: Partial<IntegrationRow>) => {
      const values = patchValues(patch, JSON_COLS);
      if (Object.keys(values).length) {
        await db.updateTable('integrations').set(values).where('tenant_id', '=', tenantId).where('id', '=', id).where('deleted_at', 'is', null).execute().catch(unique);
      }
      return repo.get(tenantId, id);
    },
    updateAtTokenVersion: async (tenantId: string, id: string, expectedVersion: number, patch: Partial<IntegrationRow>) => {
      const values = patchValues(patch, JSON_COLS);
      const res = await db.updateTable('integrations')
        .set((eb) => ({
          ...values,
          ...(patch.oauth_tokens_sealed !== undefined ? { token_version: sql<number>`token_version + 1` } : {}),
          ...(Object.keys(values).length ? {} : { id: eb.ref('id') }),
        }))
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('token_version', '=', expectedVersion).where('deleted_at', 'is', null)
        .executeTakeFirst();
      return changed(res) === 1 ? repo.get(tenantId, id) : undefined;
    },
    setVerificationResult: async (tenantId: string, id: string, version: number, status: IntegrationStatus, systemMetadata: Record<string, unknown>, verifiedAt: string | null) => {
      const res = await db.updateTable('integrations')
        .set({ status, system_metadata: json(systemMetadata), updated_at: new Date().toISOString(), ...(verifiedAt !== null ? { verified_at: verifiedAt } : {}) })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('credentials_version', '=', version)
        .where('status', '=', sql.lit('pending_verify')).where('deleted_at', 'is', null)
        .executeTakeFirst();
      return changed(res) === 1;
    },
    adoptLegacyEnvironments: async (environments: Record<string, string[]>) =>
      // Rows listed by the migration that added `environment` (integration_environment_backfill).
      c.write(async (trx) => {
        await c.lock(trx, 'integration_environment_backfill');
        const pending = await trx.selectFrom('integration_environment_backfill as b').leftJoin('integrations as i', 'i.id', 'b.integration_id')
          .select(['b.integration_id as id', 'b.environment', 'i.provider', 'i.environment as current', 'i.metadata']).execute();
        let moved = 0;
        for (const r of pending) {
          if (r.provider !== null && !(r.provider in environments)) continue; // provider not installed: wait
          if (r.provider !== null && r.metadata !== null && r.current === null && environments[r.provider]!.includes(r.environment)) {
            const metadata = parse<Record<string, unknown> | null>(r.metadata, null);
            if (metadata && typeof metadata === 'object' && !Array.isArray(metadata) && metadata['environment'] === r.environment) {
              delete metadata['environment'];
              // Compare on the metadata text read above: a concurrent write wins and nothing is adopted.
              moved += changed(await trx.updateTable('integrations').set({ environment: r.environment, metadata: json(metadata) })
                .where('id', '=', r.id).where('environment', 'is', null).where('metadata', '=', r.metadata).executeTakeFirst());
            }
          }
          await trx.deleteFrom('integration_environment_backfill').where('integration_id', '=', r.id).execute();
        }
        return moved;
      }),
  };
  return repo;
}

export function sealedKeysRepo(c: SqlConnection): Store['sealedKeys'] {
  const { db } = c;
  const cols = ['id', 'tenant_id', 'data_key_wrapped', 'master_key_id'] as const;
  return {
    all: async () => [
      ...(await db.selectFrom('integrations').select(cols).execute()).map((r): SealedKeyRef => ({ kind: 'integration', ...r })),
      ...(await db.selectFrom('webhook_subscriptions').select(cols).execute()).map((r): SealedKeyRef => ({ kind: 'webhook_subscription', ...r })),
    ],
    rewrap: async (rows: Array<SealedKeyRef & { old_data_key_wrapped: Buffer; old_master_key_id: string }>) =>
      c.write(async (trx) => {
        let n = 0;
        for (const r of rows) {
          const table = r.kind === 'integration' ? 'integrations' : 'webhook_subscriptions';
          n += changed(await trx.updateTable(table).set({ data_key_wrapped: r.data_key_wrapped, master_key_id: r.master_key_id })
            .where('tenant_id', '=', r.tenant_id).where('id', '=', r.id)
            .where('master_key_id', '=', r.old_master_key_id).where('data_key_wrapped', '=', r.old_data_key_wrapped).executeTakeFirst());
        }
        return n;
      }),
  };
}
