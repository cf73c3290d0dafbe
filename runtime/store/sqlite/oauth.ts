// SQLite repository: OAuth authorization states, refresh leases and token writes.
import type { OAuthStore, OAuthStateRow, OAuthTokenWrite } from '../oauth-types.ts';
import type { SqliteConnection } from './connection.ts';
import { json } from './rows.ts';

export function oauthConnectionsRepo(c: SqliteConnection): OAuthStore {
  return {
    createState: async (row: OAuthStateRow) => {
      c.sql(`INSERT INTO oauth_states (state_hash, tenant_id, provider, verifier_sealed, data_key_wrapped, master_key_id, return_to, expires_at, used_at, created_at)
        VALUES (@state_hash, @tenant_id, @provider, @verifier_sealed, @data_key_wrapped, @master_key_id, @return_to, @expires_at, @used_at, @created_at)`).run(row);
    },
    findState: async (stateHash: string) => c.sql('SELECT * FROM oauth_states WHERE state_hash = ?').get(stateHash) as OAuthStateRow | undefined,
    consumeState: async (stateHash: string, now: string) => {
      // A plain read first: an unknown or spent state (anyone can send one) never takes the write lock.
      const seen = c.sql('SELECT * FROM oauth_states WHERE state_hash = ?').get(stateHash) as OAuthStateRow | undefined;
      if (!seen || seen.used_at !== null) return seen && { row: seen, firstUse: false };
      return c.db.transaction(() => {
        const row = c.sql('SELECT * FROM oauth_states WHERE state_hash = ?').get(stateHash) as OAuthStateRow | undefined;
        if (!row) return undefined;
        const firstUse = c.sql('UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL').run(now, stateHash).changes === 1;
        return { row, firstUse };
      }).immediate();
    },
    purgeStates: async (before: string) => c.sql('DELETE FROM oauth_states WHERE expires_at < ?').run(before).changes,
    acquireRefreshLease: async (tenantId: string, integrationId: string, holder: string, nowMs: number, untilMs: number) =>
      c.sql(`INSERT INTO oauth_refresh_leases (integration_id, tenant_id, holder, expires_at) VALUES (@integrationId, @tenantId, @holder, @untilMs)
        ON CONFLICT (integration_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE oauth_refresh_leases.expires_at <= @nowMs OR oauth_refresh_leases.holder = excluded.holder`)
        .run({ integrationId, tenantId, holder, nowMs, untilMs }).changes === 1,
    releaseRefreshLease: async (integrationId: string, holder: string) => {
      c.sql('DELETE FROM oauth_refresh_leases WHERE integration_id = ? AND holder = ?').run(integrationId, holder);
    },
    saveTokens: async (tenantId: string, integrationId: string, expectedVersion: number, w: OAuthTokenWrite) =>
      c.sql(`UPDATE integrations SET oauth_tokens_sealed = @sealed, token_expires_at = @expiresAt, token_version = token_version + 1,
          connection = COALESCE(@connection, connection), updated_at = @now
        WHERE tenant_id = @tenantId AND id = @integrationId AND token_version = @expectedVersion AND deleted_at IS NULL`)
        .run({ sealed: w.oauth_tokens_sealed, expiresAt: w.token_expires_at, connection: w.connection ? json(w.connection) : null, now: new Date().toISOString(), tenantId, integrationId, expectedVersion }).changes === 1,
  };
}
