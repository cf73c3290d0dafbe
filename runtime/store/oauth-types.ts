// The OAuth-connections part of the Store port (Plugboard as an OAuth client of providers):
// authorization states waiting for their callback, and the lease that lets one process at a time
// refresh an integration's grant. The tokens themselves live on the integration row (sealed).

export interface OAuthStateRow {
  /** SHA-256 (hex) of the state sent to the provider; the state itself is never stored. */
  state_hash: string;
  tenant_id: string;
  provider: string;
  /** The PKCE verifier, sealed like credentials (null when the manifest says pkce: false). */
  verifier_sealed: Buffer | null;
  data_key_wrapped: Buffer | null;
  master_key_id: string | null;
  return_to: string | null;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface OAuthTokenWrite {
  oauth_tokens_sealed: Buffer;
  token_expires_at: string | null;
  /** Replaces the connection object when given (a refresh response may carry new values). */
  connection?: Record<string, unknown>;
}

export interface OAuthStore {
  createState(row: OAuthStateRow): Promise<void>;
  /** The state's row, read only (no write lock): the unauthenticated callback looks before it consumes. */
  findState(stateHash: string): Promise<OAuthStateRow | undefined>;
  /**
   * Marks a state used (single use) and returns it with `firstUse`; a second call answers the row
   * with firstUse false (a replay). Undefined for an unknown state.
   */
  consumeState(stateHash: string, now: string): Promise<{ row: OAuthStateRow; firstUse: boolean } | undefined>;
  /** Deletes states that expired before `before` (housekeeping). */
  purgeStates(before: string): Promise<number>;
  /** Takes the refresh lease of an integration until `untilMs` when it is free or expired at `nowMs`. */
  acquireRefreshLease(tenantId: string, integrationId: string, holder: string, nowMs: number, untilMs: number): Promise<boolean>;
  releaseRefreshLease(integrationId: string, holder: string): Promise<void>;
  /**
   * Stores new tokens (a rotated refresh token in the same write as the new access token) when the
   * integration's token_version is still `expectedVersion`; bumps the version. False when it moved on.
   */
  saveTokens(tenantId: string, integrationId: string, expectedVersion: number, write: OAuthTokenWrite): Promise<boolean>;
}
