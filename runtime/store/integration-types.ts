// The integrations part of the Store port: a tenant's configured provider, its sealed credentials,
// the environment it runs against, the tenant's own metadata and the state the system keeps beside it.
import type { ListQuery, ListResult } from './list.ts';

export type IntegrationStatus = 'pending_verify' | 'active' | 'inactive' | 'error';

export interface IntegrationRow {
  id: string;
  tenant_id: string;
  provider: string;
  status: IntegrationStatus;
  enabled_capabilities: string[];
  /** One of the manifest's `environments` (picks the base URL), or null for the manifest's default. */
  environment: string | null;
  /** The tenant's own free-form object: stored and returned, never interpreted. */
  metadata: Record<string, unknown>;
  /** Keys the system sets (verification_error, next_verification_at, needs_reauth, ...), kept apart from `metadata`. */
  system_metadata: Record<string, unknown>;
  /** Non-sensitive credential fields, shown in responses. */
  credentials_public: Record<string, unknown>;
  /** All credential fields, sealed by runtime/crypto (never plaintext). */
  credentials_sealed: Buffer;
  /** The integration's data key, wrapped by the master key `master_key_id`. */
  data_key_wrapped: Buffer;
  master_key_id: string;
  /** Bumped on every credentials (or environment) change so a stale verification job cannot activate them. */
  credentials_version: number;
  /** OAuth: {access_token, refresh_token, expires_at, scope, token_type}, sealed under the integration's data key. */
  oauth_tokens_sealed?: Buffer | null;
  /** OAuth: when the access token expires (not secret; schedules the refresh). */
  token_expires_at?: string | null;
  /** OAuth: bumped on every token write (compare-and-swap for concurrent refreshes). */
  token_version?: number;
  /** OAuth: values the token response named (instance_url, api_domain, ...): not secret, shown in responses. */
  connection?: Record<string, unknown>;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface IntegrationFilter extends ListQuery {
  status?: IntegrationStatus;
  providers?: string[];
}

export interface IntegrationStore {
  /** Throws UniqueViolation when the tenant already has a live integration for the provider. */
  create(row: IntegrationRow): Promise<void>;
  get(tenantId: string, id: string): Promise<IntegrationRow | undefined>;
  /** Inbound webhooks only: the URL names the integration, which names its tenant. */
  getForInbound(id: string): Promise<IntegrationRow | undefined>;
  list(tenantId: string, filter: IntegrationFilter): Promise<ListResult<IntegrationRow>>;
  /** The tenant's active integrations, oldest first, at most `limit` (routing an operation: no count). */
  active(tenantId: string, limit: number): Promise<IntegrationRow[]>;
  /** Providers for which the tenant has a live integration. */
  configuredProviders(tenantId: string): Promise<string[]>;
  /** Active integrations of these providers across all tenants (scheduling sync at start-up; not tenant-scoped by design). */
  activeOf(providers: string[]): Promise<Array<{ tenant_id: string; id: string }>>;
  update(tenantId: string, id: string, patch: Partial<Omit<IntegrationRow, 'id' | 'tenant_id' | 'created_at'>>): Promise<IntegrationRow | undefined>;
  /**
   * Compare-and-set on the OAuth tokens: applies `patch` only while token_version is still
   * `expectedVersion` (and the row is live); a patch that writes oauth_tokens_sealed increments
   * token_version in the same statement. Undefined when the version moved on (re-read and retry).
   */
  updateAtTokenVersion(tenantId: string, id: string, expectedVersion: number, patch: Partial<Omit<IntegrationRow, 'id' | 'tenant_id' | 'created_at' | 'token_version'>>): Promise<IntegrationRow | undefined>;
  /**
   * Records a verification outcome (status and system metadata) only while the row is still
   * pending_verify at credentials_version `version`; false when it changed meanwhile (stale job).
   */
  setVerificationResult(tenantId: string, id: string, version: number, status: IntegrationStatus, systemMetadata: Record<string, unknown>, verifiedAt: string | null): Promise<boolean>;
  /**
   * One-time step after the migration that added `environment`: rows that existed before it and
   * whose `metadata.environment` named one of their provider's environments (`environments`:
   * provider -> names) get it as `environment` and lose it from `metadata`. Rows of providers not
   * in the map wait for a later run. Returns the rows moved.
   */
  adoptLegacyEnvironments(environments: Record<string, string[]>): Promise<number>;
}
