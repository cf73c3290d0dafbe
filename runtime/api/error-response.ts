// The one place where an error becomes an HTTP answer (DESIGN §1: errors share one base type with a
// kind). Anything that is not a PlugboardError is a bug: the caller logs it and answers 500.
import type { Response } from 'express';
import { PlugboardError, type ErrorKind } from '../errors/plugboard-error.ts';
import { fail } from './envelope.ts';

const STATUS: Record<ErrorKind, number> = {
  validation: 422,
  not_found: 404,
  conflict: 409,
  unauthenticated: 401,
  forbidden: 403,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  provider: 502,
  config: 500,
  internal: 500,
};

/** Answers a PlugboardError with its status and envelope; returns false for anything else. */
export function sendError(res: Response, err: unknown): boolean {
  if (!(err instanceof PlugboardError) || STATUS[err.kind] >= 500 && err.kind !== 'unavailable' && err.kind !== 'provider') return false;
  if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfter))));
  if (err.kind === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer realm="plugboard"');
  res.status(STATUS[err.kind]).json(fail(err.message, err.errors, err.code));
  return true;
}
