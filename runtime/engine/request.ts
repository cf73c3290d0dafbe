// Turn a compiled request (templates + expressions) and a call's context into an HTTP request.
import type { CompiledRequest } from '../manifest/connector.ts';
import type { AppliedAuth } from '../auth/strategies.ts';
import { joinUrl } from '../http/url.ts';
import { EngineError, failure } from '../http/errors.ts';
import { encodeMultipartRelated } from './multipart-related.ts';
import { encodeForm } from './form-body.ts';

export interface CallContext {
  credentials: Record<string, unknown>;
  input: Record<string, unknown>;
  integration: Record<string, unknown>;
  /** oauth2_authorization_code: the integration's connection object (empty otherwise). */
  connection?: Record<string, unknown>;
  /** A stream's request: sync.cursor (the last committed incremental cursor, '' on a first run); sync.page (pagination `in: body`). */
  sync?: { cursor: string; page?: Record<string, string> };
}

/** A page of a stream: query parameters set on the request, or a whole URL replacing path and query; extra headers. */
export interface PageParts {
  url?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface BuiltRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  xml: 'application/xml',
  text: 'text/plain; charset=utf-8',
};

async function encodeMultipart(value: Record<string, unknown>): Promise<{ body: Buffer; contentType: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) fd.append(k, typeof item === 'object' ? JSON.stringify(item) : String(item));
  }
  // Let the platform's Response serialise the multipart body so boundaries and escaping are standard.
  const res = new Response(fd);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type')! };
}

/** JSONata's code for an error the expression raised itself with $error("..."). */
const RAISED_BY_EXPRESSION = 'D3137';

/**
 * A request body is built from the caller's input: a manifest that refuses that input with
 * $error("...") (e.g. pipedrive's lone first_name) is answered invalid_input with its message, not
 * an internal error. Any other evaluation error stays what it is (a manifest bug).
 */
async function evaluateBody(expr: NonNullable<CompiledRequest['bodyExpression']>, ctx: CallContext): Promise<unknown> {
  try {
    return await expr.evaluate(ctx);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e?.code !== RAISED_BY_EXPRESSION) throw err;
    throw new EngineError(failure('invalid_input', String(e.message ?? 'invalid input'), { retryable: false }));
  }
}

export async function buildRequest(req: CompiledRequest, baseUrl: string, ctx: CallContext, auth: AppliedAuth, page?: PageParts): Promise<BuiltRequest> {
  const path = req.path.isStatic ? req.path.source : req.path.renderUrlEncoded(ctx);
  // A page URL (next_url, link_header) carries the provider's own query; set, never repeat, ours on it.
  const url = new URL(page?.url ?? joinUrl(baseUrl, path));
  for (const [name, t] of page?.url ? [] : req.query) {
    const v = t.render(ctx);
    if (v !== '') url.searchParams.append(name, v); // an empty rendering means "not given": omit it
  }
  for (const [name, v] of Object.entries(page?.query ?? {})) url.searchParams.set(name, v);
  for (const [name, v] of auth.query) url.searchParams[page?.url ? 'set' : 'append'](name, v);

  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'plugboard/0.1' };
  for (const [name, t] of req.headers) {
    const v = t.render(ctx);
    if (v !== '') headers[name.toLowerCase()] = v;
  }
  for (const [name, v] of Object.entries(page?.headers ?? {})) headers[name.toLowerCase()] = v;
  Object.assign(headers, auth.headers);

  let body: string | Buffer | undefined;
  if (req.bodyExpression) {
    const value = await evaluateBody(req.bodyExpression, ctx);
    if (req.bodyFormat === 'json') {
      body = JSON.stringify(value ?? {});
    } else if (req.bodyFormat === 'form') {
      body = encodeForm(value, req.formArrays);
    } else if (req.bodyFormat === 'multipart_related') {
      const mp = encodeMultipartRelated(value);
      body = mp.body;
      headers['content-type'] = mp.contentType;
    } else {
      const mp = await encodeMultipart((value ?? {}) as Record<string, unknown>);
      body = mp.body;
      headers['content-type'] = mp.contentType;
    }
  } else if (req.bodyTemplate) {
    body = req.bodyTemplate.render(ctx);
  }
  if (body !== undefined && !headers['content-type']) headers['content-type'] = CONTENT_TYPES[req.bodyFormat]!;
  return { method: req.method, url: url.toString(), headers, body };
}
