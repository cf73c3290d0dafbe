// What a client did wrong in the bytes of its body, as the client's error (never a 500): an unknown
// charset or content-encoding (415), too many form parameters or too many bytes (413, stating the
// route's real limit), a body that does not decode (400) or parse (422). body-parser raises these
// as errors with a 4xx `status`; the OAuth endpoints answer them in RFC 6749 §5.2 form.
import type { Request, Response } from 'express';
import { fail } from './envelope.ts';
import { oauthTokenError } from './handlers/access.ts';

/** Form parameters accepted at the OAuth endpoints (body-parser's default, stated once). */
export const FORM_PARAMETER_LIMIT = 1000;

interface BodyError {
  status?: number;
  statusCode?: number;
  type?: string;
  limit?: number;
  charset?: string;
  encoding?: string;
  message?: string;
  /** The raw body text (body-parser's parse errors). */
  body?: unknown;
}

/** The 4xx status of a client's error (body-parser, http-errors), or undefined for anything else. */
function clientErrorStatus(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as BodyError;
  const status = Number(e.status ?? e.statusCode);
  return Number.isInteger(status) && status >= 400 && status <= 499 ? status : undefined;
}

/** 1048576 -> "1 MB", 16384 -> "16 KB". */
function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return `${n} bytes`;
}

function isJsonPrimitive(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    const v: unknown = JSON.parse(text);
    return v === null || typeof v !== 'object';
  } catch {
    return false;
  }
}

function describe(err: BodyError, req: Request): { message: string; field: string; problem: string; status?: number } {
  switch (err.type) {
    case 'entity.too.large': {
      const limit = typeof err.limit === 'number' ? formatBytes(err.limit) : 'the limit';
      return { message: `Request body too large (limit ${limit}).`, field: 'body', problem: `must be at most ${limit}` };
    }
    case 'entity.parse.failed':
      // The strict JSON parser refuses a valid JSON value that is no object or array (null, 1, "x").
      // That is valid JSON of the wrong type: 422, as the schema check answers a JSON array.
      if (isJsonPrimitive(err.body)) return { message: 'The request body must be a JSON object.', field: 'body', problem: 'must be a JSON object', status: 422 };
      // DESIGN §3: a body that does not parse is a validation error of the field `body` (422).
      return { message: 'The request body is not valid JSON.', field: 'body', problem: 'is not valid JSON', status: 422 };
    case 'parameters.too.many':
      return { message: `Too many form parameters (limit ${FORM_PARAMETER_LIMIT}).`, field: 'body', problem: `must have at most ${FORM_PARAMETER_LIMIT} parameters` };
    case 'charset.unsupported':
      return { message: `Unsupported charset "${err.charset ?? ''}"; send UTF-8.`, field: 'content-type', problem: 'charset must be utf-8' };
    case 'encoding.unsupported':
      return { message: `Unsupported content encoding "${err.encoding ?? ''}".`, field: 'content-encoding', problem: 'must be gzip, deflate, br or identity' };
  }
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding !== 'identity') return { message: `The request body is not valid ${encoding} data.`, field: 'body', problem: `does not decode as ${encoding}` };
  return { message: 'The request body could not be read.', field: 'body', problem: 'could not be read' };
}

/** Answers a client's body error with its own 4xx status; returns false when `err` is not one. */
export function sendBodyError(err: unknown, req: Request, res: Response, oauthPaths: readonly string[]): boolean {
  const parserStatus = clientErrorStatus(err);
  if (parserStatus === undefined) return false;
  const d = describe(err as BodyError, req);
  const status = d.status ?? parserStatus;
  // The client's mistake, not the server's: below error level, without a stack.
  req.log?.info({ bodyError: { status, type: (err as BodyError).type ?? null, field: d.field } }, 'request body refused');
  if (res.headersSent) return true;
  if (oauthPaths.includes(req.originalUrl.split('?')[0]!)) oauthTokenError(res, 'invalid_request', `${d.field}: ${d.message}`, status);
  else res.status(status).json(fail(d.message, { [d.field]: [d.problem] }));
  return true;
}
