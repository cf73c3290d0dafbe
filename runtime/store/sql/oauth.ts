// SQL repository: OAuth authorization states, refresh leases and token writes.
import type { OAuthStore, OAuthStateRow, OAuthTokenWrite } from '../oauth-types.ts';
import { changed, type SqlConnection } from './connection.ts';
import { json } from './rows.ts';

export function oauthConnectionsRepo(c: SqlConnection): OAuthStore {
  const { db } = c;
  const findState = async (stateHash: string) =>
    (await db.selectFrom('oauth_states').selectAll().where('state_hash', '=', stateHash).executeTakeFirst()) as OAuthStateRow | undefined;
  return {
    createState: async (row: OAuthStateRow) => {
      await db.insertInto('oauth_states').values(row).execute();
    },
    findState,
    consumeState: async (stateHash: string, now: string) => {
      // A plain read first: an unknown or spent state (anyone can send one) never takes the write lock.
      const seen = await findState(stateHash);
      if (!seen || seen.used_at !== null) return seen && { row: seen, firstUse: false };
      return c.write(async (trx) => {
        const row = (await trx.selectFrom('oauth_states').selectAll().where('state_hash', '=', stateHash).executeTakeFirst()) as OAuthStateRow | undefined;
        if (!row) return undefined;
        const firstUse = changed(await trx.updateTable('oauth_states').set({ used_at: now }).where('state_hash', '=', stateHash).where('used_at', 'is', null).executeTakeFirst()) === 1;
        return { row, firstUse };
      });
    },
    purgeStates: async (before: string) => changed(await db.deleteFrom('oauth_states').where('expires_at', '<', before).executeTakeFirst()),
    acquireRefreshLease: async (tenantId: string, integrationId: string, holder: string, nowMs: number, untilMs: number) =>
      changed(await db.insertInto('oauth_refresh_leases').values({ integration_id: integrationId, tenant_id: tenantId, holder, expires_at: untilMs })
        .onConflict((oc) => oc.column('integration_id')
          .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), expires_at: eb.ref('excluded.expires_at') }))
          .where((eb) => eb.or([eb('oauth_refresh_leases.expires_at', '<=', nowMs), eb('oauth_refresh_leases.holder', '=', eb.ref('excluded.holder'))])))
        .executeTakeFirst()) === 1,
    releaseRefreshLease: async (integrationId: string, holder: string) => {
      await db.deleteFrom('oauth_refresh_leases').where('integration_id', '=', integrationId).where('holder', '=', holder).execute();
    },
    saveTokens: async (tenantId: string, integrationId: string, expectedVersion: number, w: OAuthTokenWrite) =>
      changed(await db.updateTable('integrations')
        .set((eb) => ({
          oauth_tokens_sealed: w.oauth_tokens_sealed,
          token_expires_at: w.token_expires_at,
          token_version: eb('token_version', '+', 1),
          ...(w.connection ? { connection: json(w.connection) } : {}),
          updated_at: new Date().toISOString(),
        }))
        .where('tenant_id', '=', tenantId).where('id', '=', integrationId).where('token_version', '=', expectedVersion).where('deleted_at', 'is', null)
        .executeTakeFirst()) === 1,
  };
}
