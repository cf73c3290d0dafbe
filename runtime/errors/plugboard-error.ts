// The one error type of the runtime. Every failure a caller can act on is a PlugboardError with a
// kind (what went wrong, mapped to an HTTP status in one place: runtime/api/error-response.ts) and an
// optional machine-readable code and per-field messages. Subclasses only fix the kind.

export type ErrorKind =
  | 'validation' // the input is wrong: 422
  | 'not_found' // absent, or another tenant's: 404
  | 'conflict' // the state does not allow it: 409
  | 'unauthenticated' // no or bad credentials: 401
  | 'forbidden' // valid credentials without the scope: 403
  | 'too_large' // payload over a limit: 413
  | 'rate_limited' // slow down (retryAfter seconds): 429
  | 'unavailable' // a dependency is down; retry later: 503
  | 'provider' // a provider call failed (engine failure types): 502
  | 'config' // invalid configuration or start-up problem: the process stops with the message
  | 'internal'; // a bug: 500

/** The message every validation envelope carries when fields are listed. */
export const INVALID_DATA_MESSAGE = 'The given data was invalid.';

export interface PlugboardErrorOptions {
  code?: string;
  errors?: Record<string, string[]>;
  /** Seconds to wait before retrying (rate_limited, unavailable). */
  retryAfter?: number;
  cause?: unknown;
}

export class PlugboardError extends Error {
  readonly code?: string;
  readonly errors?: Record<string, string[]>;
  readonly retryAfter?: number;

  constructor(readonly kind: ErrorKind, message: string, opts: PlugboardErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code;
    this.errors = opts.errors;
    this.retryAfter = opts.retryAfter;
  }
}

export const notFound = (what: string) => new PlugboardError('not_found', `${what} not found.`);

/** A 422 naming each field: `invalid({ url: ['must be https'] })`. */
export const invalid = (errors: Record<string, string[]>, message = INVALID_DATA_MESSAGE, code?: string) =>
  new PlugboardError('validation', message, { errors, code });

export const conflict = (message: string, code?: string) => new PlugboardError('conflict', message, { code });

/** Invalid configuration: the process stops with this one line. */
export class ConfigError extends PlugboardError {
  constructor(message: string, opts: PlugboardErrorOptions = {}) {
    super('config', message, opts);
  }
}
