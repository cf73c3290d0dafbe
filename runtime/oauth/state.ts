// Authorization requests: a random single-use state (stored only as its SHA-256, bound to the
// tenant and provider, 10 minutes), the S256 PKCE verifier sealed beside it, and the
// authorization URL with the manifest's scopes and extra parameters. return_to is accepted only on
// an allowed origin (PLUGBOARD_ALLOWED_RETURN_ORIGINS and the server's own), never an open redirect.
import { createHash, randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import type { OAuthStateRow } from '../store/types.ts';
import { invalid } from '../errors/plugboard-error.ts';
import type { OAuthEndpoints } from './endpoints.ts';

export const STATE_TTL_MS = 10 * 60_000;
/** AAD label of a sealed PKCE verifier; the state's hash stands in for an integration id. */
const VERIFIER = 'oauth-pkce-verifier';

export const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

/** return_to must be an absolute http(s) URL on an allowed origin: 422 naming return_to otherwise. */
export function checkReturnTo(returnTo: string | undefined, allowedOrigins: string[]): string | null {
  if (returnTo === undefined || returnTo === '') return null;
  let url: URL;
  try {
    url = new URL(returnTo);
  } catch {
    throw invalid({ return_to: ['must be an absolute URL'] });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid({ return_to: ['must be an http(s) URL'] });
  // https://user:pw@host/ is refused: a user name could disguise the real host to whoever reads the URL.
  if (url.username || url.password) throw invalid({ return_to: ['must not contain a user name or password'] });
  if (!allowedOrigins.includes(url.origin)) {
    throw invalid({ return_to: [`origin ${url.origin} is not allowed (PLUGBOARD_ALLOWED_RETURN_ORIGINS lists the origins the callback may redirect to)`] });
  }
  return url.href;
}

export async function newAuthorization(
  c: Connector,
  e: OAuthEndpoints,
  cipher: CredentialCipher,
  q: { tenantId: string; redirectUri: string; returnTo: string | null; renderParam(key: string): string },
): Promise<{ url: string; state: string; expiresAt: string; row: OAuthStateRow }> {
  const state = randomBytes(32).toString('base64url');
  const stateHash = hashState(state);
  const url = new URL(e.authorizationUrl);
  const spec = c.auth.spec;
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', e.clientId);
  url.searchParams.set('redirect_uri', q.redirectUri);
  if (spec.scopes?.length) url.searchParams.set('scope', spec.scopes.join(spec.scope_separator ?? ' '));
  url.searchParams.set('state', state);
  let sealed: { credentials_sealed: Buffer; data_key_wrapped: Buffer; master_key_id: string } | undefined;
  if (spec.pkce !== false) {
    const verifier = oauth.generateRandomCodeVerifier();
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    sealed = cipher.seal(q.tenantId, `${VERIFIER}:${stateHash}`, { verifier });
  }
  for (const key of Object.keys(spec.extra_authorize_params ?? {})) {
    const v = q.renderParam(`extra_authorize_params.${key}`);
    if (v !== '') url.searchParams.set(key, v);
  }
  const now = Date.now();
  const expiresAt = new Date(now + STATE_TTL_MS).toISOString();
  return {
    url: url.href,
    state,
    expiresAt,
    row: {
      state_hash: stateHash,
      tenant_id: q.tenantId,
      provider: c.name,
      verifier_sealed: sealed?.credentials_sealed ?? null,
      data_key_wrapped: sealed?.data_key_wrapped ?? null,
      master_key_id: sealed?.master_key_id ?? null,
      return_to: q.returnTo,
      expires_at: expiresAt,
      used_at: null,
      created_at: new Date(now).toISOString(),
    },
  };
}

export function openVerifier(cipher: CredentialCipher, row: OAuthStateRow): string | undefined {
  if (!row.verifier_sealed || !row.data_key_wrapped || !row.master_key_id) return undefined;
  const opened = cipher.open(row.tenant_id, `${VERIFIER}:${row.state_hash}`, { credentials_sealed: row.verifier_sealed, data_key_wrapped: row.data_key_wrapped, master_key_id: row.master_key_id });
  return String(opened['verifier']);
}
