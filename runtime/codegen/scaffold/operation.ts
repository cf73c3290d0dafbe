// One spec operation -> one custom capability: request (path with {{input.x}}, query, headers, body
// skeleton of the required fields), input schema, response mapping skeleton and output schema.
import type { AnyObj } from './schema-tools.ts';
import { resolve, simplify, snake, step, typesOf } from './schema-tools.ts';
import type { SpecOperation } from './operations.ts';
import type { ScaffoldAuth } from './auth.ts';

/** Where an input field goes, and the value the spec gives for it (if any). */
export interface InputField {
  name: string;
  place: 'path' | 'query' | 'header' | 'body';
  specName: string;
  schema: AnyObj;
  /** The spec's own schema of the field (for made-up example values). */
  source?: unknown;
  example?: unknown;
}

export interface CapabilityDraft {
  name: string;
  capability: AnyObj;
  fields: InputField[];
  /** The success response: status and the content's schema/examples. */
  response: { status: number; media?: AnyObj };
  bodyFormat?: string;
  /** Optional body properties left out of the skeleton (for a comment). */
  optionalBody: string[];
  skippedParams: string[];
}

const SKIP_HEADERS = ['authorization', 'content-type', 'accept', 'token', 'content-length'];
const MAX_OPTIONAL_PARAMS = 8;
const PREFERRED_OUT = ['id', 'sid', 'status', 'name', 'object', 'created', 'created_at', 'createdAt', 'url'];

function bodyFormatOf(type: string): string | undefined {
  if (/json/i.test(type) || type === '*/*') return 'json';
  if (type.startsWith('application/x-www-form-urlencoded')) return 'form';
  if (type.startsWith('multipart/form-data')) return 'multipart';
  if (/xml/i.test(type)) return 'xml';
  return undefined;
}

function paramExample(p: AnyObj): unknown {
  if (p.example !== undefined) return p.example;
  const first = Object.values<AnyObj>(p.examples ?? {})[0];
  return first?.value;
}

/** The first 2xx response (201 before 200 for a POST is the spec's order anyway), else default. */
function successResponse(doc: AnyObj, op: AnyObj): { status: number; media?: AnyObj } {
  const codes = Object.keys(op.responses ?? {});
  const code = codes.find((c) => /^2\d\d$/.test(c)) ?? codes.find((c) => c === '2XX') ?? codes.find((c) => c === 'default');
  const r = code ? resolve(doc, op.responses[code]) : {};
  const content = (r.content ?? {}) as AnyObj;
  const type = Object.keys(content).find((t) => /json/i.test(t)) ?? Object.keys(content).find((t) => t === '*/*');
  return { status: code && /^\d+$/.test(code) ? Number(code) : 200, media: type ? resolve(doc, content[type]) : undefined };
}

export function draftCapability(doc: AnyObj, o: SpecOperation, name: string, auth: ScaffoldAuth): CapabilityDraft {
  const fields: InputField[] = [];
  const used = new Set<string>();
  const add = (f: Omit<InputField, 'name'>, wanted: string) => {
    let n = snake(wanted);
    if (used.has(n)) n = snake(`${f.place}_${wanted}`);
    used.add(n);
    const field = { ...f, name: n };
    fields.push(field);
    return field;
  };
  const authHeaders = auth.headers.map((h) => h.toLowerCase());
  const skippedParams: string[] = [];
  let path = o.path;
  const query: AnyObj = {};
  const headers: AnyObj = {};
  let optionalCount = 0;
  for (const p of o.parameters) {
    if (p.in === 'path') {
      const f = add({ place: 'path', specName: p.name, schema: { ...simplify(doc, p.schema ?? p, p.description), required: true }, source: p.schema, example: paramExample(p) }, p.name);
      path = path.split(`{${p.name}}`).join(`{{input.${f.name}}}`);
      continue;
    }
    if (p.in !== 'query' && p.in !== 'header') continue;
    if (p.in === 'header' && (SKIP_HEADERS.includes(String(p.name).toLowerCase()) || authHeaders.includes(String(p.name).toLowerCase()))) continue;
    if (p.in === 'query' && auth.query.includes(p.name)) continue;
    if (!p.required && ++optionalCount > MAX_OPTIONAL_PARAMS) {
      skippedParams.push(`${p.in} ${p.name}`);
      continue;
    }
    const f = add({ place: p.in, specName: p.name, schema: { ...simplify(doc, p.schema ?? p, p.description), required: !!p.required }, source: p.schema, example: paramExample(p) }, p.name);
    (p.in === 'query' ? query : headers)[p.name] = `{{input.${f.name}}}`;
  }

  const request: AnyObj = { method: o.method, path };
  if (Object.keys(query).length) request.query = query;
  if (Object.keys(headers).length) request.headers = headers;
  const optionalBody: string[] = [];
  let bodyFormat: string | undefined;
  const rb = resolve(doc, o.op.requestBody);
  const content = (rb.content ?? {}) as AnyObj;
  const type = Object.keys(content).find((t) => bodyFormatOf(t));
  if (type && !['GET', 'DELETE'].includes(o.method)) {
    bodyFormat = bodyFormatOf(type)!;
    const media = resolve(doc, content[type]);
    const schema = resolve(doc, media.schema);
    const mediaExample = media.example ?? Object.values<AnyObj>(media.examples ?? {})[0]?.value ?? schema.example;
    if (bodyFormat !== 'json') request.body_format = bodyFormat;
    if (bodyFormat === 'xml') {
      const f = add({ place: 'body', specName: '', schema: { type: 'string', description: 'the XML body', required: true } }, 'body');
      request.body = `{{{input.${f.name}}}}`;
    } else if (schema.properties || (typesOf(doc, schema) ?? ['object']).includes('object')) {
      const required = new Set<string>(Array.isArray(schema.required) ? schema.required : []);
      const lines: string[] = [];
      for (const [prop, ps] of Object.entries<unknown>(schema.properties ?? {})) {
        if (!required.has(prop)) {
          optionalBody.push(prop);
          continue;
        }
        const ex = mediaExample && typeof mediaExample === 'object' ? (mediaExample as AnyObj)[prop] : undefined;
        const f = add({ place: 'body', specName: prop, schema: { ...simplify(doc, ps), required: true }, source: ps, example: ex }, prop);
        lines.push(`  ${JSON.stringify(prop)}: input.${f.name}`);
      }
      request.body = lines.length ? `{\n${lines.join(',\n')}\n}` : '{}';
    } else {
      const f = add({ place: 'body', specName: '', schema: { ...simplify(doc, schema), required: !!rb.required }, source: schema, example: mediaExample }, 'body');
      request.body = `input.${f.name}`;
    }
  }

  const response = successResponse(doc, o.op);
  const { mapping, output } = responseSkeleton(doc, response.media);
  const inputSchema: AnyObj = { type: 'object', properties: {}, required: [] as string[] };
  for (const f of fields) {
    const { required, ...s } = f.schema;
    inputSchema.properties[f.name] = s;
    if (required) inputSchema.required.push(f.name);
  }
  if (!inputSchema.required.length) delete inputSchema.required;
  const description = String(o.op.summary ?? o.op.description ?? `${o.method} ${o.path}`).trim().split('\n')[0]!;
  const capability: AnyObj = { description, input: inputSchema, output, request, response: mapping };
  return { name, capability, fields, response, bodyFormat, optionalBody, skippedParams };
}

/** A mapping of a few top-level fields of the response (id, status, ... first), and its output schema. */
function responseSkeleton(doc: AnyObj, media: AnyObj | undefined): { mapping: string; output: AnyObj } {
  const schema = resolve(doc, media?.schema);
  const example = media?.example ?? Object.values<AnyObj>(media?.examples ?? {})[0]?.value;
  const props: Record<string, unknown> = { ...(schema.properties ?? {}) };
  if (!Object.keys(props).length && example && typeof example === 'object' && !Array.isArray(example)) for (const k of Object.keys(example)) props[k] = {};
  const scalar = (k: string) => !(typesOf(doc, props[k]) ?? []).some((t) => t === 'object' || t === 'array');
  const names = Object.keys(props);
  const picked = [...PREFERRED_OUT.filter((k) => k in props), ...names.filter((k) => !PREFERRED_OUT.includes(k) && scalar(k))].slice(0, 4);
  if (!picked.length) {
    return { mapping: '{ "status": $status }', output: { type: 'object', properties: { status: { type: 'integer', description: 'the HTTP status of the provider answer' } } } };
  }
  const output: AnyObj = { type: 'object', properties: {} };
  const lines = picked.map((k) => {
    const s = simplify(doc, props[k]);
    const types = typesOf(doc, props[k]);
    if (types && !types.includes('null')) s.type = [...types, 'null'];
    delete s.enum; // providers add values; the integrator narrows
    delete s.pattern;
    output.properties[snake(k)] = s;
    return `  ${JSON.stringify(snake(k))}: ${step(k)}`;
  });
  return { mapping: `{\n${lines.join(',\n')}\n}`, output };
}
