// Tenant integrations: lifecycle (pending_verify -> active | error, inactive), encrypted
// credentials, masking, and verification through the manifest's verify request.
import type { Logger } from 'pino';
import type { Store, IntegrationRow, IntegrationStatus } from '../store/types.ts';
import { UniqueViolation } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { CredentialCipher } from '../crypto/envelope.ts';
import type { Engine } from '../engine/engine.ts';
import { credentialErrors } from '../manifest/ajv.ts';
import { failure } from '../http/errors.ts';
import { newId } from '../store/ids.ts';
import { PlugboardError, notFound, invalid, conflict } from '../errors/plugboard-error.ts';
import type { EventPublisher } from '../webhooks/events.ts';
import { checkTenantMetadata, checkMetadataSize, checkEnvironment, mergedMetadata, withoutVerification } from './metadata.ts';
import { listProviders } from './providers.ts';
import { credentialsSet } from './credentials-set.ts';
import { checkProviderHosts } from './provider-hosts.ts';
import type { TokenSource } from '../auth/token-source.ts';
import { OAUTH_TOKENS } from './oauth-grants.ts';
import { changedFieldNames, type AuditContext, type AuditLog } from '../access/audit.ts';

export interface VerificationScheduler {
  /** Queues the verify-integration job (durably) for this credentials version. */
  scheduleVerification(tenantId: string, integrationId: string, credentialsVersion: number): Promise<void>;
}

/** What runtime/oauth offers integrations (injected by the platform: services do not import each other in a cycle). */
export interface OAuthHooks {
  /** The engine's token source for a connected OAuth integration. */
  tokenSourceFor(row: IntegrationRow): TokenSource | undefined;
  /** On delete: cancels the pending token refresh job and revokes the provider's tokens (revocation_url); never throws. */
  revokeOnDelete(row: IntegrationRow): Promise<void>;
  /** GET /providers oauth_app_configured (null for providers without OAuth). */
  appConfigured(c: Connector): boolean | null;
}

export interface IntegrationView {
  id: string;
  provider: string;
  display_name: string;
  category: string;
  status: IntegrationStatus;
  enabled_capabilities: string[];
  environment: string | null;
  credentials: Record<string, unknown>;
  /** Names of the credential fields that hold a value (sensitive ones included), never the values. */
  credentials_set: string[];
  metadata: Record<string, unknown>;
  /** OAuth: what the token response named (instance_url, api_domain...): not secret. */
  connection?: Record<string, unknown>;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface CreateIntegrationInput {
  provider: string;
  credentials: Record<string, unknown>;
  enabled_capabilities?: string[];
  metadata?: Record<string, unknown>;
  environment?: string | null;
}

export interface UpdateIntegrationInput {
  credentials?: Record<string, unknown>;
  enabled_capabilities?: string[];
  metadata?: Record<string, unknown>;
  environment?: string | null;
}

export const DUPLICATE_MESSAGE = 'An integration for this provider already exists.';

export class IntegrationService {
  private oauth?: OAuthHooks;

  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly cipher: CredentialCipher,
    private readonly engine: Engine,
    private readonly scheduler: VerificationScheduler,
    private readonly logger: Logger,
    private readonly audit: AuditLog,
    private readonly events?: EventPublisher,
  ) {}

  useOAuth(hooks: OAuthHooks): void {
    this.oauth = hooks;
  }

  /** The provider catalogue for a tenant (GET /providers). */
  providers(tenantId: string, category?: string) {
    return listProviders(this.store, this.connectors, tenantId, category, (c) => this.oauth?.appConfigured(c) ?? null);
  }

  /** What the engine needs besides credentials for an OAuth integration: its token source and connection. */
  oauthRunOptions(row: IntegrationRow): { tokenSource?: TokenSource; connection?: Record<string, unknown> } {
    const tokenSource = this.oauth?.tokenSourceFor(row);
    return tokenSource ? { tokenSource, connection: row.connection ?? {} } : {};
  }

  connector(provider: string): Connector | undefined {
    return this.connectors.get(provider);
  }

  view(row: IntegrationRow): IntegrationView {
    const c = this.connectors.get(row.provider);
    // Every declared field appears; sensitive ones are always null.
    const credentials: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(c?.credentialSchema ?? {})) credentials[name] = f.sensitive ? null : (row.credentials_public[name] ?? null);
    return {
      id: row.id,
      provider: row.provider,
      display_name: c?.displayName ?? row.provider,
      category: c?.category ?? 'unknown',
      status: row.status,
      enabled_capabilities: row.enabled_capabilities,
      environment: row.environment,
      credentials,
      credentials_set: credentialsSet(c, row, () => this.openCredentials(row)),
      metadata: mergedMetadata(row.metadata, row.system_metadata),
      ...(c?.auth.spec.type === 'oauth2_authorization_code' ? { connection: row.connection ?? {} } : {}),
      verified_at: row.verified_at,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private checkCredentials(c: Connector, credentials: Record<string, unknown>): void {
    if (!c.validateCredentials(credentials)) {
      throw invalid(credentialErrors(c.validateCredentials.errors, c.credentialSchema));
    }
  }

  private checkCapabilities(c: Connector, caps: string[]): void {
    const unknown = caps.filter((x) => !c.capabilities.has(x));
    if (unknown.length) throw invalid({ enabled_capabilities: [`${c.name} does not offer: ${unknown.join(', ')} (offers: ${[...c.capabilities.keys()].join(', ')})`] });
  }

  private publicPart(c: Connector, credentials: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(credentials).filter(([k]) => c.credentialSchema[k] && !c.credentialSchema[k]!.sensitive));
  }

  // Every change below is audited here, after it is made (AuditLog.record never throws).
  async create(ctx: AuditContext, input: CreateIntegrationInput): Promise<IntegrationView> {
    const tenantId = ctx.principal.tenantId;
    const c = this.connectors.get(input.provider);
    if (!c) throw invalid({ provider: [`unknown provider "${input.provider}"`] });
    this.checkCredentials(c, input.credentials);
    await checkProviderHosts(this.engine, c, input.credentials, input.metadata);
    const caps = input.enabled_capabilities ?? [...c.capabilities.keys()];
    this.checkCapabilities(c, caps);
    const metadata = input.metadata ?? {};
    checkTenantMetadata(metadata);
    checkMetadataSize(metadata);
    const environment = checkEnvironment(c, input.environment);
    const id = newId();
    const now = new Date().toISOString();
    const row: IntegrationRow = {
      id,
      tenant_id: tenantId,
      provider: c.name,
      status: 'pending_verify',
      enabled_capabilities: caps,
      environment,
      metadata,
      system_metadata: {},
      credentials_public: this.publicPart(c, input.credentials),
      ...this.cipher.seal(tenantId, id, input.credentials),
      credentials_version: 1,
      verified_at: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    try {
      await this.store.integrations.create(row);
    } catch (err) {
      if (err instanceof UniqueViolation) throw invalid({ provider: [DUPLICATE_MESSAGE] }, DUPLICATE_MESSAGE);
      throw err;
    }
    await this.scheduler.scheduleVerification(tenantId, id, 1);
    await this.audit.record(ctx, 'integration.created', 'integration', id, changedFieldNames(input));
    return this.view(row);
  }

  async get(tenantId: string, id: string): Promise<IntegrationRow> {
    const row = await this.store.integrations.get(tenantId, id);
    if (!row) throw notFound('Integration');
    return row;
  }

  async list(tenantId: string, q: { page: number; perPage: number; status?: IntegrationStatus; category?: string }) {
    const providers = q.category ? [...this.connectors.values()].filter((c) => c.category === q.category).map((c) => c.name) : undefined;
    const res = await this.store.integrations.list(tenantId, { page: q.page, perPage: q.perPage, status: q.status, providers });
    return { items: res.items.map((r) => this.view(r)), total: res.total };
  }

  async update(ctx: AuditContext, id: string, input: UpdateIntegrationInput): Promise<IntegrationView> {
    const tenantId = ctx.principal.tenantId;
    const row = await this.get(tenantId, id);
    const c = this.connectors.get(row.provider);
    if (!c) throw conflict(`provider ${row.provider} is no longer installed`);
    const patch: Partial<IntegrationRow> = { updated_at: new Date().toISOString() };
    if (input.enabled_capabilities) {
      this.checkCapabilities(c, input.enabled_capabilities);
      patch.enabled_capabilities = input.enabled_capabilities;
    }
    if (input.metadata) {
      checkTenantMetadata(input.metadata);
      const merged: Record<string, unknown> = { ...row.metadata };
      for (const [k, v] of Object.entries(input.metadata)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      checkMetadataSize(merged);
      patch.metadata = merged;
    }
    let reverify = false;
    let sealedCredentials: ReturnType<CredentialCipher['seal']> | undefined;
    // Another environment is another base URL (often other accounts): verified again, like new credentials.
    const environment = input.environment === undefined ? row.environment : checkEnvironment(c, input.environment);
    if (environment !== row.environment) patch.environment = environment;
    if (input.credentials) {
      // Partial updates keep the fields not given (e.g. rotate only auth_token).
      const current = this.cipher.open(tenantId, id, row);
      const next = { ...current, ...input.credentials };
      for (const [k, v] of Object.entries(input.credentials)) if (v === null) delete next[k];
      this.checkCredentials(c, next);
      await checkProviderHosts(this.engine, c, next, patch.metadata ?? row.metadata);
      const sealed = this.cipher.seal(tenantId, id, next);
      Object.assign(patch, sealed);
      // OAuth tokens are sealed under the integration's data key, which new credentials replace
      // (re-sealed below, compare-and-set on token_version: a refresh may save new tokens meanwhile).
      sealedCredentials = sealed;
      patch.credentials_public = this.publicPart(c, next);
    }
    if (input.credentials || patch.environment !== undefined) {
      patch.credentials_version = row.credentials_version + 1;
      // A disabled integration stays disabled; activate verifies the new credentials then.
      patch.status = row.status === 'inactive' ? 'inactive' : 'pending_verify';
      patch.verified_at = null; // new credentials are unverified: activate must not skip the check
      patch.system_metadata = withoutVerification(row.system_metadata);
      reverify = patch.status === 'pending_verify';
    }
    const updated = sealedCredentials && row.oauth_tokens_sealed ? await this.resealTokens(row, sealedCredentials, patch) : await this.store.integrations.update(tenantId, id, patch);
    if (!updated) throw notFound('Integration');
    if (reverify) await this.scheduler.scheduleVerification(tenantId, id, updated.credentials_version);
    await this.audit.record(ctx, 'integration.updated', 'integration', id, changedFieldNames(input));
    return this.view(updated);
  }

  /**
   * Writes `patch` (new credentials under a new data key) with the OAuth tokens re-sealed under that
   * key, only while token_version is what was read; a refresh or reconnect that saved tokens meanwhile
   * makes it read them again and retry, so neither write is lost nor left under the old key.
   */
  private async resealTokens(row: IntegrationRow, sealed: ReturnType<CredentialCipher['seal']>, patch: Partial<IntegrationRow>): Promise<IntegrationRow | undefined> {
    let current: IntegrationRow | undefined = row;
    for (let attempt = 0; current && attempt < 20; attempt++) {
      const tokens = current.oauth_tokens_sealed ? this.cipher.openBeside(row.tenant_id, row.id, current, OAUTH_TOKENS, current.oauth_tokens_sealed) : undefined;
      const write = tokens ? { ...patch, oauth_tokens_sealed: this.cipher.sealBeside(row.tenant_id, row.id, sealed, OAUTH_TOKENS, tokens) } : patch;
      const updated = await this.store.integrations.updateAtTokenVersion(row.tenant_id, row.id, current.token_version ?? 0, write);
      if (updated) return updated;
      current = await this.store.integrations.get(row.tenant_id, row.id);
    }
    if (!current) return undefined;
    throw conflict('The integration\'s OAuth tokens kept changing while the credentials were saved: try again.');
  }

  async remove(ctx: AuditContext, id: string): Promise<void> {
    const tenantId = ctx.principal.tenantId;
    const row = await this.get(tenantId, id);
    await this.oauth?.revokeOnDelete(row);
    const now = new Date().toISOString();
    // The tokens go with the row: a deleted integration keeps no live grant in the database.
    await this.store.integrations.update(tenantId, id, { deleted_at: now, status: 'inactive', updated_at: now, oauth_tokens_sealed: null, token_expires_at: null, connection: {} });
    await this.store.routingRules.detachIntegration(tenantId, id);
    await this.store.sync.purge(tenantId, id); // its synced records, runs and stream state (DESIGN §10)
    await this.audit.record(ctx, 'integration.deleted', 'integration', id);
  }

  async activate(ctx: AuditContext, id: string): Promise<IntegrationView> {
    const tenantId = ctx.principal.tenantId;
    const row = await this.get(tenantId, id);
    const audited = () => this.audit.record(ctx, 'integration.activated', 'integration', id, ['status']);
    if (row.status === 'active') {
      await audited(); // asked for, so audited, also when nothing changes (as before)
      return this.view(row);
    }
    if (row.status !== 'inactive') {
      throw new PlugboardError('conflict', row.status === 'error' ? 'The integration failed verification: fix its credentials or verify it again.' : 'The integration is still being verified.', { code: 'invalid_status' });
    }
    // Credentials never verified (disabled before the check finished) go through verification first.
    const status: IntegrationStatus = row.verified_at ? 'active' : 'pending_verify';
    const updated = (await this.store.integrations.update(tenantId, id, { status, updated_at: new Date().toISOString() }))!;
    if (status === 'pending_verify') await this.scheduler.scheduleVerification(tenantId, id, row.credentials_version);
    await audited();
    return this.view(updated);
  }

  async disable(ctx: AuditContext, id: string): Promise<IntegrationView> {
    const tenantId = ctx.principal.tenantId;
    await this.get(tenantId, id);
    const updated = (await this.store.integrations.update(tenantId, id, { status: 'inactive', updated_at: new Date().toISOString() }))!;
    await this.audit.record(ctx, 'integration.disabled', 'integration', id, ['status']);
    return this.view(updated);
  }

  async requestVerification(ctx: AuditContext, id: string): Promise<IntegrationView> {
    const tenantId = ctx.principal.tenantId;
    const row = await this.get(tenantId, id);
    if (row.status === 'inactive') throw new PlugboardError('conflict', 'The integration is disabled: activate it to verify it.', { code: 'invalid_status' });
    const now = new Date().toISOString();
    // A retry that was due later is now due at once (the check is queued now).
    const system = row.system_metadata['next_verification_at'] ? { system_metadata: { ...row.system_metadata, next_verification_at: now } } : {};
    const updated = (await this.store.integrations.update(tenantId, id, { status: 'pending_verify', updated_at: now, ...system }))!;
    await this.scheduler.scheduleVerification(tenantId, id, row.credentials_version);
    await this.audit.record(ctx, 'integration.verification_requested', 'integration', id, ['status']);
    return this.view(updated);
  }

  /**
   * Start-up step after the migration that added `environment`: an integration created before it
   * whose metadata.environment named one of its manifest's environments gets it as `environment`.
   * Runs once per row (the migration lists them); later metadata is never interpreted.
   */
  async adoptLegacyEnvironments(): Promise<number> {
    const environments = Object.fromEntries([...this.connectors.values()].map((c) => [c.name, Object.keys(c.environments)]));
    const moved = await this.store.integrations.adoptLegacyEnvironments(environments);
    if (moved) this.logger.info({ moved }, 'integrations: metadata.environment moved to the environment field');
    return moved;
  }

  /** Credentials in plaintext, for the engine only. Never returned or logged. */
  openCredentials(row: IntegrationRow): Record<string, unknown> {
    return this.cipher.open(row.tenant_id, row.id, row);
  }

  /**
   * The verify-integration job: run the manifest's verify request and record the outcome.
   * A failure that may be transient (timeout, network, 429/5xx) answers `{ retryAt }` when
   * `retryInMs` is given: the integration stays pending_verify but already shows the error and the
   * time of the next try as metadata.verification_error and metadata.next_verification_at.
   */
  async runVerification(tenantId: string, id: string, version: number, retryInMs?: number): Promise<IntegrationStatus | 'stale' | { retryAt: Date }> {
    const row = await this.store.integrations.get(tenantId, id);
    if (!row || row.credentials_version !== version || row.status !== 'pending_verify') return 'stale';
    const c = this.connectors.get(row.provider);
    const system = withoutVerification(row.system_metadata);
    let status: IntegrationStatus;
    if (!c) {
      status = 'error';
      system['verification_error'] = `provider ${row.provider} is not installed`;
    } else if (!c.verify) {
      status = 'active';
      system['verification'] = 'skipped: the connector declares no verify request';
    } else {
      let credentials: Record<string, unknown> | undefined;
      let unreadable = 'the stored credentials cannot be opened';
      try {
        credentials = this.openCredentials(row);
      } catch (err) {
        // master_key_unavailable: its message names the missing key id (never key material).
        if (err instanceof PlugboardError && err.kind === 'unavailable') unreadable = err.message;
        this.logger.warn({ integrationId: id, err: (err as Error).message }, 'cannot open integration credentials');
      }
      const result = credentials
        ? await this.engine.verify(c, { credentials, integration: { id: row.id, environment: row.environment ?? undefined, metadata: row.metadata }, ...this.oauthRunOptions(row) })
        : { ok: false as const, error: failure('unsupported', unreadable, { retryable: false }) };
      if (!result.ok && result.error.retryable && retryInMs !== undefined) {
        const retryAt = new Date(Date.now() + retryInMs);
        const pending = { ...system, verification_error: result.error.message, verification_error_type: result.error.type, next_verification_at: retryAt.toISOString() };
        const recorded = await this.store.integrations.setVerificationResult(tenantId, id, version, 'pending_verify', pending, null);
        this.logger.info({ tenantId, integrationId: id, provider: row.provider, error: result.error.type, next: pending.next_verification_at }, 'integration verification will be retried');
        return recorded ? { retryAt } : 'stale';
      }
      if (result.ok) status = 'active';
      else {
        status = 'error';
        system['verification_error'] = result.error.message;
        system['verification_error_type'] = result.error.type;
      }
    }
    const applied = await this.store.integrations.setVerificationResult(tenantId, id, version, status, system, status === 'active' ? new Date().toISOString() : null);
    this.logger.info({ tenantId, integrationId: id, provider: row.provider, status, applied }, 'integration verification finished');
    if (applied && this.events) {
      const at = new Date().toISOString();
      const common = { integration_id: id, provider: row.provider, category: c?.category ?? 'unknown', previous_status: 'pending_verify' };
      const data = status === 'active'
        ? { ...common, status, enabled_capabilities: row.enabled_capabilities, activated_at: at }
        : { ...common, status, error: { message: String(system['verification_error'] ?? 'verification failed'), code: String(system['verification_error_type'] ?? 'unsupported') }, failed_at: at };
      await this.events.publish(tenantId, status === 'active' ? 'integration.activated' : 'integration.error', data).catch((err: Error) => this.logger.error({ err: err.message }, 'cannot publish integration event'));
    }
    return applied ? status : 'stale';
  }
}
