// Resolve a schema-valid manifest into a Connector: every template and expression compiled once,
// plus the semantic checks Ajv cannot do (known capabilities, template roots, declared credentials,
// JSONata syntax, examples that match their capability schema).
import type { Manifest, RequestSpec, ErrorsSpec, ExampleSpec, AuthSpec, CredentialField, RetrySpec, RateLimitSpec } from './types.ts';
import type { ManifestIssue, SourceMap, PathSegment } from './source-map.ts';
import { connectorAjv, lazyValidator, type ValidateFunction } from './ajv.ts';
import { loadCapabilitySchemas, capabilitySchemaOf, type CapabilitySchema, type JsonSchema } from './capability-schemas.ts';
import { compileTemplate, deferredTemplate, TemplateSyntaxError, TEMPLATE_ROOTS, TEMPLATE_HELPERS, type CompiledTemplate, type TemplateRoot } from '../lang/templates.ts';
import { compileExpression, deferredExpression, ExpressionSyntaxError, KNOWN_FUNCTIONS, type CompiledExpression } from '../lang/expressions.ts';
import { didYouMean } from './suggest.ts';
import type { CompiledRequest } from './compiled-request.ts';
import { smtpIssues } from './smtp.ts';
import { credentialsJsonSchema } from './credentials-schema.ts';
import { compileStreams, compileWriteBacks, STREAM_ROOTS, type CompiledStream, type CompiledWriteBack, type StreamCompiler } from './streams.ts';
export type { CompiledRequest };

export interface CompiledErrors {
  when?: CompiledExpression;
  message?: CompiledExpression;
  code?: CompiledExpression;
}

export interface CompiledCapability {
  name: string;
  description: string;
  schema: CapabilitySchema;
  /** HTTP capabilities; an smtp one has `smtp` instead (runtime/manifest/smtp.ts). */
  request?: CompiledRequest;
  smtp?: { message: CompiledExpression };
  response: CompiledExpression;
  errors: CompiledErrors;
  timeoutMs: number;
  examples: ExampleSpec[];
  /** Write-back into a stream's records on success. */
  record?: CompiledWriteBack;
}

export interface CompiledAuth {
  spec: AuthSpec;
  /** Every string field of the auth block that is a template, compiled (username, token, client_id, token_url,
   *  authorization_url, revocation_url, headers.X, extra_authorize_params.X, ...). */
  templates: Map<string, CompiledTemplate>;
  /** oauth2_authorization_code: JSONata mapping a token response (object) to the connection object. */
  connection?: CompiledExpression;
}

export interface Connector {
  name: string;
  displayName: string;
  category: string;
  description: string;
  file: string;
  manifest: Manifest;
  auth: CompiledAuth;
  credentialSchema: Record<string, CredentialField>;
  /** JSON Schema of the credentials object, generated from credential_schema. */
  credentialsJsonSchema: JsonSchema;
  validateCredentials: ValidateFunction;
  sensitiveFields: string[];
  /** The manifest's base_url when it is a plain URL. */
  baseUrl?: string;
  /** The manifest's base_url when it is a template (it reads only connection.*). */
  baseUrlTemplate?: CompiledTemplate;
  /** Base URL of each environment. */
  environments: Record<string, string>;
  /** OAuth hosts an environment sets instead of the auth block's (DESIGN §10 "OAuth hosts"). */
  environmentOAuth: Record<string, { authorization_url?: string; token_url?: string }>;
  verify?: { request?: CompiledRequest; success?: CompiledExpression; smtp?: boolean };
  capabilities: Map<string, CompiledCapability>;
  streams: Map<string, CompiledStream>;
  errors: CompiledErrors;
  timeoutMs: number;
  retry: Required<RetrySpec>;
  rateLimit?: RateLimitSpec;
  webhooks?: CompiledWebhooks;
}

export interface CompiledWebhooks {
  spec: import('./types.ts').WebhooksSpec;
  secret?: CompiledTemplate;
  handshake?: { when: CompiledExpression; response: CompiledExpression };
  eventId?: CompiledExpression;
  eventType?: CompiledExpression;
  /** Provider event -> the normalized event (type, data) and/or the stream it triggers. */
  events: Map<string, { type?: string; data?: CompiledExpression; triggers?: string }>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

const AUTH_TEMPLATE_FIELDS = ['value', 'username', 'password', 'token', 'client_id', 'client_secret', 'token_url', 'authorization_url', 'revocation_url', 'host', 'port', 'security', 'reject_unauthorized'] as const;
const OAUTH_CODE = 'oauth2_authorization_code';
/** Roots a template may read unless its place narrows them; `app` only where a place allows it. */
const DEFAULT_ROOTS: readonly TemplateRoot[] = ['credentials', 'input', 'integration', 'connection'];
/** Before the token exchange only the tenant's own values are known. */
const PRE_CONNECTION: Place = { kind: 'none', allow: ['credentials', 'integration'], why: 'the OAuth endpoints are called before a connection exists, so they may read only credentials.* and integration.*' };
const APP_FIELDS = ['client_id', 'client_secret'];
/** Token response fields that are never credentials of an OAuth connector. */
const TOKEN_FIELDS = ['access_token', 'refresh_token', 'id_token'];
const AUTH_TEMPLATE_MAPS = ['headers', 'query', 'extra_authorize_params'] as const;

interface Ctx {
  file: string;
  map: SourceMap;
  issues: ManifestIssue[];
  credentials: Record<string, CredentialField>;
  authType: string;
  checked: boolean; // see compileConnector
}

/** Where inside a template or expression a problem is: 0-based line and column of its source. */
type Inside = { line: number; column?: number };

function issue(ctx: Ctx, segs: PathSegment[], message: string, rule: string, inside?: Inside): void {
  const pos = ctx.map.position(segs, { inside });
  ctx.issues.push({ file: ctx.file, ...pos, path: segs.join('/'), message, rule });
}

/** 0-based line and column of a character offset in a source text. */
function insideAt(source: string, offset: number): Inside {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length - 1, column: before[before.length - 1].length };
}

/** Where `input.*` may be read: the capability's input properties, or nothing (verify, auth). */
type InputScope = { kind: 'capability'; schema: JsonSchema } | { kind: 'none' };
/** A place in the manifest: its input scope, and the roots it may read when narrower than DEFAULT_ROOTS (with why). */
type Place = InputScope & { allow?: readonly TemplateRoot[]; why?: string };

function checkRef(ctx: Ctx, segs: PathSegment[], ref: string[], scope: Place, at: Inside, what: string): void {
  const [root, field] = ref;
  if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
    issue(ctx, segs, `${what} reads "${ref.join('.')}": the root must be one of ${TEMPLATE_ROOTS.join(', ')}${didYouMean(root, TEMPLATE_ROOTS)}`, 'template_root', at);
    return;
  }
  if (root === 'connection' && ctx.authType !== OAUTH_CODE) {
    issue(ctx, segs, `${what} reads "${ref.join('.')}": connection.* exists only for ${OAUTH_CODE} connectors (this one uses ${ctx.authType})`, 'connection_root', at);
    return;
  }
  if (!(scope.allow ?? DEFAULT_ROOTS).includes(root as TemplateRoot)) {
    const why = root === 'app'
      ? `app.* (the operator's OAuth app) may be read only in auth.client_id and auth.client_secret of an ${OAUTH_CODE} connector`
      : root === 'sync' ? 'sync.* (the stream\'s cursor) may be read only in a stream\'s request' : scope.why ?? `${root}.* cannot be read here`;
    issue(ctx, segs, `${what} reads "${ref.join('.')}": ${why}`, root === 'app' ? 'app_root' : 'template_root', at);
    return;
  }
  if (root === 'credentials' && field !== undefined && !(field in ctx.credentials)) {
    issue(ctx, segs, `${what} reads "credentials.${field}", which credential_schema does not declare${didYouMean(field, Object.keys(ctx.credentials))}`, 'undeclared_credential', at);
  }
  if (root === 'input') {
    if (scope.kind === 'none') issue(ctx, segs, `${what} reads "${ref.join('.')}", but no input exists here`, 'no_input', at);
    else if (field !== undefined && !(field in (scope.schema.properties ?? {})))
      issue(ctx, segs, `${what} reads "input.${field}", which the capability's input schema does not define${didYouMean(field, Object.keys(scope.schema.properties ?? {}))}`, 'undeclared_input', at);
  }
}

function template(ctx: Ctx, source: string, segs: PathSegment[], scope: Place): CompiledTemplate {
  if (ctx.checked) return deferredTemplate(source); // compiled and checked when this text last loaded
  try {
    const t = compileTemplate(source);
    for (const ref of t.refs) checkRef(ctx, segs, ref.path, scope, { line: ref.line - 1, column: ref.column }, 'template');
    for (const h of t.helpers) if (!TEMPLATE_HELPERS.includes(h)) issue(ctx, segs, `unknown template helper "${h}" (known: ${TEMPLATE_HELPERS.join(', ')})${didYouMean(h, TEMPLATE_HELPERS)}`, 'template_helper');
    return t;
  } catch (err) {
    const at = err instanceof TemplateSyntaxError && err.line ? { line: err.line - 1, column: err.column } : undefined;
    issue(ctx, segs, (err as Error).message, 'template_syntax', at);
    return compileTemplate('');
  }
}

function expression(ctx: Ctx, source: string, segs: PathSegment[], scope: Place | 'response'): CompiledExpression {
  if (ctx.checked) return deferredExpression(source); // compiled and checked when this text last loaded
  try {
    const e = compileExpression(source);
    if (scope !== 'response') {
      for (const r of e.refs) if ((TEMPLATE_ROOTS as readonly string[]).includes(r.path[0])) checkRef(ctx, segs, r.path, scope, insideAt(source, r.offset), 'expression');
    }
    for (const c of e.calls) {
      if (!KNOWN_FUNCTIONS.has(c.name)) issue(ctx, segs, `expression calls "$${c.name}", which is no known function${didYouMean(c.name, KNOWN_FUNCTIONS, '$')}`, 'unknown_function', insideAt(source, c.offset));
    }
    return e;
  } catch (err) {
    const offset = err instanceof ExpressionSyntaxError ? err.offset : undefined;
    issue(ctx, segs, (err as Error).message, 'jsonata_syntax', offset === undefined ? undefined : insideAt(source, offset));
    return compileExpression('$');
  }
}

function compileRequest(ctx: Ctx, spec: RequestSpec, segs: PathSegment[], scope: Place): CompiledRequest {
  const bodyFormat = spec.body_format ?? 'json';
  const req: CompiledRequest = {
    method: spec.method,
    path: template(ctx, spec.path, [...segs, 'path'], scope),
    query: Object.entries(spec.query ?? {}).map(([k, v]) => [k, template(ctx, v, [...segs, 'query', k], scope)]),
    headers: Object.entries(spec.headers ?? {}).map(([k, v]) => [k, template(ctx, v, [...segs, 'headers', k], scope)]),
    bodyFormat,
    formArrays: spec.form_arrays ?? 'indexed',
  };
  // Multipart repeats a field per array item and JSON keeps arrays: form_arrays would be silently ignored.
  if (spec.form_arrays && bodyFormat !== 'form') issue(ctx, [...segs, 'form_arrays'], `form_arrays applies to body_format: form only (this request is ${bodyFormat})`, 'form_arrays');
  if (spec.body !== undefined) {
    if (bodyFormat === 'xml' || bodyFormat === 'text') req.bodyTemplate = template(ctx, spec.body, [...segs, 'body'], scope);
    else req.bodyExpression = expression(ctx, spec.body, [...segs, 'body'], scope);
  }
  return req;
}

/** A templated base_url reads connection.* (oauth2_authorization_code) or, for a provider on the tenant's own
 *  server (CalDAV), credentials.* fields that are declared non-sensitive with format uri: nothing secret
 *  and nothing the caller's input controls. */
function compileBaseUrl(ctx: Ctx, source: string): CompiledTemplate {
  const t = template(ctx, source, ['base_url'], { kind: 'none', allow: ['connection', 'credentials'], why: 'a templated base_url may read only connection.* or credentials.*' });
  for (const ref of t.refs.filter((r) => r.path[0] === 'credentials' && r.path[1] !== undefined)) {
    const f = ctx.credentials[ref.path[1]!];
    if (f && (f.sensitive || f.format !== 'uri')) issue(ctx, ['base_url'], `base_url reads "credentials.${ref.path[1]}": a credential in base_url must be declared sensitive: false and format: uri`, 'base_url_credential', { line: ref.line - 1, column: ref.column });
  }
  return t;
}

function compileErrors(ctx: Ctx, spec: ErrorsSpec | undefined, segs: PathSegment[]): CompiledErrors {
  const out: CompiledErrors = {};
  for (const k of ['when', 'message', 'code'] as const) if (spec?.[k]) out[k] = expression(ctx, spec[k]!, [...segs, k], 'response');
  return out;
}

function checkExamples(ctx: Ctx, examples: ExampleSpec[], schema: CapabilitySchema, segs: PathSegment[], authType: string): void {
  examples.forEach((ex, i) => {
    if (ex.token_response && authType !== 'oauth2_client_credentials') {
      issue(ctx, [...segs, i, 'token_response'], `only a connector with oauth2_client_credentials auth requests a token (this one uses ${authType})`, 'token_response');
    }
    if (ex.connection && authType !== OAUTH_CODE) {
      issue(ctx, [...segs, i, 'connection'], `only an ${OAUTH_CODE} connector has a connection (this one uses ${authType})`, 'example_connection');
    }
    // A misspelt credential in an example would only surface when `plugboard test` runs it.
    for (const key of Object.keys(ex.credentials ?? {})) {
      if (key in ctx.credentials || (authType === OAUTH_CODE && key === 'access_token')) continue;
      issue(ctx, [...segs, i, 'credentials', key], `example credential "${key}" is not declared in credential_schema${didYouMean(key, Object.keys(ctx.credentials))}`, 'example_credentials');
    }
    if (!schema.validateInput(ex.input)) {
      for (const e of schema.validateInput.errors ?? []) issue(ctx, [...segs, i, 'input'], `example input ${e.instancePath || ''} ${e.message}`.replace(/\s+/g, ' '), 'example_input');
    }
    if (ex.output !== undefined && !schema.validateOutput(ex.output)) {
      for (const e of schema.validateOutput.errors ?? []) issue(ctx, [...segs, i, 'output'], `example output ${e.instancePath || ''} ${e.message}`.replace(/\s+/g, ' '), 'example_output');
    }
  });
}

/** `where.checked`: this text loaded without a problem before (manifest-cache.ts): the examples go
 *  unchecked; the credentials schema, templates and JSONata expressions compile on first use. */
export function compileConnector(manifest: Manifest, where: { file: string; map: SourceMap; checked?: boolean }): { connector: Connector; issues: ManifestIssue[] } {
  const ctx: Ctx = { file: where.file, map: where.map, issues: [], credentials: manifest.credential_schema, authType: manifest.auth.type, checked: where.checked ?? false };
  const capabilitySchemas = loadCapabilitySchemas();
  // The schemas this manifest brings compile into an Ajv of its own, discarded with the connector.
  const own = connectorAjv();
  const none: InputScope = { kind: 'none' };

  if (!manifest.base_url && !manifest.environments && manifest.auth.type !== 'smtp') {
    issue(ctx, [], 'either "base_url" or "environments" is required (except for smtp auth)', 'base_url');
  }
  for (const i of smtpIssues(manifest)) issue(ctx, i.segs, i.message, i.rule);

  for (const [name, field] of Object.entries(manifest.credential_schema)) {
    if (manifest.auth.type === OAUTH_CODE && TOKEN_FIELDS.includes(name)) {
      issue(ctx, ['credential_schema', name], `"${name}" cannot be a credential of an ${OAUTH_CODE} connector: the connect flow obtains, stores and refreshes the tokens`, 'oauth_token_credential');
    }
    if (field.pattern) {
      try {
        new RegExp(field.pattern, 'u');
      } catch (err) {
        issue(ctx, ['credential_schema', name, 'pattern'], `invalid regular expression: ${(err as Error).message}`, 'pattern');
      }
    }
    if (field.default !== undefined) {
      const d = field.default;
      const okType = field.type === 'integer' ? Number.isInteger(d) : typeof d === field.type;
      if (!okType) issue(ctx, ['credential_schema', name, 'default'], `default must be ${field.type === 'integer' ? 'an integer' : `a ${field.type}`}`, 'default_type');
      else if (field.enum && !field.enum.includes(d)) issue(ctx, ['credential_schema', name, 'default'], `default must be one of the enum values: ${field.enum.join(', ')}`, 'default_enum');
    }
  }

  const isOAuthCode = manifest.auth.type === OAUTH_CODE;
  const authPlace = (f: string): Place => {
    if (!isOAuthCode) return none;
    if (APP_FIELDS.includes(f)) return { kind: 'none', allow: ['credentials', 'integration', 'app'] };
    return f === 'token_url' || f === 'authorization_url' || f === 'revocation_url' || f === 'extra_authorize_params' ? PRE_CONNECTION : none;
  };
  const authTemplates = new Map<string, CompiledTemplate>();
  for (const f of AUTH_TEMPLATE_FIELDS) {
    const v = manifest.auth[f];
    if (typeof v === 'string') authTemplates.set(f, template(ctx, v, ['auth', f], authPlace(f)));
  }
  for (const m of AUTH_TEMPLATE_MAPS) {
    for (const [k, v] of Object.entries(manifest.auth[m] ?? {})) authTemplates.set(`${m}.${k}`, template(ctx, v, ['auth', m, k], authPlace(m)));
  }
  for (const [name, env] of Object.entries(manifest.environments ?? {})) {
    const url = typeof env === 'string' ? env : env.base_url;
    if (url.includes('{{')) issue(ctx, typeof env === 'string' ? ['environments', name] : ['environments', name, 'base_url'], 'an environment\'s base URL is a plain URL, not a template (only base_url may read connection.*)', 'environment_template');
  }
  const authConnection = manifest.auth.connection ? expression(ctx, manifest.auth.connection, ['auth', 'connection'], 'response') : undefined;
  const baseUrlTemplate = manifest.base_url?.includes('{{') ? compileBaseUrl(ctx, manifest.base_url) : undefined;

  const capabilities = new Map<string, CompiledCapability>();
  for (const [name, spec] of Object.entries(manifest.capabilities)) {
    const segs = ['capabilities', name];
    const { schema, problems } = capabilitySchemaOf(name, spec, capabilitySchemas, own);
    for (const p of problems) issue(ctx, [...segs, ...p.at], p.message, p.rule);
    if (!schema) continue;
    const scope: InputScope = { kind: 'capability', schema: schema.input };
    capabilities.set(name, {
      name,
      description: spec.description ?? schema.description,
      schema,
      request: spec.request ? compileRequest(ctx, spec.request, [...segs, 'request'], scope) : undefined,
      ...(spec.smtp ? { smtp: { message: expression(ctx, spec.smtp.message, [...segs, 'smtp', 'message'], scope) } } : {}),
      response: expression(ctx, spec.response, [...segs, 'response'], 'response'),
      errors: compileErrors(ctx, spec.errors, [...segs, 'errors']),
      timeoutMs: spec.timeout_ms ?? manifest.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      examples: spec.examples ?? [],
    });
    if (!ctx.checked) checkExamples(ctx, spec.examples ?? [], schema, [...segs, 'examples'], manifest.auth.type);
  }

  const verify = manifest.verify
    ? {
        request: manifest.verify.request ? compileRequest(ctx, manifest.verify.request, ['verify', 'request'], none) : undefined,
        smtp: manifest.verify.smtp === true,
        success: manifest.verify.success ? expression(ctx, manifest.verify.success, ['verify', 'success'], 'response') : undefined,
      }
    : undefined;

  const streamCompiler: StreamCompiler = {
    issue: (segs, message, rule, at) => issue(ctx, segs, message, rule, at),
    request: (spec, segs) => compileRequest(ctx, spec, segs, { kind: 'none', allow: STREAM_ROOTS }),
    expression: (source, segs) => expression(ctx, source, segs, 'response'),
  };
  const streams = compileStreams(manifest.streams ?? {}, streamCompiler);
  for (const [name, record] of compileWriteBacks(manifest.capabilities, streams, streamCompiler)) {
    const cap = capabilities.get(name);
    if (cap) cap.record = record;
  }
  let webhooks: CompiledWebhooks | undefined;
  if (manifest.webhooks) {
    const w = manifest.webhooks;
    webhooks = {
      spec: w,
      secret: w.signature.secret ? template(ctx, w.signature.secret, ['webhooks', 'signature', 'secret'], none) : undefined,
      handshake: w.handshake
        ? { when: expression(ctx, w.handshake.when, ['webhooks', 'handshake', 'when'], 'response'), response: expression(ctx, w.handshake.response, ['webhooks', 'handshake', 'response'], 'response') }
        : undefined,
      eventId: w.event_id ? expression(ctx, w.event_id, ['webhooks', 'event_id'], 'response') : undefined,
      eventType: w.event_type ? expression(ctx, w.event_type, ['webhooks', 'event_type'], 'response') : undefined,
      events: new Map(),
    };
    if (w.signature.scheme !== 'none' && !w.signature.secret) issue(ctx, ['webhooks', 'signature'], `scheme "${w.signature.scheme}" needs a "secret" template`, 'webhook_secret');
    for (const [ev, def] of Object.entries(w.events ?? {})) {
      webhooks.events.set(ev, { type: def.type, data: def.data ? expression(ctx, def.data, ['webhooks', 'events', ev, 'data'], 'response') : undefined, triggers: def.triggers });
      if (def.triggers && !streams.has(def.triggers)) {
        issue(ctx, ['webhooks', 'events', ev, 'triggers'], `triggers "${def.triggers}" is no stream of this manifest (streams: ${[...streams.keys()].join(', ') || 'none'})${didYouMean(def.triggers, [...streams.keys()])}`, 'unknown_stream');
      }
    }
  }

  const credsSchema = credentialsJsonSchema(manifest.credential_schema);
  const connector: Connector = {
    name: manifest.name,
    displayName: manifest.display_name,
    category: manifest.category,
    description: manifest.description ?? '',
    file: where.file,
    manifest,
    auth: { spec: manifest.auth, templates: authTemplates, ...(authConnection ? { connection: authConnection } : {}) },
    credentialSchema: manifest.credential_schema,
    credentialsJsonSchema: credsSchema,
    validateCredentials: ctx.checked ? lazyValidator(() => own.compile(credsSchema)) : own.compile(credsSchema),
    sensitiveFields: Object.entries(manifest.credential_schema).filter(([, f]) => f.sensitive).map(([k]) => k),
    baseUrl: baseUrlTemplate ? undefined : manifest.base_url,
    ...(baseUrlTemplate ? { baseUrlTemplate } : {}),
    environments: Object.fromEntries(Object.entries(manifest.environments ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : v.base_url])),
    environmentOAuth: Object.fromEntries(
      Object.entries(manifest.environments ?? {}).flatMap(([k, v]) => (typeof v === 'string' ? [] : [[k, { authorization_url: v.authorization_url, token_url: v.token_url }]])),
    ),
    verify,
    capabilities,
    streams,
    errors: compileErrors(ctx, manifest.errors, ['errors']),
    timeoutMs: manifest.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    retry: {
      on_status: manifest.retry?.on_status ?? [429, 502, 503, 504],
      max_attempts: manifest.retry?.max_attempts ?? 3,
      respect_retry_after: manifest.retry?.respect_retry_after ?? true,
      initial_delay_ms: manifest.retry?.initial_delay_ms ?? 200,
      max_delay_ms: manifest.retry?.max_delay_ms ?? 10_000,
      on_timeout: manifest.retry?.on_timeout ?? false,
    },
    rateLimit: manifest.rate_limit,
    webhooks,
  };
  return { connector, issues: ctx.issues };
}
