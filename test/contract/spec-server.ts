// A loopback HTTP server that judges requests by a provider's OFFICIAL OpenAPI spec
// (/work/shared/provider-specs/<provider>/…), for connector contract tests.
//
// For every request it captures method, path, query, headers and raw body, parses the body by its
// content type, matches the spec operation, validates parameters and body with openapi-backend
// (Ajv), checks the operation's security requirement, and records every problem as a violation.
// It answers with the spec's example for the success response, else a mock generated from the
// response schema. Requests with violations are answered 400 (401 for security, 404 for unknown
// routes), like the real API would, so the engine does not report success for them.
//
// Spec fix-ups (see /work/shared/provider-specs/README.md) are applied to an in-memory copy only.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import qs from 'qs';
import YAML from 'yaml';
import { OpenAPIBackend, type Document, type Operation } from 'openapi-backend';
import AjvModule, { type Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
// swagger2openapi ships no types; its shape is declared in ./swagger2openapi.d.ts.
import swagger2openapi from 'swagger2openapi';

// ajv-formats ships CommonJS; under NodeNext its default import may be the module object.
const AjvClass = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as unknown as new (opts: object) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => void;

export const SPECS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/provider-specs');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type AnyObj = Record<string, any>; // spec documents are untyped JSON here

export interface Violation {
  /** Where the problem is: route, security, content-type, request.body.<field>, request.query.<name>, request.header.<name>, request.path.<name>, harness. */
  location: string;
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
  /** Changes to the in-memory (already converted, not yet dereferenced) copy of the spec. */
  fixups?: Array<(doc: AnyObj) => void>;
  /**
   * Answer a request with a body of your own (e.g. a realistic payment intent). It is validated
   * against the spec's response schema for that status; mismatches are recorded in responseIssues.
   */
  respond?: (req: CapturedRequest, op: Operation) => MockResponse | undefined;
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

// ---------------------------------------------------------------------------------------------
// Loading and fix-ups

const docCache = new Map<string, AnyObj>();

/** Parse a spec file (YAML with unlimited aliases, or JSON). The result is a fresh deep copy. */
export function readSpecFile(file: string): AnyObj {
  const abs = path.isAbsolute(file) ? file : path.join(SPECS_DIR, file);
  let doc = docCache.get(abs);
  if (!doc) {
    const text = fs.readFileSync(abs, 'utf8');
    doc = (/\.json$/i.test(abs) ? JSON.parse(text) : YAML.parse(text, { maxAliasCount: -1 })) as AnyObj;
    docCache.set(abs, doc);
  }
  return structuredClone(doc);
}

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

/**
 * Swagger 2.0 -> OpenAPI 3.0 with swagger2openapi. swagger2openapi turns formData parameters into
 * form/multipart bodies only, dropping `application/json` even when the operation `consumes` it;
 * we restore it (same schema) so that a JSON body the spec allows is judged, not refused.
 */
export async function convertSwagger2(doc: AnyObj): Promise<AnyObj> {
  const original = structuredClone(doc);
  const { openapi } = await swagger2openapi.convertObj(doc, { patch: true, warnOnly: true, resolveInternal: false });
  for (const [p, item] of Object.entries<AnyObj>(openapi.paths ?? {})) {
    for (const [method, op] of Object.entries<AnyObj>(item)) {
      const orig = original.paths?.[p]?.[method];
      if (!orig || !op?.requestBody?.content) continue;
      const consumes: string[] = orig.consumes ?? original.consumes ?? [];
      const content = op.requestBody.content as AnyObj;
      if (consumes.includes('application/json') && !content['application/json']) {
        const form = FORM_TYPES.map((t) => content[t]).find(Boolean);
        if (form) content['application/json'] = { schema: structuredClone(form.schema) };
      }
    }
  }
  return openapi as AnyObj;
}

/** Removes a header parameter (by name, case-insensitive) from every operation and path item. */
export function dropHeaderParam(name: string): (doc: AnyObj) => void {
  const lower = name.toLowerCase();
  const keep = (params: AnyObj[] | undefined, doc: AnyObj) =>
    params?.filter((p) => {
      const r = p.$ref ? resolveRef(doc, p.$ref) : p;
      return !(r?.in === 'header' && String(r?.name).toLowerCase() === lower);
    });
  return (doc) => {
    for (const item of Object.values<AnyObj>(doc.paths ?? {})) {
      if (item.parameters) item.parameters = keep(item.parameters, doc);
      for (const [k, op] of Object.entries<AnyObj>(item)) if (HTTP_METHODS.includes(k) && op?.parameters) op.parameters = keep(op.parameters, doc);
    }
  };
}

function resolveRef(doc: AnyObj, ref: string): AnyObj | undefined {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<AnyObj | undefined>((o, k) => o?.[k], doc);
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The official spec of each provider covered by the contract tests, with the fix-ups it needs. */
export const PROVIDER_SPECS: Record<string, { file: string; fixups: Array<(doc: AnyObj) => void>; notes: string[] }> = {
  stripe: { file: 'stripe/spec3.yaml', fixups: [], notes: ['format unix-time registered as a no-op format'] },
  twilio: { file: 'twilio/twilio_api_v2010.json', fixups: [], notes: ['format phone-number registered as a no-op format'] },
  sendgrid: { file: 'sendgrid/tsg_mail_v3.json', fixups: [], notes: [] },
  slack: {
    file: 'slack/slack_web_openapi_v2.json',
    // Real Slack takes `Authorization: Bearer xoxb-…`; the spec models it as a required header
    // literally named `token`. Drop that parameter; the oauth2 security (slackAuth) is checked as Bearer.
    fixups: [dropHeaderParam('token')],
    notes: ['Swagger 2.0 converted with swagger2openapi', 'header parameter `token` dropped; oauth2 slackAuth checked as Authorization: Bearer', 'application/json restored on operations whose `consumes` lists it'],
  },
  plaid: { file: 'plaid/2020-09-14.yml', fixups: [], notes: ['security = PLAID-CLIENT-ID AND PLAID-SECRET AND Plaid-Version headers'] },
};

/** Loads a provider's official spec as an OpenAPI 3 document with its fix-ups applied (in memory). */
export async function loadProviderSpec(provider: string): Promise<AnyObj> {
  const entry = PROVIDER_SPECS[provider];
  if (!entry) throw new Error(`no spec registered for provider "${provider}"`);
  let doc = readSpecFile(entry.file);
  if (doc.swagger === '2.0') doc = await convertSwagger2(doc);
  for (const f of entry.fixups) f(doc);
  return doc;
}

/**
 * OAS 3.0 allows `nullable: true` beside anyOf/oneOf/allOf/$ref without a `type` (Stripe does this
 * everywhere); Ajv refuses to compile that ("nullable" cannot be used without "type"). Rewrite it to
 * the same meaning Ajv understands: an extra `{type: 'null'}` alternative. In place, on our copy.
 */
export function normaliseNullable(node: unknown, seen = new Set<unknown>()): void {
  if (!node || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const v of node) normaliseNullable(v, seen);
    return;
  }
  const o = node as AnyObj;
  for (const v of Object.values(o)) normaliseNullable(v, seen);
  if (o.nullable === true && o.type === undefined) {
    delete o.nullable;
    if (Array.isArray(o.anyOf)) o.anyOf.push({ type: 'null' });
    else if (Array.isArray(o.oneOf)) o.oneOf.push({ type: 'null' });
    else {
      const rest: AnyObj = {};
      for (const k of Object.keys(o)) {
        if (k === 'description' || k === 'title') continue;
        rest[k] = o[k];
        delete o[k];
      }
      o.anyOf = [rest, { type: 'null' }];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers over the dereferenced spec

function collectFormats(node: unknown, out: Set<string>, seen = new Set<unknown>()): Set<string> {
  if (!node || typeof node !== 'object' || seen.has(node)) return out;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const v of node) collectFormats(v, out, seen);
    return out;
  }
  const o = node as AnyObj;
  if (typeof o.format === 'string' && (typeof o.type === 'string' || Array.isArray(o.type) || o.type === undefined)) out.add(o.format);
  for (const v of Object.values(o)) collectFormats(v, out, seen);
  return out;
}

const AJV_FORMATS_KNOWN = new Set([
  'date', 'time', 'date-time', 'iso-time', 'iso-date-time', 'duration', 'uri', 'uri-reference', 'uri-template', 'url', 'email', 'hostname',
  'ipv4', 'ipv6', 'regex', 'uuid', 'json-pointer', 'json-pointer-uri-fragment', 'relative-json-pointer', 'byte', 'int32', 'int64', 'float',
  'double', 'password', 'binary',
]);

function mediaType(contentType: string | undefined): string {
  return String(contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function mediaMatches(declared: string, actual: string): boolean {
  const d = declared.toLowerCase();
  if (d === actual || d === '*/*') return true;
  if (d.endsWith('/*')) return actual.startsWith(d.slice(0, -1));
  return false;
}

function isCyclic(node: unknown, stack = new Set<unknown>()): boolean {
  if (!node || typeof node !== 'object') return false;
  if (stack.has(node)) return true;
  stack.add(node);
  for (const v of Object.values(node as AnyObj)) if (isCyclic(v, stack)) return true;
  stack.delete(node);
  return false;
}

/** A minimal value for a schema: required properties only, first enum value, first usable anyOf/oneOf branch; cycle-safe. */
export function minimalFromSchema(schema: AnyObj | undefined, stack: Set<unknown> = new Set()): Json {
  if (!schema || typeof schema !== 'object') return null;
  if (schema.example !== undefined) return schema.example as Json;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0] as Json;
  if (schema.const !== undefined) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length) return (schema.enum.find((v: unknown) => v !== null) ?? schema.enum[0]) as Json;
  if (schema.default !== undefined) return schema.default as Json;
  if (stack.has(schema)) return null;
  stack.add(schema);
  try {
    if (Array.isArray(schema.allOf)) {
      const parts = schema.allOf.map((s: AnyObj) => minimalFromSchema(s, stack));
      return parts.every((p: Json) => p && typeof p === 'object' && !Array.isArray(p)) ? Object.assign({}, ...parts) : parts[0];
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (Array.isArray(schema[key])) {
        const branch = (schema[key] as AnyObj[]).find((b) => !stack.has(b) && !(b.nullable && !b.type)) ?? schema[key][0];
        return minimalFromSchema(branch, stack);
      }
    }
    let type = schema.type;
    if (Array.isArray(type)) type = type.find((t: string) => t !== 'null') ?? 'null';
    if (!type) type = schema.properties ? 'object' : schema.items ? 'array' : 'string';
    switch (type) {
      case 'object': {
        const out: Record<string, Json> = {};
        for (const name of (schema.required as string[] | undefined) ?? []) {
          const prop = schema.properties?.[name] as AnyObj | undefined;
          out[name] = prop ? (stack.has(prop) && prop.nullable ? null : minimalFromSchema(prop, stack)) : 'string';
        }
        return out;
      }
      case 'array': {
        const n = Number(schema.minItems ?? 0);
        return Array.from({ length: n }, () => minimalFromSchema(schema.items as AnyObj, stack));
      }
      case 'integer':
      case 'number':
        return Number(schema.minimum ?? 0);
      case 'boolean':
        return false;
      case 'null':
        return null;
      default: {
        const format = schema.format as string | undefined;
        if (format === 'date-time') return '2024-01-01T00:00:00Z';
        if (format === 'date') return '2024-01-01';
        if (format === 'email') return 'user@example.com';
        if (format === 'uri' || format === 'url') return 'https://example.com/';
        if (format === 'uuid') return '00000000-0000-4000-8000-000000000000';
        if (format === 'unix-time') return 0;
        const min = Number(schema.minLength ?? 0);
        return 'string'.padEnd(Math.max(min, 6), 'x');
      }
    }
  } finally {
    stack.delete(schema);
  }
}

function successResponse(op: AnyObj): { status: number; response?: AnyObj } {
  const responses = (op.responses ?? {}) as AnyObj;
  const codes = Object.keys(responses).filter((c) => /^2\d\d$/.test(c)).sort();
  if (codes.length) return { status: Number(codes[0]), response: responses[codes[0]!] };
  if (responses['2XX']) return { status: 200, response: responses['2XX'] };
  return { status: 200, response: undefined };
}

function jsonMedia(response: AnyObj | undefined): { type: string; media: AnyObj } | undefined {
  const content = response?.content as AnyObj | undefined;
  if (!content) return undefined;
  const type = content['application/json'] ? 'application/json' : Object.keys(content).find((t) => /json/i.test(t)) ?? Object.keys(content)[0];
  return type ? { type, media: content[type] } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Security

function checkScheme(scheme: AnyObj | undefined, name: string, headers: CapturedRequest['headers'], query: Record<string, unknown>): string | undefined {
  if (!scheme) return `security scheme "${name}" is not defined in the spec`;
  const header = (h: string) => {
    const v = headers[h.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const authorization = header('authorization') ?? '';
  const bearer = () => (/^Bearer\s+\S+/i.test(authorization) ? undefined : `${name}: needs "Authorization: Bearer <token>"${authorization ? ` (got "${authorization.split(' ')[0]} …")` : ' (no Authorization header)'}`);
  switch (scheme.type) {
    case 'http': {
      const s = String(scheme.scheme ?? '').toLowerCase();
      if (s === 'basic') {
        const m = /^Basic\s+(\S+)$/i.exec(authorization);
        if (!m) return `${name}: needs "Authorization: Basic <base64(user:password)>"${authorization ? ` (got "${authorization.split(' ')[0]} …")` : ' (no Authorization header)'}`;
        const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
        if (!decoded.includes(':') || decoded.startsWith(':')) return `${name}: Basic credentials must decode to "user:password" with a non-empty user`;
        return undefined;
      }
      if (s === 'bearer') return bearer();
      return new RegExp(`^${s}\\s+\\S+`, 'i').test(authorization) ? undefined : `${name}: needs "Authorization: ${scheme.scheme} …"`;
    }
    case 'oauth2':
    case 'openIdConnect':
      return bearer();
    case 'apiKey': {
      const key = String(scheme.name);
      if (scheme.in === 'header') return header(key) ? undefined : `${name}: needs header "${key}"`;
      if (scheme.in === 'query') return query[key] !== undefined && query[key] !== '' ? undefined : `${name}: needs query parameter "${key}"`;
      if (scheme.in === 'cookie') return new RegExp(`(^|;\\s*)${key}=`).test(header('cookie') ?? '') ? undefined : `${name}: needs cookie "${key}"`;
      return `${name}: unsupported apiKey location "${scheme.in}"`;
    }
    default:
      return `${name}: unsupported security scheme type "${scheme.type}"`;
  }
}

/** Alternatives in the security array are OR; the schemes inside one requirement are AND. */
export function checkSecurity(definition: AnyObj, op: AnyObj, headers: CapturedRequest['headers'], query: Record<string, unknown>): string | undefined {
  const requirements = (op.security ?? definition.security ?? []) as AnyObj[];
  if (!requirements.length) return undefined;
  const schemes = (definition.components?.securitySchemes ?? {}) as AnyObj;
  const failed: string[] = [];
  for (const requirement of requirements) {
    const names = Object.keys(requirement);
    if (!names.length) return undefined; // {} = anonymous access allowed
    const problems = names.map((n) => checkScheme(schemes[n], n, headers, query)).filter((p): p is string => !!p);
    if (!problems.length) return undefined;
    failed.push(problems.join(' AND '));
  }
  return failed.length === 1 ? failed[0] : `no security requirement met: ${failed.map((f) => `(${f})`).join(' OR ')}`;
}

// ---------------------------------------------------------------------------------------------
// Body parsing

async function parseBody(raw: Buffer, contentType: string | undefined): Promise<{ body?: unknown; error?: string }> {
  if (raw.length === 0) return {};
  const type = mediaType(contentType);
  const text = raw.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { body: JSON.parse(text) };
    } catch (err) {
      return { body: text, error: `body is not valid JSON: ${(err as Error).message}` };
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    // qs nests Stripe's metadata[k]=v / deepObject keys and turns repeated keys (Twilio) into arrays.
    return { body: qs.parse(text, { depth: 20, arrayLimit: 1000, parameterLimit: 10_000, allowDots: false }) };
  }
  if (type === 'multipart/form-data') {
    try {
      const fd = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType! } }).formData();
      const out: Record<string, unknown> = {};
      for (const [k, v] of fd.entries()) {
        const value = typeof v === 'string' ? v : `<file ${(v as File).name}>`;
        const prev = out[k];
        out[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      return { body: out };
    } catch (err) {
      return { body: text, error: `multipart body cannot be parsed: ${(err as Error).message}` };
    }
  }
  return { body: text };
}

// ---------------------------------------------------------------------------------------------
// Validators

async function makeBackend(definition: AnyObj, coerceBodies: boolean, apiRoot: string): Promise<OpenAPIBackend> {
  const formats = collectFormats(definition, new Set());
  const extraFormats = [...formats].filter((f) => !AJV_FORMATS_KNOWN.has(f));
  const api = new OpenAPIBackend({
    definition: definition as Document,
    quick: true,
    strict: false,
    validate: true,
    apiRoot,
    ignoreTrailingSlashes: false,
    // Form values are strings on the wire ("2000", "true"); coerce them to the schema's types.
    // (A single value of a form-style array property is wrapped beforehand: see formArrays().)
    ajvOpts: { strict: false, allErrors: true, coerceTypes: coerceBodies },
    customizeAjv: (ajv) => {
      addFormats(ajv as unknown as Ajv);
      // Formats Ajv does not know (Stripe unix-time, Twilio phone-number, …): accept, as Prism does.
      for (const f of extraFormats) ajv.addFormat(f, { validate: () => true });
      return ajv;
    },
  });
  await api.init();
  return api;
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

function ajvLocation(instancePath: string, params: AnyObj, keyword: string): { location: string; field?: string } {
  const segs = instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = keyword === 'additionalProperties' ? params.additionalProperty : keyword === 'required' ? params.missingProperty : undefined;
  if (extra !== undefined) segs.push(String(extra));
  const [root, ...rest] = segs;
  const prefix = root === 'requestBody' ? 'request.body' : root === 'header' ? 'request.header' : root === 'query' ? 'request.query' : root === 'path' ? 'request.path' : root === 'cookie' ? 'request.cookie' : `request${root ? `.${root}` : ''}`;
  return { location: [prefix, ...rest].join('.'), field: extra !== undefined ? String(extra) : rest[rest.length - 1] };
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startSpecServer(spec: string | AnyObj, options: SpecServerOptions = {}): Promise<SpecServer> {
  let definition: AnyObj = typeof spec === 'string' ? (PROVIDER_SPECS[spec] ? await loadProviderSpec(spec) : readSpecFile(spec)) : structuredClone(spec);
  if (definition.swagger === '2.0') definition = await convertSwagger2(definition);
  for (const f of options.fixups ?? []) f(definition);
  normaliseNullable(definition);

  const basePath = specBasePath(definition);
  const apiRoot = basePath || '/';
  const hasForm = hasBodyType(definition, (t) => FORM_TYPES.includes(t));
  const hasOther = hasBodyType(definition, (t) => !FORM_TYPES.includes(t));
  // Form bodies need type coercion, JSON bodies must not get it: one backend per kind.
  const formApi = hasForm ? await makeBackend(structuredClone(definition), true, apiRoot) : undefined;
  const strictApi = hasOther || !hasForm ? await makeBackend(structuredClone(definition), false, apiRoot) : undefined;
  const api = (strictApi ?? formApi)!;
  const deref = api.definition as AnyObj;

  const responseChecker = new ResponseChecker(collectFormats(deref, new Set()));
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
      method: method.toUpperCase(),
      path: url.pathname,
      query: qs.parse(rawQuery, { depth: 20, arrayLimit: 1000 }) as Record<string, unknown>,
      rawQuery,
      headers: { ...req.headers },
      rawBody: raw.toString('utf8'),
      contentType,
      body: parsed.body,
      violations: [],
    };
    requests.push(captured);
    const violation = (location: string, message: string) => {
      const v: Violation = { location, message, method: captured.method, path: captured.path, ...(captured.operationId ? { operationId: captured.operationId } : {}) };
      captured.violations.push(v);
      violations.push(v);
      if (options.log) console.warn(`[spec-server] ${v.method} ${v.path} ${location}: ${message}`);
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

    const oaReq = { method, path: url.pathname, query: rawQuery, headers: req.headers as Record<string, string | string[]>, body: parsed.body as any };
    const op = api.router.matchOperation(oaReq) as (Operation & AnyObj) | undefined;
    if (!op) {
      const pathKnown = HTTP_METHODS.some((m) => api.router.matchOperation({ ...oaReq, method: m }) !== undefined);
      violation('route', pathKnown ? `${captured.method} is not an operation of ${url.pathname} in the spec` : `no operation in the spec matches ${captured.method} ${url.pathname}${basePath ? ` (spec base path ${basePath})` : ''}`);
      send(pathKnown ? 405 : 404, { message: 'not in the spec', violations: captured.violations });
      return;
    }
    captured.operationId = op.operationId;

    // Content type and body presence.
    const declared = ((op.requestBody as AnyObj | undefined)?.content ?? {}) as AnyObj;
    const actualType = mediaType(contentType);
    let useApi = api;
    if (raw.length > 0) {
      if (!op.requestBody) violation('content-type', `${op.operationId} takes no request body, got ${raw.length} bytes (${actualType || 'no content-type'})`);
      else if (!Object.keys(declared).some((d) => mediaMatches(d, actualType)))
        violation('content-type', `${op.operationId} accepts ${Object.keys(declared).join(', ')}, got ${actualType || 'no content-type'}`);
      if (parsed.error) violation('request.body', parsed.error);
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
        violation(location, detail);
      }
    } catch (err) {
      violation('harness', `the spec's schemas for ${op.operationId} cannot be compiled/validated: ${(err as Error).message}`);
    }

    // Security.
    const sec = checkSecurity(deref, op, req.headers, captured.query);
    if (sec) violation('security', sec);

    if (captured.violations.length) {
      const securityOnly = captured.violations.every((v) => v.location === 'security');
      send(securityOnly ? 401 : 400, { message: `request violates the ${op.operationId} spec: ${captured.violations.map((v) => `${v.location}: ${v.message}`).join('; ')}`, violations: captured.violations });
      return;
    }

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
      const v: Violation = { location: 'harness', message: `spec server error: ${(err as Error).stack ?? err}`, method: req.method ?? '', path: req.url ?? '' };
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

/**
 * Checks the bodies of `respond` callbacks against the spec's response schema. Stripe's response
 * schemas expand into its whole (cyclic) object graph, which takes Ajv 20+ s to compile; the check
 * therefore cuts the schema at a nesting depth (deeper values are accepted as they are), which still
 * covers everything a callback sets.
 */
class ResponseChecker {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction | null>();
  constructor(formats: Set<string>) {
    this.ajv = new AjvClass({ strict: false, allErrors: true });
    addFormats(this.ajv);
    for (const f of formats) if (!AJV_FORMATS_KNOWN.has(f) || ['byte', 'int32', 'int64', 'float', 'double', 'password', 'binary'].includes(f)) this.ajv.addFormat(f, { validate: () => true });
  }
  check(op: AnyObj, status: number, body: unknown, specResponse?: string): string[] {
    const key = `${op.operationId} ${specResponse ?? status}`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      const responses = (op.responses ?? {}) as AnyObj;
      const response = specResponse ? responses[specResponse] : responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
      if (!response) throw new Error(`the spec documents no response ${specResponse ?? status} for ${op.operationId}`);
      const schema = jsonMedia(response)?.media.schema as AnyObj | undefined;
      validate = schema ? this.ajv.compile(truncateSchema(schema, 2)) : null;
      this.cache.set(key, validate);
    }
    if (!validate) return [];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}

const SCHEMA_MAPS = ['properties', 'patternProperties'];
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf'];
const SCHEMA_SINGLES = ['items', 'additionalProperties', 'not'];

/** A copy of a (dereferenced, possibly cyclic) schema in which values nested deeper than `depth` are unconstrained. */
export function truncateSchema(schema: AnyObj, depth: number, hops = 0): AnyObj {
  if (!schema || typeof schema !== 'object') return schema;
  if (depth < 0 || hops > 24) return {};
  const out: AnyObj = {};
  for (const [k, v] of Object.entries(schema)) {
    if (SCHEMA_MAPS.includes(k) && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v as AnyObj).map(([n, s]) => [n, truncateSchema(s as AnyObj, depth - 1, hops + 1)]));
    else if (SCHEMA_LISTS.includes(k) && Array.isArray(v)) out[k] = v.map((s) => truncateSchema(s as AnyObj, depth, hops + 1));
    else if (SCHEMA_SINGLES.includes(k) && v && typeof v === 'object') out[k] = truncateSchema(v as AnyObj, depth - 1, hops + 1);
    else if (k !== 'example' && k !== 'examples' && k !== 'x-expansionResources') out[k] = v;
  }
  return out;
}

/**
 * OAS form encoding: with the default style (form, explode) an array property is sent as repeated
 * keys, so one `MediaUrl=x` is a one-item array. With style deepObject (Stripe) an array must be sent
 * as `key[0]=x` / `key[]=x` (qs already makes those arrays), and a bare `key=x` stays a scalar.
 */
function formArrays(body: unknown, media: AnyObj | undefined): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body) || !media?.schema) return body;
  const props = (media.schema.properties ?? {}) as AnyObj;
  const out = { ...(body as AnyObj) };
  for (const [k, v] of Object.entries(out)) {
    const schema = props[k] as AnyObj | undefined;
    const style = media.encoding?.[k]?.style ?? 'form';
    const isArray = schema && (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array')));
    if (isArray && !Array.isArray(v) && typeof v !== 'object' && style === 'form') out[k] = [v];
  }
  return out;
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
  const m = jsonMedia(response);
  if (!m) return undefined; // e.g. SendGrid's 202 without a body
  const { media } = m;
  if (media.example !== undefined) return media.example;
  if (media.examples && Object.keys(media.examples).length) {
    const first = media.examples[Object.keys(media.examples)[0]!];
    if (first?.value !== undefined) return first.value;
  }
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
export function minimalSuccessBody(op: Operation): Record<string, Json> {
  const { response } = successResponse(op as AnyObj);
  const m = jsonMedia(response);
  const v = m ? minimalFromSchema(m.media.schema) : {};
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/** The spec's own example body for one response (e.g. '403', 'default') of an operation, if it has one. */
export function responseExample(server: Pick<SpecServer, 'api'>, operationId: string, responseKey: string): unknown {
  const op = server.api.router.getOperation(operationId) as AnyObj | undefined;
  const media = jsonMedia(op?.responses?.[responseKey])?.media;
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const first = media.examples ? media.examples[Object.keys(media.examples)[0]!] : undefined;
  return first?.value;
}
