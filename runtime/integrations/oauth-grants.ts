// Integrations that connect through OAuth: the callback creates the tenant's integration or
// reconnects the one it has (new tokens on the same row, verification queued again, a previous
// needs_reauth cleared), and a grant the provider no longer honours moves it to `error` with
// system metadata needs_reauth / reauth_reason and an `integration.error` event.
import type { Logger } from 'pino';
import type { Store, IntegrationRow, IntegrationStatus } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import type { EventPublisher } from '../webhooks/events.ts';
import { newId } from '../store/ids.ts';
import { invalid, conflict } from '../errors/plugboard-error.ts';
import { withoutVerification } from './metadata.ts';

/** AAD label of the sealed OAuth tokens (beside the credentials, under the same data key). */
export const OAUTH_TOKENS = 'oauth-tokens';

export interface GrantedConnection {
  /** {access_token, refresh_token, expires_at, scope, token_type}: sealed before it is stored. */
  tokens: { expires_at?: string } & Record<string, unknown>;
  connection: Record<string, unknown>;
}

function withoutReauth(system: Record<string, unknown>): Record<string, unknown> {
  const { needs_reauth: _n, reauth_reason: _r, ...rest } = withoutVerification(system);
  return rest;
}

export async function liveIntegrationFor(store: Store, tenantId: string, provider: string): Promise<IntegrationRow | undefined> {
  return (await store.integrations.list(tenantId, { page: 1, perPage: 1, providers: [provider] })).items[0];
}

/** Creates or reconnects the tenant's integration for the connector with what the provider granted. */
export async function connectWithGrant(
  deps: { store: Store; cipher: CredentialCipher; scheduler: { scheduleVerification(tenantId: string, integrationId: string, credentialsVersion: number): Promise<void> } },
  c: Connector,
  tenantId: string,
  grant: GrantedConnection,
): Promise<{ id: string; status: IntegrationStatus; reconnected: boolean }> {
  const { store, cipher, scheduler } = deps;
  const now = new Date().toISOString();
  // Compare-and-set on token_version (incremented in SQL): a refresh or credentials change that
  // wrote the row since it was read makes it read again, so the newer data key and state are used.
  for (let attempt = 0; attempt < 20; attempt++) {
    const existing = await liveIntegrationFor(store, tenantId, c.name);
    if (!existing) break;
    const status: IntegrationStatus = existing.status === 'inactive' ? 'inactive' : 'pending_verify';
    const updated = await store.integrations.updateAtTokenVersion(tenantId, existing.id, existing.token_version ?? 0, {
      oauth_tokens_sealed: cipher.sealBeside(tenantId, existing.id, existing, OAUTH_TOKENS, grant.tokens),
      token_expires_at: grant.tokens.expires_at ?? null,
      connection: grant.connection,
      credentials_version: existing.credentials_version + 1,
      status,
      verified_at: null,
      system_metadata: withoutReauth(existing.system_metadata),
      updated_at: now,
    });
    if (!updated) continue;
    if (status === 'pending_verify') await scheduler.scheduleVerification(tenantId, existing.id, updated.credentials_version);
    return { id: existing.id, status, reconnected: true };
  }
  if (await liveIntegrationFor(store, tenantId, c.name)) throw conflict('The integration\'s tokens kept changing while it was reconnected: connect again.');
  if (!c.validateCredentials({})) {
    throw invalid({ credentials: [`${c.name} needs credentials the tenant types (${Object.keys(c.credentialSchema).join(', ')}): create the integration with them first, then connect`] });
  }
  const id = newId();
  const sealed = cipher.seal(tenantId, id, {});
  const row: IntegrationRow = {
    id,
    tenant_id: tenantId,
    provider: c.name,
    status: 'pending_verify',
    enabled_capabilities: [...c.capabilities.keys()],
    environment: null,
    metadata: {},
    system_metadata: {},
    credentials_public: {},
    ...sealed,
    credentials_version: 1,
    oauth_tokens_sealed: cipher.sealBeside(tenantId, id, sealed, OAUTH_TOKENS, grant.tokens),
    token_expires_at: grant.tokens.expires_at ?? null,
    token_version: 1,
    connection: grant.connection,
    verified_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await store.integrations.create(row);
  await scheduler.scheduleVerification(tenantId, id, 1);
  return { id, status: 'pending_verify', reconnected: false };
}

/**
 * The provider refused the grant (invalid_grant, revoked): status `error`, needs_reauth and a
 * readable reason, one `integration.error` event. A row already marked stays as it is (no second event).
 * Only while token_version is still the one `row` was read at: when a reconnect or another refresh
 * saved newer tokens meanwhile, the refusal was about a spent grant and nothing is marked (false).
 */
export async function markNeedsReauth(
  deps: { store: Store; events?: EventPublisher; logger: Logger; category: string },
  row: IntegrationRow,
  reason: string,
): Promise<boolean> {
  const fresh = await deps.store.integrations.get(row.tenant_id, row.id);
  if (!fresh || (fresh.token_version ?? 0) !== (row.token_version ?? 0)) return false;
  if (fresh.status === 'error' && fresh.system_metadata['needs_reauth'] === true) return true;
  const at = new Date().toISOString();
  const marked = await deps.store.integrations.updateAtTokenVersion(row.tenant_id, row.id, row.token_version ?? 0, {
    status: 'error',
    system_metadata: { ...fresh.system_metadata, needs_reauth: true, reauth_reason: reason },
    updated_at: at,
  });
  if (!marked) return false;
  deps.logger.warn({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider, reason }, 'oauth grant refused: the integration needs to be connected again');
  await deps.events?.publish(row.tenant_id, 'integration.error', {
    integration_id: row.id,
    provider: row.provider,
    category: deps.category,
    previous_status: fresh.status,
    status: 'error',
    error: { message: reason, code: 'invalid_credentials' },
    failed_at: at,
  }).catch((err: Error) => deps.logger.error({ err: err.message }, 'cannot publish integration event'));
  return true;
}
