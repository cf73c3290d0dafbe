// The persistence port of operations (POST /operations/{capability}) and their provider attempts
// (deliveries). An operation that calls a provider is recorded BEFORE the call, in progress with a
// lease; a process that dies mid-call leaves a row whose lease expires and which then settles as
// `unknown` (DESIGN §6). Leases are epoch milliseconds, kept behind this interface.

export type OperationStatus = 'in_progress' | 'succeeded' | 'failed' | 'unknown';

export interface OperationRow {
  id: string;
  tenant_id: string;
  capability: string;
  idempotency_key: string | null;
  request_hash: string;
  status: OperationStatus;
  /** Only rows written before results were stored as domain results have it (their HTTP status). */
  http_status: number | null;
  /** The stored result (succeeded and failed operations); null while in progress and when unknown. */
  response: unknown;
  /** Epoch ms until which the process running it holds it (in progress only). */
  lease_expires_at: number | null;
  created_at: string;
  updated_at: string;
}

/** One provider attempt of an operation. `in_progress` while the provider is called; `unknown` when the process died meanwhile. */
export interface DeliveryRow {
  id: string;
  tenant_id: string;
  operation_id: string;
  capability: string;
  integration_id: string;
  provider: string;
  attempt: number;
  status: 'in_progress' | 'succeeded' | 'failed' | 'unknown';
  provider_status_code: number | null;
  duration_ms: number;
  error: { type: string; message: string; provider_code?: string } | null;
  request_id: string | null;
  provider_request_id: string | null;
  created_at: string;
}

export interface DeliveryFilter {
  page: number;
  perPage: number;
  integration_id?: string;
  capability?: string;
  status?: string;
  operation_id?: string;
}

export type AttemptResult = Pick<DeliveryRow, 'status' | 'provider_status_code' | 'duration_ms' | 'error' | 'provider_request_id'>;

/** What an attempt left in progress by a dead process says once settled. */
export const UNKNOWN_ATTEMPT_ERROR = {
  type: 'outcome_unknown',
  message: 'the process stopped while the provider was handling this attempt: whether the provider acted is unknown',
};

export interface OperationStore {
  /**
   * Records an operation before any provider call (in progress, leased); throws UniqueViolation if
   * its idempotency key is taken. `firstAttempt` (in progress) is recorded in the same transaction:
   * one commit for both, and the attempt cannot find its lease lost.
   */
  begin(row: OperationRow, firstAttempt?: DeliveryRow): Promise<void>;
  findByKey(tenantId: string, key: string): Promise<OperationRow | undefined>;
  /** Extends the lease of an operation still in progress; false when it no longer is. */
  renew(tenantId: string, id: string, leaseExpiresAt: number): Promise<boolean>;
  /**
   * Records an attempt (status in_progress) just before its provider call and extends the
   * operation's lease, only if the operation is still in progress with its lease unexpired at `now`
   * (atomically). False: the lease was lost (the operation may already answer `unknown`), so the
   * caller must not call a provider.
   */
  startAttempt(row: DeliveryRow, leaseExpiresAt: number, now: number): Promise<boolean>;
  /** The provider answered (or failed): the attempt's outcome. */
  finishAttempt(tenantId: string, deliveryId: string, result: AttemptResult): Promise<void>;
  /**
   * Stores the outcome of an operation still in progress; `unknown` also settles its attempts still
   * in progress. False when it no longer is: an operation settled as `unknown` stays so (a client
   * may have seen that answer), its late attempt keeps its real outcome on the attempt row.
   * `lastAttempt`, when given, is finished in the same transaction (one commit per operation's end).
   */
  finish(tenantId: string, id: string, status: Exclude<OperationStatus, 'in_progress'>, result: unknown, lastAttempt?: { deliveryId: string; result: AttemptResult }): Promise<boolean>;
  /** Forget an in-progress operation that never reached a provider (so its key can be used again). */
  remove(tenantId: string, id: string): Promise<void>;
  /**
   * Settles in-progress operations whose lease expired by `now` (all, one tenant's, or one) as
   * `unknown`, with their in-progress attempts, and attempts left in progress by operations already
   * settled (older versions could leave them); returns how many operations and stray attempts were settled.
   */
  settleExpired(now: number, scope?: { tenantId: string; id?: string }): Promise<number>;
}
