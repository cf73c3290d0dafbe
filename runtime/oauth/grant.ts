// The provider's token endpoint through oauth4webapi (no hand-written token parsing): the
// authorization code exchange (RFC 6749 §4.1.3 with the PKCE verifier, RFC 7636), the refresh
// grant (§6) and token revocation (RFC 7009). Failures become PlugboardErrors whose code is the
// OAuth error (invalid_grant, invalid_request, access_denied...) or network_error / provider_error,
// with a message that never carries a token.
import * as oauth from 'oauth4webapi';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { redact } from '../http/errors.ts';
import type { OAuthEndpoints } from './endpoints.ts';

/** What a token endpoint granted, as Plugboard keeps it (sealed). */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  /** ISO time; absent when the provider gave no expires_in. */
  expires_at?: string;
  scope?: string;
  token_type: string;
}

export interface GrantResult {
  tokens: TokenSet;
  /** The whole token response (for the manifest's connection mapping); never logged. */
  response: Record<string, unknown>;
}

/** How long a token request may take (PLUGBOARD_OAUTH_TOKEN_TIMEOUT_MS overrides it for refreshes). */
export const TOKEN_TIMEOUT_MS = 30_000;
/** Revocation runs inside DELETE /integrations/{id}: a slow endpoint may not hold the delete up long. */
const REVOKE_TIMEOUT_MS = 5_000;

function server(e: OAuthEndpoints): oauth.AuthorizationServer {
  const as: oauth.AuthorizationServer = {
    issuer: new URL(e.tokenUrl).origin,
    authorization_endpoint: e.authorizationUrl || undefined,
    token_endpoint: e.tokenUrl,
    revocation_endpoint: e.revocationUrl,
  };
  // A manifest names no issuer. An id_token some providers add (Microsoft, Google) arrives straight
  // from the token endpoint over TLS (OIDC Core §3.1.3.7), and is only read by the connection mapping.
  // oauth4webapi's `_expectedIssuer` hook (exported, not typed) compares iss with itself then.
  const expectedIssuer = (oauth as unknown as { _expectedIssuer?: symbol })._expectedIssuer;
  if (expectedIssuer) (as as unknown as Record<symbol, unknown>)[expectedIssuer] = (result: { claims: { iss?: string } }) => result.claims.iss;
  return as;
}

function clientAuth(e: OAuthEndpoints): oauth.ClientAuth {
  if (!e.clientSecret) return oauth.None();
  return e.clientAuth === 'body' ? oauth.ClientSecretPost(e.clientSecret) : oauth.ClientSecretBasic(e.clientSecret);
}

function options(timeoutMs = TOKEN_TIMEOUT_MS): oauth.TokenEndpointRequestOptions {
  // Loopback and development hosts may be plain http (tests, PLUGBOARD_OAUTH_<P>_TOKEN_URL proxies).
  return { [oauth.allowInsecureRequests]: true, signal: AbortSignal.timeout(timeoutMs) };
}

/** `text` with every secret (a token the request carried or the integration holds) replaced. */
function redacted(text: string, secrets: Array<string | undefined>): string {
  return redact(text, secrets.filter((s): s is string => !!s));
}

/**
 * A readable PlugboardError for any failure of a grant request (never the response body). The
 * provider's error_description is free text that may echo what it was sent: `secrets` (the refresh
 * and access tokens, the code) are redacted from it.
 */
export function grantError(err: unknown, what: string, secrets: Array<string | undefined> = [], endpoint = 'the token endpoint'): PlugboardError {
  if (err instanceof PlugboardError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    const description = err.error_description ? `: ${redacted(err.error_description, secrets)}` : '';
    return new PlugboardError('provider', `${what} was refused (${err.error}${description})`, { code: err.error });
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    const description = err.error_description ? `: ${redacted(err.error_description, secrets)}` : '';
    return new PlugboardError('provider', `the provider answered the authorization with ${err.error}${description}`, { code: err.error });
  }
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new PlugboardError('provider', `${what}: ${endpoint} did not answer in time`, { code: 'timeout' });
  if (e?.name === 'TypeError' && /fetch failed/i.test(e.message ?? '')) return new PlugboardError('provider', `${what}: cannot reach ${endpoint} (${e.cause?.code ?? 'network error'})`, { code: 'network_error' });
  if (e?.code === oauth.RESPONSE_IS_NOT_CONFORM || e?.code === oauth.INVALID_RESPONSE || e?.code === oauth.RESPONSE_IS_NOT_JSON) {
    return new PlugboardError('provider', `${what}: ${endpoint}'s answer is not a valid token response`, { code: 'provider_error' });
  }
  return new PlugboardError('provider', redacted(`${what} failed: ${e?.message ?? String(err)}`, secrets), { code: 'provider_error' });
}

function tokenSet(r: oauth.TokenEndpointResponse): TokenSet {
  return {
    access_token: r.access_token,
    ...(r.refresh_token ? { refresh_token: r.refresh_token } : {}),
    // oauth4webapi turns a numeric string ("3600") into a number; anything else is an unknown expiry
    // (the token is used until the provider answers 401, then refreshed).
    ...(typeof r.expires_in === 'number' && Number.isFinite(r.expires_in) && r.expires_in > 0 ? { expires_at: new Date(Date.now() + r.expires_in * 1000).toISOString() } : {}),
    ...(r.scope ? { scope: r.scope } : {}),
    token_type: r.token_type,
  };
}

/** Checks the callback's own parameters (error=access_denied...) and exchanges its code. */
export async function exchangeCode(e: OAuthEndpoints, callback: URLSearchParams, redirect: string, verifier: string | undefined): Promise<GrantResult> {
  const as = server(e);
  const client: oauth.Client = { client_id: e.clientId };
  try {
    // State was checked (hashed, single use) before this. A manifest names no issuer, so an `iss`
    // parameter (RFC 9207) cannot be compared: only the code and error parameters are passed on.
    const passed = new URLSearchParams([...callback].filter(([k]) => ['code', 'state', 'error', 'error_description', 'error_uri'].includes(k)));
    const params = oauth.validateAuthResponse(as, client, passed, oauth.skipStateCheck);
    const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth(e), params, redirect, verifier ?? oauth.nopkce, options());
    const body = await oauth.processAuthorizationCodeResponse(as, client, res);
    return { tokens: tokenSet(body), response: { ...body } };
  } catch (err) {
    throw grantError(err, 'the authorization code exchange', [callback.get('code') ?? undefined, verifier, e.clientSecret]);
  }
}

/**
 * The manifest's userinfo_url read with a fresh access token (GET, Bearer): its JSON object, for the
 * connection mapping. Failures name the endpoint and status, never the token.
 */
export async function fetchUserinfo(e: OAuthEndpoints, accessToken: string): Promise<Record<string, unknown> | unknown[]> {
  const url = e.userinfoUrl!;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
  } catch (err) {
    throw grantError(err, 'reading the user info', [accessToken, e.clientSecret], 'the user info endpoint');
  }
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok) throw new PlugboardError('provider', `reading the user info was refused (HTTP ${res.status})`, { code: 'provider_error' });
  // An object (DocuSign's user info) or a list (Xero's GET /connections: one entry per organisation).
  if (!body || typeof body !== 'object') throw new PlugboardError('provider', 'the user info endpoint did not answer with a JSON object or array', { code: 'provider_error' });
  return body as Record<string, unknown> | unknown[];
}

/** The refresh grant; `accessToken` (the current one) is only named so errors can redact it. */
export async function refreshGrant(e: OAuthEndpoints, refreshToken: string, opts: { accessToken?: string; timeoutMs?: number } = {}): Promise<GrantResult> {
  const as = server(e);
  const client: oauth.Client = { client_id: e.clientId };
  try {
    const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth(e), refreshToken, options(opts.timeoutMs));
    const body = await oauth.processRefreshTokenResponse(as, client, res);
    return { tokens: tokenSet(body), response: { ...body } };
  } catch (err) {
    throw grantError(err, 'the token refresh', [refreshToken, opts.accessToken, e.clientSecret]);
  }
}

export async function revokeGrant(e: OAuthEndpoints, token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
  const as = server(e);
  const client: oauth.Client = { client_id: e.clientId };
  try {
    const res = await oauth.revocationRequest(as, client, clientAuth(e), token, { ...options(REVOKE_TIMEOUT_MS), additionalParameters: { token_type_hint: hint } });
    await oauth.processRevocationResponse(res);
  } catch (err) {
    throw grantError(err, 'the token revocation', [token, e.clientSecret]);
  }
}
