// Where a connector's OAuth app and endpoints are: the client id and secret (the operator's app
// from PLUGBOARD_OAUTH_<PROVIDER>_CLIENT_ID / _CLIENT_SECRET, or the tenant's own from its
// credentials), the authorization, token and revocation URLs by precedence (DESIGN §10 "OAuth
// hosts": override > environment > manifest; relative ones follow the base URL), and the redirect URI.
import type { Connector } from '../manifest/connector.ts';
import { resolveAgainstBase } from '../http/url.ts';
import { tokenUrl } from '../auth/strategies.ts';

export interface OAuthEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl?: string;
  /** Read after the code exchange (manifest userinfo_url, resolved against the token URL). */
  userinfoUrl?: string;
  clientId: string;
  clientSecret: string;
  clientAuth: 'basic' | 'body';
}

export interface EndpointContext {
  credentials: Record<string, unknown>;
  environment: string | null;
  connection?: Record<string, unknown>;
  /** The call's base URL (PLUGBOARD_BASE_URL_<PROVIDER>, environment, manifest); relative URLs follow it. */
  baseUrl: string;
  env: Record<string, string | undefined>;
}

const envPrefix = (c: Connector) => `PLUGBOARD_OAUTH_${c.name.toUpperCase()}_`;

/** The operator's OAuth app for a provider (app.* in templates). */
export function operatorApp(c: Connector, env: Record<string, string | undefined>): Record<string, string> {
  const p = envPrefix(c);
  const app: Record<string, string> = {};
  if (env[`${p}CLIENT_ID`]) app['client_id'] = env[`${p}CLIENT_ID`]!;
  if (env[`${p}CLIENT_SECRET`]) app['client_secret'] = env[`${p}CLIENT_SECRET`]!;
  return app;
}

/** True when a template of the auth block reads app.<field>. */
function readsApp(c: Connector, key: string): boolean {
  return (c.auth.templates.get(key)?.refs ?? []).some((r) => r.path[0] === 'app');
}

/**
 * GET /providers `oauth_app_configured`: null for providers that do not connect with OAuth; false
 * when client_id or client_secret read app.* and the operator has not set the variables.
 */
export function oauthAppConfigured(c: Connector, env: Record<string, string | undefined>): boolean | null {
  if (c.auth.spec.type !== 'oauth2_authorization_code') return null;
  return missingAppVariables(c, env).length === 0;
}

/** The PLUGBOARD_OAUTH_<PROVIDER>_CLIENT_ID / _CLIENT_SECRET variables the templates read and the operator has not set. */
export function missingAppVariables(c: Connector, env: Record<string, string | undefined>): string[] {
  const app = operatorApp(c, env);
  return (['client_id', 'client_secret'] as const).filter((k) => readsApp(c, k) && !app[k]).map((k) => `${envPrefix(c)}${k.toUpperCase()}`);
}

export function resolveEndpoints(c: Connector, ctx: EndpointContext): OAuthEndpoints {
  const data = { credentials: ctx.credentials, integration: { environment: ctx.environment ?? undefined }, connection: ctx.connection ?? {}, app: operatorApp(c, ctx.env) };
  const render = (key: string) => c.auth.templates.get(key)?.render(data) ?? '';
  const fromEnvironment = ctx.environment ? c.environmentOAuth[ctx.environment] : undefined;
  const authorizationUrl = ctx.env[`${envPrefix(c)}AUTHORIZATION_URL`] || fromEnvironment?.authorization_url || render('authorization_url');
  // The override keeps a test or proxy setup from revoking at the real provider on DELETE.
  const revocation = ctx.env[`${envPrefix(c)}REVOCATION_URL`] || render('revocation_url');
  const token = tokenUrl(c, { credentials: ctx.credentials, integration: data.integration, baseUrl: ctx.baseUrl, env: ctx.env });
  // Relative to the token URL, so that an environment's or an override's token host brings it along.
  const userinfo = ctx.env[`${envPrefix(c)}USERINFO_URL`] || c.auth.spec.userinfo_url;
  return {
    authorizationUrl,
    tokenUrl: token,
    revocationUrl: revocation ? resolveAgainstBase(ctx.baseUrl, revocation) : undefined,
    ...(userinfo ? { userinfoUrl: new URL(userinfo, token).toString() } : {}),
    clientId: render('client_id'),
    clientSecret: render('client_secret'),
    clientAuth: c.auth.spec.client_auth ?? 'basic',
  };
}

/** The redirect URI registered with the provider: PLUGBOARD_PUBLIC_URL + /api/v1/integrations/callback/{provider}. */
export function redirectUri(publicUrl: string, provider: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/v1/integrations/callback/${encodeURIComponent(provider)}`;
}
