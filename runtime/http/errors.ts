// Typed failures of a capability call. Messages never carry credential values (see redact()).
import { PlugboardError } from '../errors/plugboard-error.ts';

export type EngineErrorType =
  | 'invalid_input'
  | 'invalid_credentials'
  | 'provider_error'
  | 'timeout'
  | 'network_error'
  | 'invalid_output'
  | 'rate_limited'
  | 'unsupported';

export interface EngineFailure {
  type: EngineErrorType;
  message: string;
  /** HTTP status of the provider's last answer (provider_error). */
  status?: number;
  provider_message?: string;
  provider_code?: string;
  /** Per-field problems (invalid_input, invalid_credentials, invalid_output). */
  fields?: Record<string, string[]>;
  /** Seconds the provider asked us to wait (429/503 with Retry-After). */
  retry_after?: number;
  /** True when trying again later (or on another provider) may succeed. */
  retryable: boolean;
}

/** A failed capability call as an error; `failure` says which kind (the API answers it as data). */
export class EngineError extends PlugboardError {
  constructor(readonly failure: EngineFailure) {
    super(failure.type === 'invalid_input' ? 'validation' : 'provider', failure.message, { code: failure.type, errors: failure.fields, retryAfter: failure.retry_after });
  }
}

export function failure(type: EngineErrorType, message: string, extra: Partial<EngineFailure> = {}): EngineFailure {
  const retryable = type === 'timeout' || type === 'network_error' || type === 'rate_limited' ||
    (type === 'provider_error' && (extra.status === undefined || extra.status === 429 || extra.status >= 500));
  return { type, message, retryable, ...extra };
}

/** Replaces every secret value found in a text by [REDACTED]. Longest first, so overlapping secrets are all hidden. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length < 4) continue;
    out = out.split(s).join('[REDACTED]');
    const enc = encodeURIComponent(s);
    if (enc !== s) out = out.split(enc).join('[REDACTED]');
  }
  return out;
}
