// JSON Schema helpers over an OpenAPI 3 document for `plugboard scaffold`: follow local $refs, merge
// allOf, reduce a provider's schema to the plain JSON Schema a manifest states (types, enums,
// descriptions), and make up a value satisfying a schema when the spec gives no example.
import { resolveRef, type AnyObj } from '../../testkit/contract/spec-document.ts';
import { samplePattern } from '../../testkit/examples.ts';

export type { AnyObj };

/** The schema a $ref chain points at (allOf members merged: properties and required), never throwing. */
export function resolve(doc: AnyObj, node: unknown, depth = 0): AnyObj {
  let s = (node && typeof node === 'object' ? node : {}) as AnyObj;
  for (let i = 0; s.$ref && i < 20; i++) s = (resolveRef(doc, String(s.$ref)) ?? {}) as AnyObj;
  if (!Array.isArray(s.allOf) || depth > 5) return s;
  const merged: AnyObj = { ...s, properties: { ...(s.properties ?? {}) }, required: Array.isArray(s.required) ? [...s.required] : [] };
  delete merged.allOf;
  for (const part of s.allOf as unknown[]) {
    const r = resolve(doc, part, depth + 1);
    Object.assign(merged.properties, r.properties ?? {});
    if (Array.isArray(r.required)) merged.required.push(...r.required);
    for (const k of ['type', 'description', 'example'] as const) if (merged[k] === undefined && r[k] !== undefined) merged[k] = r[k];
  }
  if (!Object.keys(merged.properties).length) delete merged.properties;
  merged.required = [...new Set(merged.required)];
  if (!merged.required.length) delete merged.required;
  return merged;
}

/** The JSON types a schema allows (OAS 3.0 nullable, 3.1 type lists, anyOf/oneOf unions); undefined = any. */
export function typesOf(doc: AnyObj, node: unknown, depth = 0): string[] | undefined {
  const s = resolve(doc, node);
  let types: string[] | undefined;
  if (typeof s.type === 'string') types = [s.type];
  else if (Array.isArray(s.type)) types = s.type.map(String);
  else if (Array.isArray(s.anyOf ?? s.oneOf) && depth < 4) {
    const alts = (s.anyOf ?? s.oneOf) as unknown[];
    const each = alts.map((a) => typesOf(doc, a, depth + 1));
    if (each.some((t) => t === undefined)) return undefined;
    types = [...new Set(each.flat() as string[])];
  } else if (s.properties) types = ['object'];
  if (types && s.nullable === true && !types.includes('null')) types.push('null');
  return types;
}

function firstLine(text: unknown): string | undefined {
  if (typeof text !== 'string' || !text.trim()) return undefined;
  const line = text.trim().split('\n')[0]!.replace(/<[^>]+>/g, '').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** A plain JSON Schema for a manifest's input or output: types, scalar enums, a description, array items. */
export function simplify(doc: AnyObj, node: unknown, description?: string, depth = 0): AnyObj {
  const s = resolve(doc, node);
  const out: AnyObj = {};
  const types = typesOf(doc, s);
  if (types?.length) out.type = types.length === 1 ? types[0] : types;
  if (Array.isArray(s.enum) && s.enum.length && s.enum.every((v: unknown) => v === null || typeof v !== 'object')) out.enum = s.enum;
  if (typeof s.pattern === 'string' && types?.includes('string') && compiles(s.pattern)) out.pattern = s.pattern;
  const d = firstLine(description ?? s.description);
  if (d) out.description = d;
  if (types?.includes('array') && depth < 2) out.items = simplify(doc, s.items, undefined, depth + 1);
  if (out.items && !Object.keys(out.items).length) delete out.items;
  return out;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

const FORMAT_SAMPLES: Record<string, unknown> = {
  'date-time': '2024-01-15T10:00:00Z',
  date: '2024-01-15',
  email: 'user@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '123e4567-e89b-42d3-a456-426614174000',
  'phone-number': '+15005550006',
  'unix-time': 1700000000,
};

/** A value satisfying a schema: its own example, default or first enum item, else made up by type and format. */
export function sample(doc: AnyObj, node: unknown, opts: { depth?: number; allProperties?: boolean } = {}): unknown {
  const depth = opts.depth ?? 0;
  const s = resolve(doc, node);
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum.find((v: unknown) => v !== null) ?? s.enum[0];
  const alt = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(alt) && alt.length) return sample(doc, alt.find((a) => !(typesOf(doc, a) ?? []).includes('null')) ?? alt[0], opts);
  const type = (typesOf(doc, s) ?? ['string']).find((t) => t !== 'null') ?? 'null';
  switch (type) {
    case 'string':
      return FORMAT_SAMPLES[String(s.format)] ?? (typeof s.pattern === 'string' ? samplePattern(s.pattern) : undefined) ?? (typeof s.minLength === 'number' && s.minLength > 7 ? 'x'.repeat(s.minLength) : 'example');
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? Math.max(s.minimum, 1) : 1;
    case 'boolean':
      return true;
    case 'array':
      return depth > 3 ? [] : [sample(doc, s.items, { ...opts, depth: depth + 1 })];
    case 'object': {
      if (depth > 2) return {};
      const required = new Set<string>(Array.isArray(s.required) ? s.required : []);
      const out: AnyObj = {};
      for (const [k, v] of Object.entries<unknown>(s.properties ?? {}).slice(0, 40)) {
        if (opts.allProperties || required.has(k)) out[k] = sample(doc, v, { ...opts, depth: depth + 1 });
      }
      return out;
    }
    default:
      return null;
  }
}

const RESERVED = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);

/** snake_case of a provider's name (operationId, parameter, field): [a-z0-9_], not starting with a digit. */
export function snake(name: string): string {
  const s = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const safe = /^[a-z]/.test(s) ? s : `x_${s}`;
  return RESERVED.has(safe) ? `${safe}_value` : safe;
}

/** A JSONata path step for a field name: plain when it is an identifier, else in backticks. */
export function step(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name) ? name : `\`${name.replace(/`/g, '')}\``;
}
