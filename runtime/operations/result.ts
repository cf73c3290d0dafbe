// What an operation ends as, in domain terms (the API handler turns it into HTTP). Succeeded and
// failed results are stored with the operation so that its idempotency key answers them again;
// `unknown` is an operation whose process died while a provider held its call (DESIGN §6).
import type { OperationRow } from '../store/types.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface OperationError {
  /** An engine failure type (invalid_input, timeout, provider_error, ...). */
  type: string;
  message: string;
  provider_message?: string;
}

interface Common {
  operation_id: string;
  capability: string;
  /** Ids of the provider attempts (GET /deliveries/{id}), in order. */
  deliveries: string[];
}

export type OperationResult =
  | (Common & { status: 'succeeded'; integration_id: string; provider: string; output: unknown; fallback_used: boolean })
  | (Common & { status: 'failed'; error: OperationError })
  | (Common & { status: 'unknown' });

/** A result as answered to one request: `replayed` when its idempotency key answered a stored one. */
export type OperationOutcome = OperationResult & { replayed: boolean };

type LegacyBody = { data?: Record<string, unknown>; code?: string; message?: string; errors?: Record<string, string[]>; deliveries?: string[] };

/** Rows written before results were stored as domain results hold the HTTP body and its status. */
export function legacyResult(row: OperationRow): OperationResult {
  const b = (row.response ?? {}) as LegacyBody;
  const common = { operation_id: row.id, capability: row.capability, deliveries: b.deliveries ?? [] };
  if (row.status === 'succeeded' && b.data) return { ...(b.data as Omit<Extract<OperationResult, { status: 'succeeded' }>, 'status'>), status: 'succeeded' };
  if (row.http_status === 409) throw new PlugboardError('conflict', b.message ?? 'No active integration.', { code: b.code, errors: b.errors });
  // The old "failed after reaching the provider" record: whether the provider acted is unknown.
  if (b.code === 'internal_error') return { ...common, status: 'unknown' };
  const error: OperationError = { type: b.code ?? 'provider_error', message: (b.message ?? '').replace(/^The operation failed: /, '') };
  if (b.errors?.['provider']?.[0] !== undefined && b.errors['provider'][0] !== error.message) error.provider_message = b.errors['provider'][0];
  return { ...common, status: 'failed', error };
}
