// An integration's OAuth tokens: opened from the row (sealed under its data key), refreshed ahead of
// expiry or after a provider 401. Single-flight: concurrent calls in one process share one refresh
// (a Map of promises), and across processes one lease row per integration lets one refresh at a
// time while the others wait for its result. A rotated refresh token is saved in the same write as
// the new access token; invalid_grant moves the integration to error with needs_reauth.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store, IntegrationRow } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import type { EventPublisher } from '../webhooks/events.ts';
import { EngineError, failure } from '../http/errors.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { OAUTH_TOKENS, markNeedsReauth } from '../integrations/oauth-grants.ts';
import { resolveEndpoints } from './endpoints.ts';
import { refreshGrant, TOKEN_TIMEOUT_MS, type TokenSet } from './grant.ts';
import { mapConnection } from './connection.ts';

/** A token expiring within this is refreshed before use. */
export const EXPIRY_MARGIN_MS = 60_000;
/**
 * How long one process may hold an integration's refresh lease (a crashed holder's lease expires):
 * the token request's timeout plus a wide margin for the reads before it and the save after it, so
 * a slow refresh never outlives its lease and lets a second process spend the same refresh token.
 */
const LEASE_MARGIN_MS = 30_000;
const POLL_MS = 50;
/** The only grant error that means the tenant must connect again (RFC 6749 §5.2). */
const GRANT_GONE = 'invalid_grant';
/** Errors about the OAuth client (the app's id/secret), not the tenant's grant: a configuration error. */
const CLIENT_REFUSED = new Set(['invalid_client', 'unauthorized_client']);
/** How often a refresh whose save lost a race against a credentials change retries on the newer row. */
const SAVE_ATTEMPTS = 5;

export interface RefreshScheduler {
  /** Queues the refresh-oauth-token job of an integration at `at` (one pending job per integration). */
  scheduleRefresh(tenantId: string, integrationId: string, at: Date): Promise<void>;
  /** Cancels the integration's pending refresh job (the integration is deleted). */
  cancelRefresh(tenantId: string, integrationId: string): Promise<void>;
}

export interface OAuthTokensDeps {
  store: Store;
  cipher: CredentialCipher;
  connectors: Map<string, Connector>;
  env: Record<string, string | undefined>;
  logger: Logger;
  events?: EventPublisher;
  /** The base URL a call of this integration uses (relative token URLs follow it). */
  baseUrlOf(c: Connector, row: IntegrationRow | null): string;
  refreshScheduler?: RefreshScheduler;
}

/** The refresh job runs this long before a token expires (or at half a shorter life). */
const REFRESH_AHEAD_MS = 5 * 60_000;

/** When the refresh job should run for a token expiring at `expiresAt`. */
export function refreshTimeFor(expiresAt: string, now = Date.now()): Date {
  const exp = Date.parse(expiresAt);
  const ahead = Math.min(REFRESH_AHEAD_MS, Math.max(0, (exp - now) / 2));
  return new Date(Math.max(now, exp - ahead));
}

export class OAuthTokens {
  /** This process's refreshes in flight, per integration. */
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly holder = `${process.pid}:${randomUUID()}`;

  constructor(private readonly deps: OAuthTokensDeps) {}

  /** The base URL relative OAuth endpoints follow for this integration ('' when none is known). */
  baseUrl(c: Connector, row: IntegrationRow | null): string {
    return this.deps.baseUrlOf(c, row);
  }

  open(row: IntegrationRow): TokenSet | undefined {
    if (!row.oauth_tokens_sealed) return undefined;
    return this.deps.cipher.openBeside(row.tenant_id, row.id, row, OAUTH_TOKENS, row.oauth_tokens_sealed) as TokenSet;
  }

  private usable(t: TokenSet | undefined, rejected?: string): t is TokenSet {
    return !!t && t.access_token !== rejected && (!t.expires_at || Date.parse(t.expires_at) > Date.now() + EXPIRY_MARGIN_MS);
  }

  /** A valid access token for the integration, refreshing first when it expires within the margin. */
  async accessToken(row: IntegrationRow): Promise<string> {
    const t = this.open(row);
    if (!t) throw new EngineError(failure('invalid_credentials', 'this integration is not connected: complete the connect flow first', { retryable: false }));
    if (this.usable(t)) return t.access_token;
    return this.refresh(row, undefined);
  }

  /** Refreshes (single-flight in this process and across processes) and returns the new access token. */
  refresh(row: IntegrationRow, rejected: string | undefined): Promise<string> {
    let p = this.inflight.get(row.id);
    if (!p) {
      p = this.refreshShared(row.tenant_id, row.id, rejected).finally(() => this.inflight.delete(row.id));
      this.inflight.set(row.id, p);
    }
    return p;
  }

  /** The token request's timeout (PLUGBOARD_OAUTH_TOKEN_TIMEOUT_MS, default 30 s). */
  private get timeoutMs(): number {
    const v = Number(this.deps.env['PLUGBOARD_OAUTH_TOKEN_TIMEOUT_MS']);
    return Number.isFinite(v) && v > 0 ? v : TOKEN_TIMEOUT_MS;
  }

  private async refreshShared(tenantId: string, id: string, rejected: string | undefined): Promise<string> {
    const { store } = this.deps;
    const leaseMs = this.timeoutMs + LEASE_MARGIN_MS;
    // A caller waits for another process's refresh as long as that one may hold its lease.
    const deadline = Date.now() + leaseMs + 5_000;
    while (Date.now() < deadline) {
      const row = await this.current(tenantId, id);
      const tokens = this.open(row);
      if (this.usable(tokens, rejected)) return tokens.access_token; // another process refreshed it
      const now = Date.now();
      if (await store.oauthConnections.acquireRefreshLease(tenantId, id, this.holder, now, now + leaseMs)) {
        try {
          // Read again under the lease: a refresh that finished just before it counts.
          const leased = await this.current(tenantId, id);
          const latest = this.open(leased);
          if (this.usable(latest, rejected)) return latest.access_token;
          return await this.refreshHeld(leased, latest, rejected);
        } finally {
          await store.oauthConnections.releaseRefreshLease(id, this.holder);
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new EngineError(failure('timeout', 'another process is refreshing this integration\'s token and has not finished'));
  }

  private async current(tenantId: string, id: string): Promise<IntegrationRow> {
    const row = await this.deps.store.integrations.get(tenantId, id);
    if (!row) throw new EngineError(failure('invalid_credentials', 'the integration no longer exists', { retryable: false }));
    if (row.status === 'error' && row.system_metadata['needs_reauth'] === true) {
      throw new EngineError(failure('invalid_credentials', `the integration must be connected again: ${String(row.system_metadata['reauth_reason'] ?? 'the provider refused the grant')}`, { retryable: false }));
    }
    return row;
  }

  /** The refresh request itself, under the lease. */
  private async refreshHeld(row: IntegrationRow, tokens: TokenSet | undefined, rejected: string | undefined): Promise<string> {
    const c = this.deps.connectors.get(row.provider);
    if (!c) throw new EngineError(failure('unsupported', `provider ${row.provider} is not installed`, { retryable: false }));
    if (!tokens?.refresh_token) {
      if (!(await this.needsReauth(c, row, 'the access token expired and the provider gave no refresh token: connect the integration again'))) return this.newerToken(row, rejected);
      throw new EngineError(failure('invalid_credentials', 'the access token expired and there is no refresh token: connect the integration again', { retryable: false }));
    }
    const credentials = this.deps.cipher.open(row.tenant_id, row.id, row);
    const endpoints = resolveEndpoints(c, { credentials, environment: row.environment, connection: row.connection, baseUrl: this.baseUrl(c, row), env: this.deps.env });
    let granted;
    try {
      granted = await refreshGrant(endpoints, tokens.refresh_token, { accessToken: tokens.access_token, timeoutMs: this.timeoutMs });
    } catch (err) {
      const e = err as PlugboardError;
      if (e.code === GRANT_GONE) {
        // A reconnect (or another refresh) that saved newer tokens meanwhile made this refresh token
        // stale: the refusal is about it, not about the integration.
        if (!(await this.needsReauth(c, row, `the provider refused the refresh token (${e.code}): connect the integration again`))) return this.newerToken(row, rejected);
        throw new EngineError(failure('invalid_credentials', e.message, { provider_code: e.code, retryable: false }));
      }
      if (CLIENT_REFUSED.has(e.code ?? '')) {
        // The OAuth app's id/secret is wrong or rotated: every tenant's refresh fails alike, and
        // fixing the configuration fixes them all, so no integration is marked needs_reauth.
        this.deps.logger.error({ provider: row.provider, code: e.code }, 'the provider refused the OAuth client: check its client id and secret');
        throw new EngineError(failure('invalid_credentials', `${e.message}; the provider refused the OAuth client itself: ${clientSettingsOf(c)}`, { provider_code: e.code, retryable: false }));
      }
      const type = e.code === 'timeout' ? 'timeout' : e.code === 'network_error' ? 'network_error' : 'provider_error';
      throw new EngineError(failure(type, e.message, { provider_code: e.code }));
    }
    const rotated = !!granted.tokens.refresh_token && granted.tokens.refresh_token !== tokens.refresh_token;
    // A provider that rotates refresh tokens sends a new one: kept in the same write. A response
    // without refresh_token or scope keeps the ones held (RFC 6749 §6: scope unchanged when omitted).
    const next: TokenSet = {
      ...granted.tokens,
      refresh_token: granted.tokens.refresh_token ?? tokens.refresh_token,
      ...(granted.tokens.scope ?? tokens.scope ? { scope: granted.tokens.scope ?? tokens.scope } : {}),
    };
    const mapped = c.auth.connection ? await mapConnection(c, granted.response) : undefined;
    let target = row;
    for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
      const saved = await this.deps.store.oauthConnections.saveTokens(target.tenant_id, target.id, target.token_version ?? 0, {
        oauth_tokens_sealed: this.deps.cipher.sealBeside(target.tenant_id, target.id, target, OAUTH_TOKENS, next),
        token_expires_at: next.expires_at ?? null,
        ...(mapped ? { connection: { ...target.connection, ...mapped } } : {}),
      });
      this.deps.logger.info({ tenantId: row.tenant_id, integrationId: row.id, provider: row.provider, saved, rotated }, 'oauth token refreshed');
      if (saved) {
        if (next.expires_at) await this.scheduleRefresh(row.tenant_id, row.id, next.expires_at);
        return next.access_token;
      }
      // The row moved on while the provider answered. Still the refresh token this refresh spent
      // (credentials changed: the same tokens re-sealed under a new data key): save on the newer
      // row, else the refresh token is already spent. Otherwise a reconnect or another refresh
      // saved newer tokens: they win.
      const latest = await this.current(row.tenant_id, row.id);
      if (this.open(latest)?.refresh_token !== tokens.refresh_token) return this.newerToken(row, rejected);
      target = latest;
    }
    throw new EngineError(failure('timeout', 'the integration kept changing while its refreshed token was saved: try again'));
  }

  /** After a lost race: the token a reconnect or another refresh saved (not the one the provider rejected). */
  private async newerToken(row: IntegrationRow, rejected: string | undefined): Promise<string> {
    const latest = this.open(await this.current(row.tenant_id, row.id));
    if (!latest || latest.access_token === rejected) {
      throw new EngineError(failure('invalid_credentials', 'the integration\'s tokens changed while they were refreshed: try again', { retryable: true }));
    }
    return latest.access_token;
  }

  async scheduleRefresh(tenantId: string, id: string, expiresAt: string): Promise<void> {
    await this.deps.refreshScheduler?.scheduleRefresh(tenantId, id, refreshTimeFor(expiresAt)).catch((err: Error) =>
      this.deps.logger.warn({ integrationId: id, err: err.message }, 'cannot schedule the oauth token refresh'));
  }

  async cancelRefresh(tenantId: string, id: string): Promise<void> {
    await this.deps.refreshScheduler?.cancelRefresh(tenantId, id).catch((err: Error) =>
      this.deps.logger.warn({ integrationId: id, err: err.message }, 'cannot cancel the oauth token refresh job'));
  }

  /** False when the row's tokens changed since `row` was read (nothing marked). */
  private needsReauth(c: Connector, row: IntegrationRow, reason: string): Promise<boolean> {
    return markNeedsReauth({ store: this.deps.store, events: this.deps.events, logger: this.deps.logger, category: c.category }, row, reason);
  }

  /**
   * The refresh-oauth-token job: refresh when the token expires soon. Answers the expiry of the
   * token it leaves, from which the job queues its next run (none when there is nothing to refresh).
   */
  async refreshIfDue(tenantId: string, id: string): Promise<{ outcome: 'refreshed' | 'not_due' | 'skipped' | 'failed'; expiresAt?: string }> {
    const row = await this.deps.store.integrations.get(tenantId, id);
    if (!row || row.status === 'inactive' || (row.status === 'error' && row.system_metadata['needs_reauth'] === true)) return { outcome: 'skipped' };
    const tokens = this.open(row);
    if (!tokens?.expires_at || !tokens.refresh_token) return { outcome: 'skipped' };
    if (Date.parse(tokens.expires_at) - Date.now() > REFRESH_AHEAD_MS + 5_000) return { outcome: 'not_due', expiresAt: tokens.expires_at };
    try {
      await this.refresh(row, tokens.access_token);
      const after = await this.deps.store.integrations.get(tenantId, id);
      return { outcome: 'refreshed', expiresAt: after?.token_expires_at ?? undefined };
    } catch (err) {
      this.deps.logger.warn({ tenantId, integrationId: id, err: (err as Error).message }, 'scheduled oauth token refresh failed');
      const failed = err as EngineError;
      // A refused OAuth client is fixed by the operator: the job keeps trying, as for a transient error.
      const retry = failed.failure?.retryable || CLIENT_REFUSED.has(String(failed.failure?.provider_code ?? ''));
      return retry ? { outcome: 'failed', expiresAt: tokens.expires_at } : { outcome: 'failed' };
    }
  }
}

/** Where the OAuth client's id and secret come from, for the error an operator (or tenant) must fix. */
function clientSettingsOf(c: Connector): string {
  const spec = c.auth.spec as { client_id?: string; client_secret?: string };
  const fromApp = /\bapp\./.test(`${spec.client_id ?? ''} ${spec.client_secret ?? ''}`);
  const p = c.name.toUpperCase();
  return fromApp
    ? `the operator must check PLUGBOARD_OAUTH_${p}_CLIENT_ID and PLUGBOARD_OAUTH_${p}_CLIENT_SECRET (the app registered with the provider)`
    : 'check the client_id and client_secret in the integration\'s credentials (the tenant\'s own OAuth app)';
}
