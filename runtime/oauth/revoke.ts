// Disconnect (DESIGN §10): DELETE /integrations/{id} of an OAuth integration revokes its tokens at
// the manifest's revocation_url (RFC 7009; the refresh token, which revokes the grant, else the
// access token). A failed revocation is logged and never blocks the delete. A reconnect (also the
// second callback of a double-clicked connect) revokes the grant whose tokens it replaced the same way.
import type { Logger } from 'pino';
import type { IntegrationRow } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import { resolveEndpoints } from './endpoints.ts';
import { revokeGrant } from './grant.ts';
import type { OAuthTokens } from './tokens.ts';

type RevokeDeps = { cipher: CredentialCipher; tokens: OAuthTokens; logger: Logger; env: Record<string, string | undefined> };

export async function revokeTokens(
  deps: RevokeDeps,
  c: Connector,
  row: IntegrationRow,
  /** Tokens now in use (a reconnect's): a replaced token equal to one of them is not revoked. */
  keep: { access_token?: unknown; refresh_token?: unknown } = {},
): Promise<'revoked' | 'not_declared' | 'failed'> {
  if (!c.auth.templates.has('revocation_url')) return 'not_declared';
  const what = keep.access_token === undefined ? 'the integration is deleted anyway' : 'the integration is reconnected anyway';
  try {
    const tokens = deps.tokens.open(row);
    if (!tokens) return 'not_declared';
    // A provider that hands the same refresh token out again: revoking it would end the new grant.
    if (tokens.refresh_token ? tokens.refresh_token === keep.refresh_token : tokens.access_token === keep.access_token) return 'not_declared';
    const credentials = deps.cipher.open(row.tenant_id, row.id, row);
    const endpoints = resolveEndpoints(c, { credentials, environment: row.environment, connection: row.connection, baseUrl: deps.tokens.baseUrl(c, row), env: deps.env });
    if (!endpoints.revocationUrl) return 'not_declared';
    if (tokens.refresh_token) await revokeGrant(endpoints, tokens.refresh_token, 'refresh_token');
    else await revokeGrant(endpoints, tokens.access_token, 'access_token');
    deps.logger.info({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider }, 'oauth tokens revoked');
    return 'revoked';
  } catch (err) {
    deps.logger.warn({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider, err: (err as Error).message }, `oauth token revocation failed; ${what}`);
    return 'failed';
  }
}
