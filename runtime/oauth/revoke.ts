// Disconnect (DESIGN §10): DELETE /integrations/{id} of an OAuth integration revokes its tokens at
// the manifest's revocation_url (RFC 7009; the refresh token, which revokes the grant, else the
// access token). A failed revocation is logged and never blocks the delete. The same for the fresh
// tokens of a connect that failed after the code exchange (revokeUnused).
import type { Logger } from 'pino';
import type { IntegrationRow } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import { resolveEndpoints, type OAuthEndpoints } from './endpoints.ts';
import { revokeGrant, type TokenSet } from './grant.ts';
import type { OAuthTokens } from './tokens.ts';

export async function revokeTokens(
  deps: { cipher: CredentialCipher; tokens: OAuthTokens; logger: Logger; env: Record<string, string | undefined> },
  c: Connector,
  row: IntegrationRow,
): Promise<'revoked' | 'not_declared' | 'failed'> {
  if (!c.auth.templates.has('revocation_url')) return 'not_declared';
  try {
    const tokens = deps.tokens.open(row);
    if (!tokens) return 'not_declared';
    const credentials = deps.cipher.open(row.tenant_id, row.id, row);
    const endpoints = resolveEndpoints(c, { credentials, environment: row.environment, connection: row.connection, baseUrl: deps.tokens.baseUrl(c, row), env: deps.env });
    if (!endpoints.revocationUrl) return 'not_declared';
    await revokeSet(endpoints, tokens);
    deps.logger.info({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider }, 'oauth tokens revoked');
    return 'revoked';
  } catch (err) {
    deps.logger.warn({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider, err: (err as Error).message }, 'oauth token revocation failed; the integration is deleted anyway');
    return 'failed';
  }
}

/** The refresh token (which revokes the grant), else the access token. */
async function revokeSet(endpoints: OAuthEndpoints, tokens: TokenSet): Promise<void> {
  if (tokens.refresh_token) await revokeGrant(endpoints, tokens.refresh_token, 'refresh_token');
  else await revokeGrant(endpoints, tokens.access_token, 'access_token');
}

/**
 * Tokens granted to a connect that then failed (the user info could not be read): nothing keeps them,
 * so they are revoked where the manifest declares revocation_url. Logged, never throws.
 */
export async function revokeUnused(logger: Logger, c: Connector, endpoints: OAuthEndpoints, tokens: TokenSet, tenantId: string): Promise<'revoked' | 'not_declared' | 'failed'> {
  if (!c.auth.templates.has('revocation_url') || !endpoints.revocationUrl) return 'not_declared';
  try {
    await revokeSet(endpoints, tokens);
    logger.info({ tenantId, provider: c.name }, 'oauth tokens of a failed connect revoked');
    return 'revoked';
  } catch (err) {
    logger.warn({ tenantId, provider: c.name, err: (err as Error).message }, 'oauth token revocation after a failed connect failed');
    return 'failed';
  }
}
