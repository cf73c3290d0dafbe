// SQLite repositories: Tenant integrations and their sealed data keys.
import type { Store, IntegrationFilter, IntegrationRow, IntegrationStatus, SealedKeyRef } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import type { SqliteConnection } from './connection.ts';
import { json, isUnique, toIntegration, setClause, type Row } from './rows.ts';

export function integrationsRepo(c: SqliteConnection): Store['integrations'] {
  const repo: Store['integrations'] = {
    create: async (row: IntegrationRow) => {
      try {
        c.sql(`INSERT INTO integrations (id, tenant_id, provider, status, enabled_capabilities, environment, metadata, system_metadata, credentials_public,
          credentials_sealed, data_key_wrapped, master_key_id, credentials_version, verified_at, created_at, updated_at, deleted_at,
          oauth_tokens_sealed, token_expires_at, token_version, connection)
          VALUES (@id, @tenant_id, @provider, @status, @enabled_capabilities, @environment, @metadata, @system_metadata, @credentials_public,
          @credentials_sealed, @data_key_wrapped, @master_key_id, @credentials_version, @verified_at, @created_at, @updated_at, @deleted_at,
          @oauth_tokens_sealed, @token_expires_at, @token_version, @connection)`).run({
          ...row,
          enabled_capabilities: json(row.enabled_capabilities),
          environment: row.environment ?? null,
          metadata: json(row.metadata),
          system_metadata: json(row.system_metadata ?? {}),
          credentials_public: json(row.credentials_public),
          oauth_tokens_sealed: row.oauth_tokens_sealed ?? null,
          token_expires_at: row.token_expires_at ?? null,
          token_version: row.token_version ?? 0,
          connection: json(row.connection ?? {}),
        });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('integration for this provider exists');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => {
      const r = c.sql('SELECT * FROM integrations WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toIntegration(r) : undefined;
    },
    getForInbound: async (id: string) => {
      const r = c.sql('SELECT * FROM integrations WHERE id = ? AND deleted_at IS NULL').get(id) as Row | undefined;
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
      return c.page(`FROM integrations WHERE ${where.join(' AND ')}`, params, f, 'created_at, id', toIntegration);
    },
    configuredProviders: async (tenantId: string) =>
      (c.sql('SELECT provider FROM integrations WHERE tenant_id = ? AND deleted_at IS NULL').all(tenantId) as Array<{ provider: string }>).map((r) => r.provider),
    update: async (tenantId: string, id: string, patch: Partial<IntegrationRow>) => {
      const { sql, params } = setClause(patch as Row, ['enabled_capabilities', 'metadata', 'system_metadata', 'credentials_public', 'connection']);
      if (sql) {
        try {
          c.sql(`UPDATE integrations SET ${sql} WHERE tenant_id = @__tenant AND id = @__id AND deleted_at IS NULL`).run({ ...params, __tenant: tenantId, __id: id });
        } catch (err) {
          if (isUnique(err)) throw new UniqueViolation('integration for this provider exists');
          throw err;
        }
      }
      return repo.get(tenantId, id);
    },
    updateAtTokenVersion: async (tenantId: string, id: string, expectedVersion: number, patch: Partial<IntegrationRow>) => {
      const { sql, params } = setClause(patch as Row, ['enabled_capabilities', 'metadata', 'system_metadata', 'credentials_public', 'connection']);
      const bump = patch.oauth_tokens_sealed !== undefined ? ', token_version = token_version + 1' : '';
      const res = c.sql(`UPDATE integrations SET ${sql || 'id = id'}${bump}
        WHERE tenant_id = @__tenant AND id = @__id AND token_version = @__expected AND deleted_at IS NULL`).run({ ...params, __tenant: tenantId, __id: id, __expected: expectedVersion });
      return res.changes === 1 ? repo.get(tenantId, id) : undefined;
    },
    setVerificationResult: async (tenantId: string, id: string, version: number, status: IntegrationStatus, systemMetadata: Record<string, unknown>, verifiedAt: string | null) => {
      const res = c.sql(`UPDATE integrations SET status = @status, system_metadata = @systemMetadata, verified_at = COALESCE(@verifiedAt, verified_at), updated_at = @now
        WHERE tenant_id = @tenantId AND id = @id AND credentials_version = @version AND status = 'pending_verify' AND deleted_at IS NULL`)
        .run({ status, systemMetadata: json(systemMetadata), verifiedAt, now: new Date().toISOString(), tenantId, id, version });
      return res.changes === 1;
    },
    adoptLegacyEnvironments: async (environments: Record<string, string[]>) => {
      // Rows listed by the migration that added `environment` (integration_environment_backfill).
      const pending = c.sql(`SELECT b.integration_id AS id, b.environment, i.provider FROM integration_environment_backfill b
        LEFT JOIN integrations i ON i.id = b.integration_id`);
      const adopt = c.sql(`UPDATE integrations SET environment = @environment, metadata = json_remove(metadata, '$.environment')
        WHERE id = @id AND environment IS NULL AND json_extract(metadata, '$.environment') = @environment`);
      const done = c.sql('DELETE FROM integration_environment_backfill WHERE integration_id = ?');
      return c.db.transaction(() => {
        let moved = 0;
        for (const r of pending.all() as Array<{ id: string; environment: string; provider: string | null }>) {
          if (r.provider !== null && !(r.provider in environments)) continue; // provider not installed: wait
          if (r.provider !== null && environments[r.provider]!.includes(r.environment)) moved += adopt.run(r).changes;
          done.run(r.id);
        }
        return moved;
      }).immediate();
    },
  };
  return repo;
}

export function sealedKeysRepo(c: SqliteConnection): Store['sealedKeys'] {
  const repo: Store['sealedKeys'] = {
    all: async () => [
      ...(c.sql(`SELECT 'integration' AS kind, id, tenant_id, data_key_wrapped, master_key_id FROM integrations`).all() as SealedKeyRef[]),
      ...(c.sql(`SELECT 'webhook_subscription' AS kind, id, tenant_id, data_key_wrapped, master_key_id FROM webhook_subscriptions`).all() as SealedKeyRef[]),
    ],
    rewrap: async (rows: Array<SealedKeyRef & { old_data_key_wrapped: Buffer; old_master_key_id: string }>) => {
      const sql = (table: string) => `UPDATE ${table} SET data_key_wrapped = @data_key_wrapped, master_key_id = @master_key_id
        WHERE tenant_id = @tenant_id AND id = @id AND master_key_id = @old_master_key_id AND data_key_wrapped = @old_data_key_wrapped`;
      const st = { integration: c.sql(sql('integrations')), webhook_subscription: c.sql(sql('webhook_subscriptions')) };
      return c.db.transaction(() => rows.reduce((n, { kind, ...r }) => n + st[kind].run(r).changes, 0)).immediate();
    },
  };
  return repo;
}
