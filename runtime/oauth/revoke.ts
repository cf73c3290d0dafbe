// Disconnect (DESIGN §10): DELETE /integrations/{id} of an OAuth integration revokes its tokens at
// the manifest's revocation_url (RFC 7009; the refresh token, which revokes the grant, else the
// access token). A failed revocation is logged and never blocks the delete.
import type { Logger } from 'pino';
import type { IntegrationRow } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import { resolveEndpoints } from './endpoints.ts';
import { revokeGrant } from './grant.ts';
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
    if (tokens.refresh_token) await revokeGrant(endpoints, tokens.refresh_token, 'refresh_token');
    else await revokeGrant(endpoints, tokens.access_token, 'access_token');
    deps.logger.info({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider }, 'oauth tokens revoked');
    return 'revoked';
  } catch (err) {
    deps.logger.warn({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider, err: (err as Error).message }, 'oauth token revocation failed; the integration is deleted anyway');
    return 'failed';
  }
}
