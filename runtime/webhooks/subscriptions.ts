// Outbound webhook subscriptions (and REST hooks for Zapier, Make, n8n): URL policy, event
// patterns, secrets sealed at rest, rotation with a 24 h overlap.
import type { Store, WebhookSubscriptionRow } from '../store/types.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import { OpenedCache } from '../crypto/opened-cache.ts';
import { newId } from '../store/ids.ts';
import { invalid, notFound } from '../errors/plugboard-error.ts';
import { checkWebhookUrl, type UrlPolicy, type Resolver } from './url-policy.ts';
import { validateEventPatterns } from './catalog.ts';
import { generateSecret, signingSecrets, ROTATION_OVERLAP_MS } from './signing.ts';
import { changedFieldNames, type AuditContext, type AuditLog } from '../access/audit.ts';

interface SealedSecrets {
  current: string;
  previous?: string;
}

/** How long opened secrets are kept in memory, and for how many subscriptions at most. */

export interface SubscriptionInput {
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean;
}

export class SubscriptionService {
  constructor(
    private readonly store: Store,
    private readonly cipher: CredentialCipher,
    private readonly policy: () => UrlPolicy,
    private readonly audit: AuditLog,
    private readonly resolver?: Resolver,
  ) {}

  /** Opened secrets per subscription (valid for the sealed bytes they were opened from: a rotation seals anew). */
  private readonly opened = new OpenedCache<SealedSecrets>(60_000, 1000);

  view(row: WebhookSubscriptionRow) {
    return {
      id: row.id,
      url: row.url,
      events: row.events,
      description: row.description,
      enabled: row.enabled,
      disabled_reason: row.disabled_reason,
      failing_since: row.failing_since,
      secret_rotation_ends_at: row.previous_secret_expires_at && Date.parse(row.previous_secret_expires_at) > Date.now() ? row.previous_secret_expires_at : null,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private async checkUrl(url: string, field = 'url'): Promise<string> {
    const r = await checkWebhookUrl(url, { policy: this.policy(), resolver: this.resolver });
    if (!r.ok) throw invalid(field === 'url' ? r.errors : { [field]: r.errors['url'] ?? [r.message] }, r.message);
    return r.url.toString();
  }

  private checkEvents(events: unknown, field = 'events'): void {
    const errors = validateEventPatterns(events, field);
    if (Object.keys(errors).length) throw invalid(errors);
  }

  private seal(tenantId: string, id: string, secrets: SealedSecrets) {
    const s = this.cipher.seal(tenantId, id, secrets as unknown as Record<string, unknown>);
    return { secret_sealed: s.credentials_sealed, data_key_wrapped: s.data_key_wrapped, master_key_id: s.master_key_id };
  }

  /** The secrets that sign a delivery now: the current one, and the previous one during rotation. */
  signingSecrets(row: WebhookSubscriptionRow): string[] {
    const s = this.opened.get(`${row.tenant_id}:${row.id}`, row.secret_sealed, '', () =>
      this.cipher.open(row.tenant_id, row.id, { credentials_sealed: row.secret_sealed, data_key_wrapped: row.data_key_wrapped, master_key_id: row.master_key_id }) as unknown as SealedSecrets);
    return signingSecrets(s.current, s.previous ? { secret: s.previous, expires_at: row.previous_secret_expires_at } : null);
  }

  // Changes are audited here, after they are made (AuditLog.record never throws). A REST hook is
  // audited under its own names (rest_hook.*, fields as the REST-hook body names them).
  async create(ctx: AuditContext, input: SubscriptionInput, kind: WebhookSubscriptionRow['kind'] = 'subscription', urlField = 'url', eventsField = 'events'): Promise<{ row: WebhookSubscriptionRow; secret: string }> {
    const tenantId = ctx.principal.tenantId;
    const url = await this.checkUrl(input.url, urlField);
    this.checkEvents(input.events, eventsField);
    const id = newId();
    const secret = generateSecret();
    const now = new Date().toISOString();
    const row: WebhookSubscriptionRow = {
      id, tenant_id: tenantId, kind, url, events: input.events, description: input.description ?? null, enabled: input.enabled ?? true,
      ...this.seal(tenantId, id, { current: secret }),
      previous_secret_expires_at: null, failing_since: null, disabled_reason: null, created_at: now, updated_at: now, deleted_at: null,
    };
    await this.store.webhookSubscriptions.create(row);
    if (kind === 'rest_hook') await this.audit.record(ctx, 'rest_hook.created', 'webhook_subscription', id, [urlField, eventsField]);
    else await this.audit.record(ctx, 'webhook_subscription.created', 'webhook_subscription', id, changedFieldNames(input, '', 1));
    return { row, secret };
  }

  async get(tenantId: string, id: string, kind?: WebhookSubscriptionRow['kind']): Promise<WebhookSubscriptionRow> {
    const row = await this.store.webhookSubscriptions.get(tenantId, id);
    if (!row || (kind && row.kind !== kind)) throw notFound('Webhook subscription');
    return row;
  }

  async update(ctx: AuditContext, id: string, patch: Partial<SubscriptionInput>): Promise<WebhookSubscriptionRow> {
    const tenantId = ctx.principal.tenantId;
    await this.get(tenantId, id, 'subscription');
    const p: Partial<WebhookSubscriptionRow> = { updated_at: new Date().toISOString() };
    if (patch.url !== undefined) p.url = await this.checkUrl(patch.url);
    if (patch.events !== undefined) {
      this.checkEvents(patch.events);
      p.events = patch.events;
    }
    if (patch.description !== undefined) p.description = patch.description;
    if (patch.enabled !== undefined) {
      p.enabled = patch.enabled;
      if (patch.enabled) Object.assign(p, { failing_since: null, disabled_reason: null });
    }
    const row = (await this.store.webhookSubscriptions.update(tenantId, id, p))!;
    if (patch.enabled === false) await this.store.webhookDeliveries.cancelPending(tenantId, id);
    await this.audit.record(ctx, 'webhook_subscription.updated', 'webhook_subscription', id, changedFieldNames(patch, '', 1));
    return row;
  }

  async remove(ctx: AuditContext, id: string, kind: WebhookSubscriptionRow['kind'] = 'subscription'): Promise<void> {
    const tenantId = ctx.principal.tenantId;
    await this.get(tenantId, id, kind);
    const now = new Date().toISOString();
    await this.store.webhookSubscriptions.update(tenantId, id, { deleted_at: now, enabled: false, updated_at: now });
    await this.store.webhookDeliveries.cancelPending(tenantId, id);
    await this.audit.record(ctx, kind === 'rest_hook' ? 'rest_hook.deleted' : 'webhook_subscription.deleted', 'webhook_subscription', id);
  }

  /** New secret now; the old one keeps signing (second v1 signature) for 24 hours. */
  async rotateSecret(ctx: AuditContext, id: string): Promise<{ row: WebhookSubscriptionRow; secret: string }> {
    const tenantId = ctx.principal.tenantId;
    const row = await this.get(tenantId, id, 'subscription');
    const current = (this.cipher.open(tenantId, id, { credentials_sealed: row.secret_sealed, data_key_wrapped: row.data_key_wrapped, master_key_id: row.master_key_id }) as unknown as SealedSecrets).current;
    const secret = generateSecret();
    const updated = (await this.store.webhookSubscriptions.update(tenantId, id, {
      ...this.seal(tenantId, id, { current: secret, previous: current }),
      previous_secret_expires_at: new Date(Date.now() + ROTATION_OVERLAP_MS).toISOString(),
      updated_at: new Date().toISOString(),
    }))!;
    this.opened.delete(`${tenantId}:${id}`);
    await this.audit.record(ctx, 'webhook_subscription.secret_rotated', 'webhook_subscription', id, ['secret']);
    return { row: updated, secret };
  }
}
