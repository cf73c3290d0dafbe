// A loopback HTTP server that judges requests by a provider's official OpenAPI document.
//
// For every request it captures method, path, query, headers and raw body, parses the body by its
// content type, matches the spec operation, validates parameters and body with openapi-backend
// (Ajv), checks the operation's security requirement, and records every problem as a violation.
// It answers with the `respond` callback's body, else the spec's example for the success response,
// else a mock generated from the response schema. Requests with violations are answered 400 (401 for
// security, 404/405 for unknown routes), like the real API would, so the engine does not report
// success for them.
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { OpenAPIBackend, Operation } from 'openapi-backend';
import { FORM_TYPES, HTTP_METHODS, loadSpec, specFromDocument, resolveRef, type AnyObj, type LoadedSpec } from './spec-document.ts';
import { isCyclic, jsonMedia, mediaExample, minimalFromSchema, successResponse, collectFormats } from './schema-values.ts';
import { checkSecurity } from './security.ts';
import { formArrays, mediaMatches, mediaType, parseBody, parseQuery } from './request-body.ts';
import { ResponseChecker, ajvLocation, makeBackend, validateOtherMediaBody } from './validators.ts';
import { TOKEN_OPERATION, judgeTokenRequest, tokenAnswer } from './token-endpoint.ts';
import { applyGeneratedSpecFixups } from './generated-spec-fixups.ts';

export interface Violation {
  /** Where: route, security, content-type, request.body.<field>, request.query.<name>, request.header.<name>, request.path.<name>, harness. */
  location: string;
  /** The rule broken: an Ajv keyword (required, additionalProperties, type, enum, format, …), route, security, content-type, rfc6749, harness. */
  rule: string;
  message: string;
  method: string;
  path: string;
  operationId?: string;
}

export interface CapturedRequest {
  method: string;
  /** Path without the query string, as sent (percent-encoded). */
  path: string;
  /** Query parsed with qs. */
  query: Record<string, unknown>;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  contentType?: string;
  /** Body parsed by content type (JSON, form via qs, multipart), before Ajv coercion. */
  body?: unknown;
  /** The matched spec operation, if any. */
  operationId?: string;
  violations: Violation[];
  /** What the server answered. */
  status?: number;
  responseBody?: unknown;
}

export interface MockResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The spec response to validate the body against (default: the one for `status`, else 4XX/5XX, else `default`). E.g. 'default' for Slack's HTTP 200 {ok:false} errors. */
  specResponse?: string;
}

export interface ResponseIssue {
  operationId: string;
  status: number;
  message: string;
}

export interface SpecServerOptions {
  /** Further changes to the in-memory (converted, fixed-up, not yet dereferenced) copy of the spec. */
  fixups?: Array<(doc: AnyObj) => void>;
  /** Answer a request with a body of your own; it is validated against the spec's response schema for that status (mismatches go to responseIssues). */
  respond?: (req: CapturedRequest, op: Operation) => MockResponse | undefined;
  /** Paths of the connector's OAuth2 token endpoint: judged by RFC 6749 when the spec has no operation there. */
  tokenPaths?: string[];
  /** Print a line per violation (default: false). */
  log?: boolean;
}

export interface SpecServer {
  /** Origin plus the spec's base path (servers[0]), e.g. http://127.0.0.1:1234/api. */
  url: string;
  /** http://127.0.0.1:port */
  origin: string;
  /** The spec's base path, '' when the paths start at the root. */
  basePath: string;
  /** The fix-ups applied to the spec (one line each). */
  fixups: string[];
  requests: CapturedRequest[];
  violations: Violation[];
  /** Problems of the answers the server gave (a served body that does not match the spec's response schema). */
  responseIssues: ResponseIssue[];
  api: OpenAPIBackend;
  definition: AnyObj;
  /** Base URL for a connector: this server's origin plus the path of the connector's own base URL. */
  baseUrlFor(connectorBaseUrl: string | undefined): string;
  reset(): void;
  close(): Promise<void>;
}

interface Backends {
  definition: AnyObj;
  fixups: string[];
  basePath: string;
  formApi?: OpenAPIBackend;
  strictApi?: OpenAPIBackend;
}

/** The spec loaded, fixed up and given its validators (openapi-backend compiles an operation's on first use, then keeps it). */
async function prepare(spec: string | string[] | LoadedSpec | AnyObj, options: SpecServerOptions): Promise<Backends> {
  let loaded: LoadedSpec;
  if (typeof spec === 'string' || Array.isArray(spec)) loaded = await loadSpec(typeof spec === 'string' ? [spec] : spec);
  else if ('document' in spec && 'fixups' in spec) loaded = { ...(spec as LoadedSpec), document: structuredClone((spec as LoadedSpec).document) };
  else loaded = await specFromDocument(spec as AnyObj);
  const definition = loaded.document;
  const fixups = [...loaded.fixups, ...applyGeneratedSpecFixups(definition)];
  for (const f of options.fixups ?? []) f(definition);

  const basePath = specBasePath(definition);
  const apiRoot = basePath || '/';
  const hasForm = hasBodyType(definition, (t) => FORM_TYPES.includes(t));
  const hasOther = hasBodyType(definition, (t) => !FORM_TYPES.includes(t));
  // Form bodies need type coercion, JSON bodies must not get it: one backend per kind.
  const formApi = hasForm ? await makeBackend(structuredClone(definition), true, apiRoot) : undefined;
  const strictApi = hasOther || !hasForm ? await makeBackend(structuredClone(definition), false, apiRoot) : undefined;
  return { definition, fixups, basePath, formApi, strictApi };
}

/**
 * Servers started from the same spec files (without extra fix-ups) in one process share their
 * validators, so a large spec's slow first compile of an operation (DocuSign's envelopes, ~23 s) is
 * paid once per test file, not once per server.
 */
const shared = new Map<string, Promise<Backends>>();

function backendsFor(spec: string | string[] | LoadedSpec | AnyObj, options: SpecServerOptions): Promise<Backends> {
  if (!(typeof spec === 'string' || Array.isArray(spec)) || options.fixups?.length) return prepare(spec, options);
  const key = [spec].flat().map((f) => path.resolve(f)).join('\n');
  let hit = shared.get(key);
  if (!hit) {
    hit = prepare(spec, options);
    shared.set(key, hit);
    hit.catch(() => shared.delete(key));
  }
  return hit;
}

/** Loads the spec (file paths, a loaded spec, or a document object) and starts the server on 127.0.0.1, port 0. */
export async function startSpecServer(spec: string | string[] | LoadedSpec | AnyObj, options: SpecServerOptions = {}): Promise<SpecServer> {
  const { fixups, basePath, formApi, strictApi } = await backendsFor(spec, options);
  const api = (strictApi ?? formApi)!;
  const deref = api.definition as AnyObj;

  const responseChecker = new ResponseChecker(collectFormats(deref));
  const tokenPaths = new Set(options.tokenPaths ?? []);
  const requests: CapturedRequest[] = [];
  const violations: Violation[] = [];
  const responseIssues: ResponseIssue[] = [];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toLowerCase();
    const rawQuery = url.search.replace(/^\?/, '');
    const contentType = req.headers['content-type'];
    const parsed = await parseBody(raw, contentType);
    const captured: CapturedRequest = {
      method: method.toUpperCase(), path: url.pathname, query: parseQuery(rawQuery), rawQuery, headers: { ...req.headers },
      rawBody: raw.toString('utf8'), contentType, body: parsed.body, violations: [],
    };
    requests.push(captured);
    const violation = (location: string, rule: string, message: string) => {
      const v: Violation = { location, rule, message, method: captured.method, path: captured.path, ...(captured.operationId ? { operationId: captured.operationId } : {}) };
      captured.violations.push(v);
      violations.push(v);
      if (options.log) console.warn(`[spec-server] ${v.method} ${v.path} ${location} (${rule}): ${message}`);
    };
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      captured.status = status;
      captured.responseBody = body;
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        ...(text ? { 'content-type': 'application/json' } : {}),
        ...headers,
        ...(captured.violations.length ? { 'x-spec-violations': asciiJson(captured.violations.map(({ location, message }) => ({ location, message }))).slice(0, 4000) } : {}),
      });
      res.end(text);
    };
    const refuse = () => {
      const securityOnly = captured.violations.every((v) => v.location === 'security');
      send(securityOnly ? 401 : 400, { message: `request violates the ${captured.operationId} spec: ${captured.violations.map((v) => `${v.location}: ${v.message}`).join('; ')}`, violations: captured.violations });
    };

    const oaReq = { method, path: url.pathname, query: rawQuery, headers: req.headers as Record<string, string | string[]>, body: parsed.body as any };
    const op = api.router.matchOperation(oaReq) as (Operation & AnyObj) | undefined;
    if (!op && tokenPaths.has(url.pathname)) {
      captured.operationId = TOKEN_OPERATION;
      for (const p of judgeTokenRequest(captured.method, contentType, parsed.body, req.headers)) violation(p.location, p.rule, p.message);
      if (captured.violations.length) refuse();
      else send(200, tokenAnswer());
      return;
    }
    if (!op) {
      const pathKnown = HTTP_METHODS.some((m) => api.router.matchOperation({ ...oaReq, method: m }) !== undefined);
      violation('route', 'route', pathKnown ? `${captured.method} is not an operation of ${url.pathname} in the spec` : `no operation in the spec matches ${captured.method} ${url.pathname}${basePath ? ` (spec base path ${basePath})` : ''}`);
      send(pathKnown ? 405 : 404, { message: 'not in the spec', violations: captured.violations });
      return;
    }
    captured.operationId = op.operationId;

    // Content type and body presence.
    const declared = ((op.requestBody as AnyObj | undefined)?.content ?? {}) as AnyObj;
    const actualType = mediaType(contentType);
    let useApi = api;
    if (raw.length > 0) {
      if (!op.requestBody) violation('content-type', 'content-type', `${op.operationId} takes no request body, got ${raw.length} bytes (${actualType || 'no content-type'})`);
      else if (!Object.keys(declared).some((d) => mediaMatches(d, actualType))) violation('content-type', 'content-type', `${op.operationId} accepts ${Object.keys(declared).join(', ')}, got ${actualType || 'no content-type'}`);
      if (parsed.error) violation('request.body', 'parse', parsed.error);
      if (FORM_TYPES.includes(actualType) && formApi) useApi = formApi;
      else if (strictApi) useApi = strictApi;
    }

    // Parameters and body against the schema.
    try {
      // Ajv coercion rewrites the data it validates: give it a copy, keep the captured body as sent.
      let body = structuredClone(oaReq.body);
      if (FORM_TYPES.includes(actualType)) body = formArrays(body, declared[actualType]);
      const result = useApi.validator.validateRequest({ ...oaReq, body }, op.operationId!);
      for (const e of result.errors ?? []) {
        const { location, field } = ajvLocation(e.instancePath, (e.params ?? {}) as AnyObj, e.keyword);
        const detail = e.keyword === 'additionalProperties' ? `unknown field "${field}" (${e.message})` : e.keyword === 'required' ? `missing required field "${field}"` : `${e.message}${e.keyword === 'enum' ? `: ${JSON.stringify((e.params as AnyObj).allowedValues)}` : ''}`;
        violation(location, e.keyword, detail);
      }
      // A media type openapi-backend leaves unchecked (multipart/related): its parsed parts against its schema.
      const otherSchema = actualType === 'multipart/related' && !parsed.error ? (declared[actualType]?.schema as AnyObj | undefined) : undefined;
      for (const e of otherSchema ? validateOtherMediaBody(otherSchema, parsed.body) : []) {
        const { location, field } = ajvLocation(`/requestBody${e.instancePath}`, e.params, e.keyword);
        violation(location, e.keyword, e.keyword === 'additionalProperties' ? `unknown field "${field}" (${e.message})` : e.keyword === 'required' ? `missing required field "${field}"` : String(e.message));
      }
    } catch (err) {
      violation('harness', 'harness', `the spec's schemas for ${op.operationId} cannot be compiled/validated: ${(err as Error).message}`);
    }

    // Security.
    const sec = checkSecurity(deref, op, req.headers, captured.query);
    if (sec) violation('security', 'security', sec);
    if (captured.violations.length) return refuse();

    // Answer.
    const custom = options.respond?.(captured, op);
    const { status: okStatus, response } = successResponse(op);
    const status = custom?.status ?? okStatus;
    let body: unknown;
    if (custom && 'body' in custom) {
      body = custom.body;
      if (body !== undefined) {
        try {
          for (const message of responseChecker.check(op, status, body, custom.specResponse)) responseIssues.push({ operationId: op.operationId!, status, message });
        } catch (err) {
          responseIssues.push({ operationId: op.operationId!, status, message: `response schema cannot be compiled: ${(err as Error).message}` });
        }
      }
    } else {
      body = mockBody(useApi, op, okStatus, response);
    }
    send(status, body, custom?.headers);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      const v: Violation = { location: 'harness', rule: 'harness', message: `spec server error: ${(err as Error).stack ?? err}`, method: req.method ?? '', path: req.url ?? '' };
      violations.push(v);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: v.message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: origin + basePath,
    origin,
    basePath,
    fixups: [...fixups],
    requests,
    violations,
    responseIssues,
    api,
    definition: deref,
    baseUrlFor(connectorBaseUrl) {
      const p = connectorBaseUrl ? new URL(connectorBaseUrl).pathname.replace(/\/+$/, '') : '';
      return origin + p;
    },
    reset() {
      requests.length = 0;
      violations.length = 0;
      responseIssues.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function specBasePath(definition: AnyObj): string {
  const server = definition.servers?.[0]?.url as string | undefined;
  if (!server) return '';
  try {
    return new URL(server, 'http://x').pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/** JSON with every non-printable-ASCII character escaped, safe in an HTTP header. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function hasBodyType(definition: AnyObj, pred: (type: string) => boolean): boolean {
  for (const item of Object.values<AnyObj>(definition.paths ?? {})) {
    for (const [k, op] of Object.entries<AnyObj>(item)) {
      if (!HTTP_METHODS.includes(k)) continue;
      let rb = op?.requestBody as AnyObj | undefined;
      if (rb?.$ref) rb = resolveRef(definition, rb.$ref);
      if (Object.keys(rb?.content ?? {}).some((t) => pred(t.toLowerCase()))) return true;
    }
  }
  return false;
}

/** The spec's example for the success response, else openapi-backend's mock, else a minimal object from the schema. */
function mockBody(api: OpenAPIBackend, op: AnyObj, status: number, response: AnyObj | undefined): unknown {
  const media = jsonMedia(response)?.media;
  if (!media) return undefined; // e.g. SendGrid's 202 without a body
  const example = mediaExample(media);
  if (example !== undefined) return example;
  if (media.schema && !isCyclic(media.schema)) {
    try {
      return api.mockResponseForOperation(op.operationId, { code: status }).mock;
    } catch {
      /* fall through */
    }
  }
  return minimalFromSchema(media.schema);
}

/** A minimal body for the operation's success response (required fields only), to extend in `respond` callbacks. */
export function minimalSuccessBody(op: Operation): Record<string, unknown> {
  const { response } = successResponse(op as AnyObj);
  const m = jsonMedia(response);
  const v = m ? minimalFromSchema(m.media.schema) : {};
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/** The spec's own example body for one response (e.g. '403', 'default') of an operation, if it has one. */
export function responseExample(server: Pick<SpecServer, 'api'>, operationId: string, responseKey: string): unknown {
  const op = server.api.router.getOperation(operationId) as AnyObj | undefined;
  return mediaExample(jsonMedia(op?.responses?.[responseKey])?.media);
}
