// The rules behind the API-access routes: API keys, OAuth clients and the audit log of a tenant.
// Handlers translate HTTP to these calls; every change is audited here, never by the handler.
import type { Store } from '../store/types.ts';
import type { ListQuery } from '../store/types.ts';
import { invalid, notFound } from '../errors/plugboard-error.ts';
import { createApiKey, apiKeyView, type Scope } from './api-keys.ts';
import { oauthClientView, type OAuthService } from './oauth.ts';
import type { AuditContext, AuditLog } from './audit.ts';

export interface AuditQuery extends ListQuery {
  action?: string;
  target_type?: string;
  target_id?: string;
  actor?: string;
  from?: Date;
  to?: Date;
}

export class AccessService {
  constructor(
    private readonly store: Store,
    private readonly oauth: OAuthService,
    private readonly audit: AuditLog,
  ) {}

  async listApiKeys(tenantId: string, page: ListQuery) {
    const r = await this.store.apiKeys.list(tenantId, page);
    return { items: r.items.map(apiKeyView), total: r.total };
  }

  /** The key itself is returned once, here, and never stored (only its hash). */
  async createApiKey(ctx: AuditContext, input: { name: string; scopes: Scope[]; expiresAt?: Date }) {
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw invalid({ expires_at: ['must be in the future'] });
    const { row, key } = await createApiKey(this.store, ctx.principal.tenantId, { name: input.name, scopes: input.scopes, expiresAt: input.expiresAt?.toISOString() ?? null });
    await this.audit.record(ctx, 'api_key.created', 'api_key', row.id, ['name', 'scopes', ...(input.expiresAt ? ['expires_at'] : [])]);
    return { ...apiKeyView(row), key };
  }

  async revokeApiKey(ctx: AuditContext, id: string): Promise<void> {
    if (!(await this.store.apiKeys.revoke(ctx.principal.tenantId, id, new Date().toISOString()))) throw notFound('API key');
    await this.audit.record(ctx, 'api_key.revoked', 'api_key', id);
  }

  async listOAuthClients(tenantId: string, page: ListQuery) {
    const r = await this.store.oauthClients.list(tenantId, page);
    return { items: r.items.map(oauthClientView), total: r.total };
  }

  /** The client secret is returned once, here, and stored only hashed. */
  async createOAuthClient(ctx: AuditContext, input: { name: string; scopes: Scope[] }) {
    const { row, secret } = await this.oauth.createClient(ctx.principal.tenantId, input.name, input.scopes);
    await this.audit.record(ctx, 'oauth_client.created', 'oauth_client', row.id, ['name', 'scopes']);
    return { ...oauthClientView(row), client_secret: secret };
  }

  async revokeOAuthClient(ctx: AuditContext, id: string): Promise<void> {
    if (!(await this.store.oauthClients.revoke(ctx.principal.tenantId, id, new Date().toISOString()))) throw notFound('OAuth client');
    await this.audit.record(ctx, 'oauth_client.revoked', 'oauth_client', id);
  }

  /**
   * RFC 7009: a client revokes its own tokens, an admin key the tenant's. Answered 200 either way
   * (the caller learns nothing about other tokens); audited only when a token was revoked.
   */
  async revokeToken(ctx: AuditContext, token: string, clientId: string | undefined): Promise<void> {
    if (await this.oauth.revokeToken({ tenantId: ctx.principal.tenantId, clientId }, token)) {
      await this.audit.record(ctx, 'oauth_token.revoked', 'oauth_token', null);
    }
  }

  async auditLog(tenantId: string, q: AuditQuery) {
    // Timestamps are stored as UTC ISO strings: normalise offsets before comparing.
    const r = await this.store.audit.list(tenantId, { ...q, from: q.from?.toISOString(), to: q.to?.toISOString() });
    return { items: r.items.map(({ tenant_id: _t, ...e }) => e), total: r.total };
  }
}
