// The OpenAPI security schemes: API keys and access tokens (bearerAuth, apiKeyHeader), an OAuth
// client's own credentials where an operation accepts them (oauthClient: token revocation), the
// per-tenant and per-credential rate limits, and the answer when none of them lets a request in.
import type { Request, Response } from 'express';
import type { Context, Handler, OpenAPIBackend } from 'openapi-backend';
import type { Platform } from '../platform/platform.ts';
import type { Principal, Scope } from '../access/api-keys.ts';
import { OAuthError } from '../access/oauth.ts';
import { authenticatePresented, clientCredentials, hasScope, presentedKey } from './authentication.ts';
import { oauthErrorResponse } from './handlers/access.ts';
import { fail } from './envelope.ts';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    authFailure?: 'unauthenticated' | 'forbidden' | 'rate_limited' | 'throttled';
    requiredScope?: Scope;
    retryAfter?: number;
    authCheck?: Promise<boolean>;
    /** The OAuth client (row id) that authenticated with its own id and secret. */
    authenticatedClient?: string;
    /** Why the client's own credentials were refused. */
    clientAuthError?: OAuthError;
  }
}

export function registerSecurity(api: OpenAPIBackend, platform: Platform, fixedPrincipal: Principal | undefined, onMatch: (c: Context, req: Request) => void): void {
  // openapi-backend runs the handlers of alternative schemes concurrently: authenticate (and count
  // against the rate limit) once per request.
  const keyOrToken = (c: Context, req: Request, res: Response) => {
    onMatch(c, req);
    return (req.authCheck ??= checkAccess(c, req, res));
  };
  const checkAccess = async (c: Context, req: Request, res: Response): Promise<boolean> => {
    const presented = presentedKey(req);
    let principal = fixedPrincipal;
    if (!principal && presented) {
      const r = await authenticatePresented(platform, presented, req.ip);
      if (r.retryAfter !== undefined) {
        req.authFailure = 'throttled';
        req.retryAfter = r.retryAfter;
        return false;
      }
      principal = r.principal;
    }
    if (!principal) {
      req.authFailure = 'unauthenticated';
      return false;
    }
    if (!(await withinRateLimit(principal, res, req))) return false;
    if (principal.kind === 'api_key') platform.lastUsed.used(principal.credentialId);
    const scope = (c.operation as Record<string, any>)['x-required-scope'] as Scope;
    req.requiredScope = scope;
    req.principal = principal;
    if (!hasScope(principal, scope)) {
      req.authFailure = 'forbidden';
      return false;
    }
    return true;
  };

  /** Budgets count every authenticated request, allowed or not, before any other work. */
  const withinRateLimit = async (principal: Principal, res: Response, req: Request): Promise<boolean> => {
    const decision = await platform.rateLimiter.consume(principal.tenantId, principal.credentialId);
    res.setHeader('X-RateLimit-Limit', String(decision.limit));
    res.setHeader('X-RateLimit-Remaining', String(decision.remaining));
    res.setHeader('X-RateLimit-Reset', String(decision.resetSeconds));
    if (decision.allowed) return true;
    req.authFailure = 'rate_limited';
    req.retryAfter = decision.retryAfterSeconds;
    return false;
  };

  /** An OAuth client by its own id and secret (HTTP Basic or in the form), throttled like the token endpoint. */
  const oauthClient = async (c: Context, req: Request, res: Response): Promise<boolean> => {
    onMatch(c, req);
    const creds = clientCredentials(req);
    if (!creds) return false;
    try {
      if (creds.both) throw new OAuthError('invalid_request', 'use one client authentication method, not both');
      const client = await platform.oauth.authenticateClient(creds.id, creds.secret, req.ip);
      const principal: Principal = { tenantId: client.tenant_id, scopes: [], actor: `client:${client.id}`, kind: 'oauth_client', credentialId: client.id };
      if (!(await withinRateLimit(principal, res, req))) return false;
      req.principal = principal;
      req.authenticatedClient = client.id;
      return true;
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      req.clientAuthError = err;
      return false;
    }
  };

  api.registerSecurityHandler('bearerAuth', keyOrToken as Handler);
  api.registerSecurityHandler('apiKeyHeader', keyOrToken as Handler);
  api.registerSecurityHandler('oauthClient', oauthClient as Handler);
  api.register('unauthorizedHandler', ((c: Context, req: Request, res: Response) => {
    onMatch(c, req);
    if (req.clientAuthError && req.authFailure !== 'rate_limited') return oauthErrorResponse(res, req.clientAuthError, clientCredentials(req)?.basic ?? false);
    if (req.authFailure === 'rate_limited' || req.authFailure === 'throttled') {
      const wait = req.retryAfter ?? 1;
      res.setHeader('Retry-After', String(wait));
      const message = req.authFailure === 'throttled' ? `Too many failed authentications from this address; retry in ${wait} s.` : `Rate limit exceeded; retry in ${wait} s.`;
      return res.status(429).json(fail(message, undefined, req.authFailure === 'throttled' ? 'auth_throttled' : 'rate_limited'));
    }
    if (req.authFailure === 'forbidden') {
      return res.status(403).json(fail(`This API key lacks the "${req.requiredScope}" scope.`, undefined, 'insufficient_scope'));
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="plugboard"');
    return res.status(401).json(fail('Missing or invalid API key.', undefined, 'unauthenticated'));
  }) as Handler);
}
