// Hostile input stops here, before any handler: the one place that bounds JSON nesting, checks
// date-times (RFC 3339 that JavaScript can also represent: no leap seconds) and reads paging.
import type { Request, Response, NextFunction } from 'express';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { invalid } from '../errors/plugboard-error.ts';
import { sendError } from './error-response.ts';
import { fail } from './envelope.ts';

/** Free-form objects (metadata, credentials, input, conditions...) may nest this deep, no deeper. */
export const MAX_JSON_DEPTH = 32;

/** The first top-level field whose value nests deeper than `max` levels ("body" for the body itself). */
export function tooDeepField(body: unknown, max = MAX_JSON_DEPTH): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  // Iterative: a recursive walk is what overflowed the stack on 10,000 levels.
  const stack: Array<[unknown, number, string]> = Array.isArray(body)
    ? [[body, 1, 'body']]
    : Object.entries(body).map(([k, v]) => [v, 2, k] as [unknown, number, string]);
  while (stack.length) {
    const [value, depth, field] = stack.pop()!;
    if (!value || typeof value !== 'object') continue;
    if (depth > max) return field;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (child && typeof child === 'object') stack.push([child, depth + 1, field]);
    }
  }
  return undefined;
}

/** Express middleware after the JSON parser: 422 naming the field nested deeper than MAX_JSON_DEPTH. */
export function boundJsonDepth(req: Request, res: Response, next: NextFunction): void {
  const field = Buffer.isBuffer(req.body) ? undefined : tooDeepField(req.body);
  if (field === undefined || !sendError(res, invalid({ [field]: [`nests deeper than ${MAX_JSON_DEPTH} levels`] }))) return next();
}

const rfc3339 = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;

/** What a date-time field must be: said in full, since "must match format" hides the leap-second rule. */
export const DATE_TIME_PROBLEM = 'must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z; leap seconds (second 60) are not accepted';

/** The message of one OpenAPI schema error: the schema's own wording, the allowed values, the date-time rule. */
export function schemaProblem(e: { keyword: string; message?: string; params: unknown; parentSchema?: unknown }): string {
  const own = (e.parentSchema as Record<string, unknown> | undefined)?.['x-error-message'];
  if (typeof own === 'string' && e.keyword === 'pattern') return own;
  if (e.keyword === 'format' && (e.params as { format?: string }).format === 'date-time') return DATE_TIME_PROBLEM;
  const allowed = (e.params as { allowedValues?: unknown }).allowedValues;
  if (e.keyword === 'enum' && Array.isArray(allowed)) return `must be one of: ${allowed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
  return e.message ?? 'is invalid';
}

/** RFC 3339 date-time that is also a JavaScript Date (23:59:60 is valid RFC 3339 but not representable). */
export function isDateTime(s: string): boolean {
  return rfc3339(s) && Number.isFinite(Date.parse(s));
}

/** The date-time format for the OpenAPI validator (replaces ajv-formats' one). */
export const dateTimeFormat = { type: 'string' as const, validate: isDateTime };

/** An optional date-time query parameter, already validated by the OpenAPI format above. */
export function dateParam(query: Record<string, unknown>, name: string): Date | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !isDateTime(v)) throw invalid({ [name]: [DATE_TIME_PROBLEM] });
  return new Date(v);
}

/** page and per_page (bounds declared in openapi.yaml; checked again so no handler sees a non-integer). */
export function pageParams(query: Record<string, unknown>): { page: number; perPage: number } {
  const read = (name: string, dflt: number, max: number) => {
    const raw = query[name];
    const n = raw === undefined || raw === '' ? dflt : Number(raw);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw invalid({ [name]: [`must be an integer from 1 to ${max}`] });
    return n;
  };
  return { page: read('page', 1, MAX_PAGE), perPage: read('per_page', 25, 100) };
}

/** The highest page number a list accepts (also `maximum` of the page parameter in openapi.yaml). */
export const MAX_PAGE = 1_000_000;

/** A path whose percent-escapes are not UTF-8 names nothing: 404 here, not a URIError in the router. */
export function requireDecodablePath(req: Request, res: Response, next: NextFunction): void {
  try {
    decodeURIComponent(req.path);
  } catch {
    res.status(404).json(fail('Not found.', { path: ['is not valid percent-encoded UTF-8'] }));
    return;
  }
  next();
}
