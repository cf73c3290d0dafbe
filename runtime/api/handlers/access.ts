import type { Response } from 'express';
import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';
import type { Scope } from '../../access/api-keys.ts';
import { OAuthError } from '../../access/oauth.ts';
import type { UsageGroup } from '../../access/usage.ts';
import { clientCredentials } from '../authentication.ts';
import { invalid } from '../../errors/plugboard-error.ts';
import { dateParam } from '../request-input.ts';

/** An OAuthError in RFC 6749 §5.2 form, with Retry-After when it is a throttle (429). */
export function oauthErrorResponse(res: Response, err: OAuthError, basic: boolean) {
  if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(err.retryAfter));
  return oauthTokenError(res, err.error, err.description, err.status, basic);
}

/** RFC 6749 §5.2 error body (not the API envelope: OAuth client libraries parse this shape). */
export function oauthTokenError(res: Response, error: string, description: string, status = 400, basic = false) {
  res.setHeader('Cache-Control', 'no-store');
  if (status === 401 && basic) res.setHeader('WWW-Authenticate', 'Basic realm="plugboard"');
  return res.status(status).json({ error, error_description: description });
}

export const accessHandlers: Record<string, ApiHandler> = {
  async listApiKeys(_c, h, req, res) {
    const page = h.page();
    const r = await h.platform.access.listApiKeys(h.tenantId, page);
    res.json(listPage(r.items, r.total, page, req.originalUrl));
  },
  async createApiKey(c, h, _req, res) {
    const body = c.request.requestBody as { name: string; scopes: Scope[]; expires_at?: string };
    const created = await h.platform.access.createApiKey(h, { name: body.name, scopes: body.scopes, expiresAt: dateParam(body, 'expires_at') });
    res.status(201).json(ok(created, 'API key created. Store the key now: it is not shown again.'));
  },
  async deleteApiKey(c, h, _req, res) {
    await h.platform.access.revokeApiKey(h, c.request.params['id'] as string);
    res.json(ok(null, 'API key revoked.'));
  },
  async listOAuthClients(_c, h, req, res) {
    const page = h.page();
    const r = await h.platform.access.listOAuthClients(h.tenantId, page);
    res.json(listPage(r.items, r.total, page, req.originalUrl));
  },
  async createOAuthClient(c, h, _req, res) {
    const body = c.request.requestBody as { name: string; scopes: Scope[] };
    const created = await h.platform.access.createOAuthClient(h, body);
    res.status(201).json(ok(created, 'OAuth client created. Store the secret now: it is not shown again.'));
  },
  async deleteOAuthClient(c, h, _req, res) {
    await h.platform.access.revokeOAuthClient(h, c.request.params['id'] as string);
    res.json(ok(null, 'OAuth client revoked; its tokens no longer work.'));
  },
  async oauthToken(_c, h, req, res) {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const client = clientCredentials(req);
    if (client?.both) return oauthTokenError(res, 'invalid_request', 'use one client authentication method, not both');
    if (body['grant_type'] === undefined) return oauthTokenError(res, 'invalid_request', 'grant_type is required');
    if (body['grant_type'] !== 'client_credentials') return oauthTokenError(res, 'unsupported_grant_type', 'only client_credentials is supported');
    try {
      const token = await h.platform.oauth.issueToken(client?.id, client?.secret, body['scope'], req.ip);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      res.json(token);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return oauthErrorResponse(res, err, !!client?.basic);
    }
  },
  /** RFC 7009. Authenticated as the client itself (its own tokens) or with an admin key (the tenant's tokens). */
  async oauthRevoke(_c, h, req, res) {
    const token = String((req.body as Record<string, unknown>)?.['token'] ?? '');
    await h.platform.access.revokeToken(h, token, req.authenticatedClient);
    res.status(200).json(ok(null, 'Token revoked.'));
  },
  async getUsage(c, h, _req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const to = dateParam(q, 'to') ?? new Date();
    const from = dateParam(q, 'from') ?? new Date(to.getTime() - 24 * 3600_000);
    if (from >= to) throw invalid({ from: ['must be before to'] });
    res.json(ok(await h.platform.usage.report(h.tenantId, from, to, (q['group_by'] ?? 'route') as UsageGroup)));
  },
  async listAuditLog(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const r = await h.platform.access.auditLog(h.tenantId, { ...page, action: q['action'], target_type: q['target_type'], target_id: q['target_id'], actor: q['actor'], from: dateParam(q, 'from'), to: dateParam(q, 'to') });
    res.json(listPage(r.items, r.total, page, req.originalUrl));
  },
};
