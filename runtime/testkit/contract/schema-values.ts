// Values and views derived from a (dereferenced, possibly cyclic) OpenAPI schema: minimal valid
// values for mock answers, depth-limited copies for response checks, the formats a spec uses.
import type { AnyObj } from './spec-document.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const AJV_FORMATS_KNOWN = new Set([
  'date', 'time', 'date-time', 'iso-time', 'iso-date-time', 'duration', 'uri', 'uri-reference', 'uri-template', 'url', 'email', 'hostname',
  'ipv4', 'ipv6', 'regex', 'uuid', 'json-pointer', 'json-pointer-uri-fragment', 'relative-json-pointer', 'byte', 'int32', 'int64', 'float',
  'double', 'password', 'binary',
]);

/** Every `format` the document uses. */
export function collectFormats(node: unknown, out: Set<string> = new Set(), seen = new Set<unknown>()): Set<string> {
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

export function isCyclic(node: unknown, stack = new Set<unknown>()): boolean {
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
      default:
        return minimalString(schema);
    }
  } finally {
    stack.delete(schema);
  }
}

function minimalString(schema: AnyObj): Json {
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

/** The first 2xx response of an operation (status and spec response). */
export function successResponse(op: AnyObj): { status: number; response?: AnyObj } {
  const responses = (op.responses ?? {}) as AnyObj;
  const codes = Object.keys(responses).filter((c) => /^2\d\d$/.test(c)).sort();
  if (codes.length) return { status: Number(codes[0]), response: responses[codes[0]!] };
  if (responses['2XX']) return { status: 200, response: responses['2XX'] };
  return { status: 200, response: undefined };
}

/** The JSON media of a spec response (application/json, else any *json*, else the first). */
export function jsonMedia(response: AnyObj | undefined): { type: string; media: AnyObj } | undefined {
  const content = response?.content as AnyObj | undefined;
  if (!content) return undefined;
  const type = content['application/json'] ? 'application/json' : Object.keys(content).find((t) => /json/i.test(t)) ?? Object.keys(content)[0];
  return type ? { type, media: content[type] } : undefined;
}

/** The spec's own example of a media object, if it has one. */
export function mediaExample(media: AnyObj | undefined): unknown {
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const first = media.examples ? media.examples[Object.keys(media.examples)[0]!] : undefined;
  return first?.value;
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
