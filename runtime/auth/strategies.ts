// Auth strategies named by manifests. Each turns the compiled auth block and an integration's
// credentials into headers and query parameters for one provider request.
import type { Connector } from '../manifest/connector.ts';
import type { HttpTransport } from '../http/transport.ts';
import { EngineError, failure } from '../http/errors.ts';
import { resolveAgainstBase } from '../http/url.ts';
import { OAuthClientCredentialsCache } from './oauth2-client-credentials.ts';
import { fromTokenSource, type TokenSource } from './token-source.ts';
export { OAuthClientCredentialsCache };

export interface AuthContext {
  credentials: Record<string, unknown>;
  integration: Record<string, unknown>;
  transport: HttpTransport;
  timeoutMs: number;
  /** Distinguishes token caches of different integrations of the same provider. */
  cacheKey: string;
  /** The base URL of this call (override, PLUGBOARD_BASE_URL_<PROVIDER>, environment): relative URLs follow it. */
  baseUrl: string;
  /** Environment consulted for PLUGBOARD_OAUTH_<PROVIDER>_TOKEN_URL. */
  env: Record<string, string | undefined>;
  /** Client-credentials tokens, owned by the engine. */
  tokens: OAuthClientCredentialsCache;
  /** oauth2_authorization_code: where the access token comes from (the runtime's, or a static one). */
  tokenSource?: TokenSource;
}

export interface AppliedAuth {
  headers: Record<string, string>;
  query: Array<[string, string]>;
  /** Values derived from secrets (tokens, Authorization headers) that must be redacted from errors. */
  secrets: string[];
  /** OAuth: the access token sent; if the provider rejects it, refreshed (token source) or fetched anew (client credentials). */
  accessToken?: string;
}

type Strategy = (connector: Connector, ctx: AuthContext) => Promise<AppliedAuth> | AppliedAuth;

function render(connector: Connector, key: string, ctx: AuthContext): string {
  const t = connector.auth.templates.get(key);
  return t ? t.render({ credentials: ctx.credentials, integration: ctx.integration }) : '';
}

function renderMap(connector: Connector, prefix: 'headers' | 'query', ctx: AuthContext): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, t] of connector.auth.templates) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const v = t.render({ credentials: ctx.credentials, integration: ctx.integration });
    if (v !== '') out.push([key.slice(prefix.length + 1), v]);
  }
  return out;
}

function missing(what: string): never {
  throw new EngineError(failure('invalid_credentials', `credentials are incomplete: ${what} rendered empty`, { retryable: false }));
}

/** Token URL by precedence (DESIGN §10 "OAuth hosts"): PLUGBOARD_OAUTH_<PROVIDER>_TOKEN_URL, then the
 *  integration's environment's token_url, then the manifest's; a relative one follows the call's base URL. */
export function tokenUrl(connector: Connector, ctx: Pick<AuthContext, 'credentials' | 'integration' | 'baseUrl' | 'env'>): string {
  const override = ctx.env[`PLUGBOARD_OAUTH_${connector.name.toUpperCase()}_TOKEN_URL`];
  if (override) return override;
  const environment = ctx.integration['environment'];
  const fromEnvironment = typeof environment === 'string' ? connector.environmentOAuth[environment]?.token_url : undefined;
  if (fromEnvironment) return resolveAgainstBase(ctx.baseUrl, fromEnvironment);
  const t = connector.auth.templates.get('token_url');
  const url = t ? t.render({ credentials: ctx.credentials, integration: ctx.integration }) : '';
  return url ? resolveAgainstBase(ctx.baseUrl, url) : '';
}

const strategies: Record<string, Strategy> = {
  none: () => ({ headers: {}, query: [], secrets: [] }),

  api_key(connector, ctx) {
    const spec = connector.auth.spec;
    if (spec.name) {
      const value = render(connector, 'value', ctx);
      if (!value) missing(`api key "${spec.name}"`);
      return spec.in === 'query'
        ? { headers: {}, query: [[spec.name, value]], secrets: [value] }
        : { headers: { [spec.name.toLowerCase()]: value }, query: [], secrets: [value] };
    }
    const headers = Object.fromEntries(renderMap(connector, 'headers', ctx).map(([k, v]) => [k.toLowerCase(), v]));
    const query = renderMap(connector, 'query', ctx);
    return { headers, query, secrets: [...Object.values(headers), ...query.map(([, v]) => v)] };
  },

  basic(connector, ctx) {
    const username = render(connector, 'username', ctx);
    const password = render(connector, 'password', ctx);
    if (!username) missing('basic auth username');
    const value = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    return { headers: { authorization: value }, query: [], secrets: [value, password].filter(Boolean) };
  },

  bearer(connector, ctx) {
    const token = render(connector, 'token', ctx);
    if (!token) missing('bearer token');
    const value = `${connector.auth.spec.scheme ?? 'Bearer'} ${token}`;
    return { headers: { authorization: value }, query: [], secrets: [token, value] };
  },

  // The token comes from the token source: the runtime's (connect flow, refresh) or a static one
  // (credentials.access_token of a CLI run, an offline example, a contract test).
  async oauth2_authorization_code(connector, ctx) {
    if (!ctx.tokenSource) {
      throw new EngineError(failure('invalid_credentials', `this ${connector.displayName} integration has no OAuth access token: connect it first (GET /api/v1/integrations/connect/${connector.name}), or give credentials.access_token for a dry run`, { retryable: false }));
    }
    const source = ctx.tokenSource;
    return oauthBearer(connector, await fromTokenSource(() => source.accessToken()));
  },

  async oauth2_client_credentials(connector, ctx) {
    const spec = connector.auth.spec;
    const token = await ctx.tokens.token(
      {
        tokenUrl: tokenUrl(connector, ctx),
        clientId: render(connector, 'client_id', ctx),
        clientSecret: render(connector, 'client_secret', ctx),
        scopes: spec.scopes ?? [],
        audience: spec.audience,
        clientAuth: spec.client_auth ?? 'basic',
      },
      `${connector.name}:${ctx.cacheKey}`,
      ctx.transport,
      ctx.timeoutMs,
    );
    const value = `${spec.scheme ?? 'Bearer'} ${token}`;
    return { headers: { authorization: value }, query: [], secrets: [token, value, render(connector, 'client_secret', ctx)].filter(Boolean), accessToken: token };
  },

  smtp() {
    throw new EngineError(failure('unsupported', 'smtp connectors are sent by the SMTP transport, not over HTTP', { retryable: false }));
  },
};

/** The Authorization header of an oauth2_authorization_code call with this access token. */
export function oauthBearer(connector: Connector, token: string): AppliedAuth {
  const value = `${connector.auth.spec.scheme ?? 'Bearer'} ${token}`;
  return { headers: { authorization: value }, query: [], secrets: [token, value], accessToken: token };
}

export async function applyAuth(connector: Connector, ctx: AuthContext): Promise<AppliedAuth> {
  const strategy = strategies[connector.auth.spec.type];
  if (!strategy) throw new EngineError(failure('unsupported', `auth type "${connector.auth.spec.type}" is not supported`, { retryable: false }));
  return strategy(connector, ctx);
}
