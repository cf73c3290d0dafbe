// OAuth 2.0 client credentials grant (RFC 6749 §4.4) against a provider's token endpoint,
// with tokens cached until shortly before they expire.
import { createHash } from 'node:crypto';
import { TransportError, type HttpTransport, type HttpResponse } from '../http/transport.ts';
import { EngineError, failure } from '../http/errors.ts';

export interface ClientCredentialsConfig {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  audience?: string;
  clientAuth: 'basic' | 'body';
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const EXPIRY_MARGIN_MS = 60_000;
const REFUSED_CLIENT_CODES = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_scope']);

export class OAuthClientCredentialsCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  clear(): void {
    this.tokens.clear();
  }

  /** Drops `token` from the cache of `key` (the provider rejected it), so the next call fetches a new one. */
  forget(key: string, token: string): void {
    for (const [k, t] of this.tokens) if (k.startsWith(`${key}:`) && t.token === token) this.tokens.delete(k);
  }

  async token(cfg: ClientCredentialsConfig, key: string, transport: HttpTransport, timeoutMs: number): Promise<string> {
    // Key on a hash of the client secret too: new credentials must never reuse an old token.
    const cacheKey = `${key}:${createHash('sha256').update(`${cfg.clientId}\0${cfg.clientSecret}\0${cfg.tokenUrl}`).digest('hex')}`;
    const hit = this.tokens.get(cacheKey);
    if (hit && hit.expiresAt > Date.now() + EXPIRY_MARGIN_MS) return hit.token;
    let p = this.pending.get(cacheKey);
    if (!p) {
      p = this.fetch(cfg, transport, timeoutMs).finally(() => this.pending.delete(cacheKey));
      this.pending.set(cacheKey, p);
    }
    const t = await p;
    this.tokens.set(cacheKey, t);
    return t.token;
  }

  private async fetch(cfg: ClientCredentialsConfig, transport: HttpTransport, timeoutMs: number): Promise<CachedToken> {
    if (!cfg.tokenUrl || !cfg.clientId || !cfg.clientSecret) {
      throw new EngineError(failure('invalid_credentials', 'client credentials are incomplete: token_url, client_id and client_secret are required', { retryable: false }));
    }
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (cfg.scopes.length) form.set('scope', cfg.scopes.join(' '));
    if (cfg.audience) form.set('audience', cfg.audience);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (cfg.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: client id and secret are form-encoded before Basic encoding.
      const user = encodeURIComponent(cfg.clientId);
      const pass = encodeURIComponent(cfg.clientSecret);
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    } else {
      form.set('client_id', cfg.clientId);
      form.set('client_secret', cfg.clientSecret);
    }
    let res: HttpResponse;
    try {
      res = await transport.send({ method: 'POST', url: cfg.tokenUrl, headers, body: form.toString(), timeoutMs });
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      throw new EngineError(err.reason === 'timeout'
        ? failure('timeout', `the token endpoint did not answer: ${err.message}`)
        : failure('network_error', `cannot reach the token endpoint: ${err.message}`));
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    if (res.status !== 200 || typeof body['access_token'] !== 'string') {
      const reason = typeof body['error'] === 'string' ? `${body['error']}${body['error_description'] ? `: ${body['error_description']}` : ''}` : `HTTP ${res.status}`;
      const code = typeof body['error'] === 'string' ? body['error'] : undefined;
      // RFC 6749 §5.2: a refused client (401, or invalid_client / unauthorized_client / invalid_grant /
      // invalid_scope) means the credentials are wrong, not that the provider failed.
      const refused = res.status === 401 || res.status === 403 || (res.status === 400 && REFUSED_CLIENT_CODES.has(code ?? ''));
      throw new EngineError(
        failure(refused ? 'invalid_credentials' : 'provider_error', `${refused ? 'token endpoint refused the client credentials' : 'token endpoint failed'} (${reason})`, {
          status: res.status,
          provider_code: code,
          retryable: !refused && (res.status >= 500 || res.status === 429),
        }),
      );
    }
    const expiresIn = typeof body['expires_in'] === 'number' ? body['expires_in'] : 3600;
    return { token: body['access_token'] as string, expiresAt: Date.now() + expiresIn * 1000 };
  }
}
