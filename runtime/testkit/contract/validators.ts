// The Ajv-backed checks of the contract server: openapi-backend for requests, a depth-limited
// response-schema checker for the answers the server gives.
import { OpenAPIBackend, type Document } from 'openapi-backend';
import AjvModule, { type Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { AnyObj } from './spec-document.ts';
import { AJV_FORMATS_KNOWN, collectFormats, jsonMedia, truncateSchema } from './schema-values.ts';
import { PlugboardError } from '../../errors/plugboard-error.ts';

// ajv and ajv-formats ship CommonJS; under NodeNext the default import may be the module object.
const AjvClass = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as unknown as new (opts: object) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => void;

const NO_CHECK_FORMATS = ['byte', 'int32', 'int64', 'float', 'double', 'password', 'binary'];

export async function makeBackend(definition: AnyObj, coerceBodies: boolean, apiRoot: string): Promise<OpenAPIBackend> {
  const extraFormats = [...collectFormats(definition)].filter((f) => !AJV_FORMATS_KNOWN.has(f));
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

/** Where an Ajv error of openapi-backend points: `request.body.<field>`, `request.query.<name>`, … */
export function ajvLocation(instancePath: string, params: AnyObj, keyword: string): { location: string; field?: string } {
  const segs = instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = keyword === 'additionalProperties' ? params.additionalProperty : keyword === 'required' ? params.missingProperty : undefined;
  if (extra !== undefined) segs.push(String(extra));
  const [root, ...rest] = segs;
  const prefixes: Record<string, string> = { requestBody: 'request.body', header: 'request.header', query: 'request.query', path: 'request.path', cookie: 'request.cookie' };
  const prefix = (root && prefixes[root]) ?? `request${root ? `.${root}` : ''}`;
  return { location: [prefix, ...rest].join('.'), field: extra !== undefined ? String(extra) : rest[rest.length - 1] };
}

/**
 * Checks answer bodies against the spec's response schema. Stripe's response schemas expand into
 * its whole (cyclic) object graph, which takes Ajv 20+ s to compile; the check therefore cuts the
 * schema at a nesting depth (deeper values are accepted as they are), which still covers the fields
 * an answer sets.
 */
export class ResponseChecker {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction | null>();
  constructor(formats: Set<string>) {
    this.ajv = new AjvClass({ strict: false, allErrors: true });
    addFormats(this.ajv);
    for (const f of formats) if (!AJV_FORMATS_KNOWN.has(f) || NO_CHECK_FORMATS.includes(f)) this.ajv.addFormat(f, { validate: () => true });
  }
  check(op: AnyObj, status: number, body: unknown, specResponse?: string): string[] {
    const issues = this.checkOne(op, status, body, specResponse);
    // Some APIs answer errors with HTTP 200 and describe them as the `default` response (Slack's {ok: false}).
    if (issues.length && !specResponse && op.responses?.default && op.responses?.[String(status)] && !this.checkOne(op, status, body, 'default').length) return [];
    return issues;
  }
  private checkOne(op: AnyObj, status: number, body: unknown, specResponse?: string): string[] {
    const key = `${op.operationId} ${specResponse ?? status}`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      const responses = (op.responses ?? {}) as AnyObj;
      const response = specResponse ? responses[specResponse] : responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
      if (!response) throw new PlugboardError('validation', `the spec documents no response ${specResponse ?? status} for ${op.operationId}`);
      const schema = jsonMedia(response)?.media.schema as AnyObj | undefined;
      validate = schema ? this.ajv.compile(truncateSchema(schema, 2)) : null;
      this.cache.set(key, validate);
    }
    if (!validate) return [];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}

/**
 * Request bodies of a media type openapi-backend does not validate (it reads only JSON and form
 * schemas): multipart/related, whose parts the contract server parses (request-body.ts). Compiled
 * once per (dereferenced) schema object.
 */
const mediaValidators = new WeakMap<object, ValidateFunction>();
let mediaAjv: Ajv | undefined;

export function validateOtherMediaBody(schema: AnyObj, body: unknown): Array<{ instancePath: string; keyword: string; params: AnyObj; message?: string }> {
  let validate = mediaValidators.get(schema);
  if (!validate) {
    if (!mediaAjv) {
      mediaAjv = new AjvClass({ strict: false, allErrors: true });
      addFormats(mediaAjv);
      for (const f of NO_CHECK_FORMATS) mediaAjv.addFormat(f, { validate: () => true });
    }
    validate = mediaAjv.compile(schema);
    mediaValidators.set(schema, validate);
  }
  return validate(body) ? [] : (validate.errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: (e.params ?? {}) as AnyObj, message: e.message }));
}
