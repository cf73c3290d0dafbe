// Plugboard as an OAuth client of providers (DESIGN §3 "OAuth providers"): the connect step (an
// authorization URL for the tenant's browser), the callback (state checked, code exchanged, tokens
// sealed, the integration created or reconnected, verification queued), a token source per
// integration for the engine, and revocation on disconnect. The callback never throws: every
// failure becomes a readable outcome the API turns into an error redirect or page.
import type { Logger } from 'pino';
import type { Store, IntegrationRow } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import type { TokenSource } from '../auth/token-source.ts';
import { PlugboardError, invalid } from '../errors/plugboard-error.ts';
import type { VerificationScheduler } from '../integrations/service.ts';
import { connectWithGrant, liveIntegrationFor } from '../integrations/oauth-grants.ts';
import { missingAppVariables, operatorApp, oauthAppConfigured, redirectUri, resolveEndpoints } from './endpoints.ts';
import { checkReturnTo, hashState, newAuthorization, openVerifier } from './state.ts';
import { exchangeCode, fetchUserinfo } from './grant.ts';
import { mapConnection } from './connection.ts';
import { OAuthTokens } from './tokens.ts';
import { revokeTokens, revokeUnused } from './revoke.ts';
import { IntegrationTokenSource } from './token-source.ts';
import { actingAs, type AuditContext, type AuditLog } from '../access/audit.ts';
import { CallbackThrottle, type CallbackRefusalBudget } from './callback-throttle.ts';
import { UniqueViolation } from '../store/types.ts';

export interface OAuthConnectionsOptions {
  /** PLUGBOARD_PUBLIC_URL (read at each call: tests learn their port after start-up). */
  publicUrl(): string | undefined;
  /** PLUGBOARD_ALLOWED_RETURN_ORIGINS. */
  allowedReturnOrigins: string[];
  env: Record<string, string | undefined>;
  /** PLUGBOARD_OAUTH_CALLBACK_FAILURES_PER_ADDRESS and PLUGBOARD_AUTH_FAILURE_WINDOW (default CALLBACK_REFUSAL_BUDGET). */
  callbackBudget?: CallbackRefusalBudget;
}

export interface CallbackOutcome {
  /** Where to send the browser (return_to with the result), or null to show a page. */
  redirect: string | null;
  provider: string;
  integrationId?: string;
  status?: string;
  /** Set on success: whose integration it is, and whether it existed (reconnect) or was created. */
  tenantId?: string;
  reconnected?: boolean;
  error?: { code: string; description: string };
  /** Set when the client address is over its budget of refused callbacks: answer 429 with Retry-After. */
  retryAfter?: number;
}

/** Who sent the callback: the request id (audit) and the client address (throttle). */
export interface CallbackRequest {
  requestId?: string;
  address?: string;
}

export class OAuthConnections {
  private readonly throttle: CallbackThrottle;

  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly cipher: CredentialCipher,
    private readonly tokens: OAuthTokens,
    private readonly scheduler: VerificationScheduler,
    private readonly logger: Logger,
    private readonly audit: AuditLog,
    private readonly opts: OAuthConnectionsOptions,
  ) {
    this.throttle = new CallbackThrottle(store, opts.callbackBudget);
  }

  /** GET /providers `oauth_app_configured`: the operator's app is set and so is PLUGBOARD_PUBLIC_URL (the redirect URL needs it). */
  appConfigured(c: Connector): boolean | null {
    const app = oauthAppConfigured(c, this.opts.env);
    return app === null ? null : app && !!this.opts.publicUrl();
  }

  private oauthConnector(provider: string): Connector {
    const c = this.connectors.get(provider);
    if (!c) throw new PlugboardError('not_found', `Provider ${provider} not found.`);
    if (c.auth.spec.type !== 'oauth2_authorization_code') throw new PlugboardError('conflict', `${c.name} does not connect with OAuth (auth type ${c.auth.spec.type}): create the integration with its credentials.`, { code: 'not_oauth' });
    return c;
  }

  private publicUrl(): string {
    const url = this.opts.publicUrl();
    if (!url) throw new PlugboardError('conflict', 'PLUGBOARD_PUBLIC_URL is not set: the provider needs it to redirect back to Plugboard.', { code: 'public_url_missing' });
    return url;
  }

  private allowedOrigins(): string[] {
    return [new URL(this.publicUrl()).origin, ...this.opts.allowedReturnOrigins];
  }

  /** GET /integrations/connect/{provider}: the authorization URL the tenant's browser opens. */
  async connect(ctx: AuditContext, provider: string, returnTo?: string): Promise<{ authorization_url: string; state: string; expires_at: string }> {
    const tenantId = ctx.principal.tenantId;
    const c = this.oauthConnector(provider);
    const ret = checkReturnTo(returnTo, this.allowedOrigins());
    // A tenant's own OAuth app (credentials.*) lives on its integration.
    const existing = await liveIntegrationFor(this.store, tenantId, c.name);
    const credentials = existing ? this.cipher.open(tenantId, existing.id, existing) : {};
    const endpoints = resolveEndpoints(c, { credentials, environment: existing?.environment ?? null, baseUrl: '', env: this.opts.env });
    // Half an app (a client id without its secret) is refused here, before the user consents for nothing.
    const missing = missingAppVariables(c, this.opts.env);
    if (missing.length) throw new PlugboardError('conflict', `${c.name} has no complete OAuth app: set ${missing.join(' and ')}.`, { code: 'oauth_app_not_configured' });
    if (!endpoints.clientId) throw invalid({ credentials: [`${c.name} connects with the tenant's own OAuth app: create the integration with its credentials first`] });
    if (!/^https?:\/\//.test(endpoints.authorizationUrl)) throw new PlugboardError('conflict', `${c.name} declares no absolute authorization_url.`, { code: 'oauth_misconfigured' });
    const data = { credentials, integration: { environment: existing?.environment ?? undefined }, app: operatorApp(c, this.opts.env) };
    const auth = await newAuthorization(c, endpoints, this.cipher, {
      tenantId,
      redirectUri: redirectUri(this.publicUrl(), c.name),
      returnTo: ret,
      renderParam: (key) => c.auth.templates.get(key)?.render(data) ?? '',
    });
    await this.store.oauthConnections.createState(auth.row);
    await this.store.oauthConnections.purgeStates(new Date(Date.now() - 24 * 3600_000).toISOString()).catch(() => 0);
    // Who started it (the callback that finishes it carries no API key).
    await this.audit.record(ctx, 'integration.connect_started', 'provider', provider);
    return { authorization_url: auth.url, state: auth.state, expires_at: auth.expiresAt };
  }

  /**
   * GET /integrations/callback/{provider}: never throws for a refused request (the outcome says where
   * the browser goes). A connection made is audited with the actor oauth_callback:<provider>.
   * Refusals without a usable state are counted per client address (CallbackThrottle).
   */
  async callback(provider: string, params: URLSearchParams, from: CallbackRequest = {}): Promise<CallbackOutcome> {
    const refuse = (code: string, description: string, redirect: string | null = null): CallbackOutcome => {
      this.logger.warn({ provider, code, description }, 'oauth callback refused');
      return { redirect: redirect && withParams(redirect, { error: code, error_description: description }), provider, error: { code, description } };
    };
    const retryAfter = await this.throttle.blocked(from.address);
    if (retryAfter) return rateLimited(provider, retryAfter);
    // Without a valid state nothing about the request can be trusted, return_to included: a page.
    const states = params.getAll('state');
    if (states.length > 1) return this.refusedState(refuse('invalid_request', 'The callback carries more than one state: start connecting again.'), from);
    const state = states[0] ?? '';
    // Looked up read-only first: an unknown state, or one for another provider, is neither locked nor consumed.
    const found = state ? await this.store.oauthConnections.findState(hashState(state)) : undefined;
    if (!found) return this.refusedState(refuse('invalid_state', 'The authorization request is unknown: start connecting again.'), from);
    if (found.provider !== provider) return this.refusedState(refuse('invalid_state', 'The authorization request was made for another provider: start connecting again.'), from);
    const consumed = found.used_at === null ? await this.store.oauthConnections.consumeState(found.state_hash, new Date().toISOString()) : undefined;
    if (!consumed?.firstUse) return this.refusedState(refuse('invalid_state', 'This authorization request was already used: start connecting again.'), from);
    const row = consumed.row;
    if (Date.parse(row.expires_at) <= Date.now()) return refuse('expired_state', 'The authorization request expired (10 minutes): start connecting again.', row.return_to);
    if (!params.has('error') && !params.get('code')) {
      return refuse('invalid_request', 'The provider sent no authorization code (code is missing from the callback): start connecting again.', row.return_to);
    }
    try {
      const c = this.oauthConnector(provider);
      const existing = await liveIntegrationFor(this.store, row.tenant_id, c.name);
      const credentials = existing ? this.cipher.open(row.tenant_id, existing.id, existing) : {};
      const endpoints = resolveEndpoints(c, { credentials, environment: existing?.environment ?? null, baseUrl: this.tokens.baseUrl(c, existing ?? null), env: this.opts.env });
      const granted = await exchangeCode(endpoints, params, redirectUri(this.publicUrl(), c.name), openVerifier(this.cipher, row));
      // userinfo_url (DocuSign): the account's host is in the user info, not the token response.
      // Tokens granted for a connect that then fails here are kept nowhere: revoked before failing.
      const userinfo = endpoints.userinfoUrl
        ? await fetchUserinfo(endpoints, granted.tokens.access_token).catch(async (err: unknown) => {
          await revokeUnused(this.logger, c, endpoints, granted.tokens, row.tenant_id);
          throw err;
        })
        : undefined;
      // The callback's own parameters beside code and state (QuickBooks realmId), as `callback`.
      const callback = Object.fromEntries([...params].filter(([k]) => !['code', 'state', 'error', 'error_description', 'error_uri', 'iss'].includes(k)));
      const connection = await mapConnection(c, { ...granted.response, ...(userinfo ? { userinfo } : {}), callback });
      const grant = { tokens: { ...granted.tokens }, connection };
      const deps = { store: this.store, cipher: this.cipher, scheduler: this.scheduler };
      // Two callbacks of one tenant racing to create its first integration of this provider (a double
      // click on connect): the second finds the one the first created and reconnects it (its tokens win).
      const result = await connectWithGrant(deps, c, row.tenant_id, grant).catch((err: unknown) => {
        if (err instanceof UniqueViolation) return connectWithGrant(deps, c, row.tenant_id, grant);
        throw err;
      });
      if (granted.tokens.expires_at) await this.tokens.scheduleRefresh(row.tenant_id, result.id, granted.tokens.expires_at);
      this.logger.info({ tenantId: row.tenant_id, integrationId: result.id, provider, reconnected: result.reconnected }, 'oauth integration connected');
      await this.audit.record(actingAs(row.tenant_id, `oauth_callback:${provider}`, from.requestId ?? ''), result.reconnected ? 'integration.reconnected' : 'integration.connected', 'integration', result.id, ['connection', 'oauth_tokens']);
      return {
        redirect: row.return_to && withParams(row.return_to, { integration_id: result.id, status: result.status }),
        provider,
        integrationId: result.id,
        status: result.status,
        tenantId: row.tenant_id,
        reconnected: result.reconnected,
      };
    } catch (err) {
      if (!(err instanceof PlugboardError) || err.kind === 'internal' || err.kind === 'config') {
        this.logger.error({ provider, err: (err as Error).message }, 'oauth callback failed');
        return refuse('server_error', 'Connecting failed on Plugboard\'s side; try again later.', row.return_to);
      }
      const description = err.errors ? `${err.message} ${Object.entries(err.errors).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')}` : err.message;
      return refuse(err.code && /^[a-z_]+$/.test(err.code) ? err.code : 'connect_failed', description, row.return_to);
    }
  }

  /** A callback whose query the API refused (a repeated state, state[]=...): a page, counted like an unknown state. */
  async malformedCallback(provider: string, from: CallbackRequest = {}): Promise<CallbackOutcome> {
    const retryAfter = await this.throttle.blocked(from.address);
    if (retryAfter) return rateLimited(provider, retryAfter);
    const description = 'The callback\'s query is malformed (a repeated or structured parameter): start connecting again.';
    this.logger.warn({ provider, code: 'invalid_request', description }, 'oauth callback refused');
    return this.refusedState({ redirect: null, provider, error: { code: 'invalid_request', description } }, from);
  }

  /** Counts a refusal without a usable state; the one past the budget is answered 429 instead. */
  private async refusedState(outcome: CallbackOutcome, from: CallbackRequest): Promise<CallbackOutcome> {
    const retryAfter = await this.throttle.refused(from.address);
    return retryAfter ? rateLimited(outcome.provider, retryAfter) : outcome;
  }

  /** The engine's token source for an OAuth integration (undefined for other auth types or when not connected). */
  tokenSourceFor(row: IntegrationRow): TokenSource | undefined {
    const c = this.connectors.get(row.provider);
    if (c?.auth.spec.type !== 'oauth2_authorization_code' || !row.oauth_tokens_sealed) return undefined;
    return new IntegrationTokenSource(this.tokens, row);
  }

  /** DELETE /integrations/{id}: revoke the provider's tokens where the manifest declares revocation_url. Never throws. */
  async revokeOnDelete(row: IntegrationRow): Promise<void> {
    await this.tokens.cancelRefresh(row.tenant_id, row.id);
    const c = this.connectors.get(row.provider);
    if (c?.auth.spec.type !== 'oauth2_authorization_code' || !row.oauth_tokens_sealed) return;
    await revokeTokens({ cipher: this.cipher, tokens: this.tokens, logger: this.logger, env: this.opts.env }, c, row);
  }
}

function rateLimited(provider: string, retryAfter: number): CallbackOutcome {
  return { redirect: null, provider, retryAfter, error: { code: 'rate_limited', description: 'Too many refused callbacks from this address: try again later.' } };
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}
