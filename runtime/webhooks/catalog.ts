// The catalog of normalized event types: schemas/events/<type>.json, one versioned JSON Schema
// (draft 2020-12) per type describing the event's `data`, with one sample payload in `examples`.
// Also the subscription pattern language: `*` alone matches every type, and inside a dot-separated
// segment `*` matches any run of characters except a dot (`payment.*`, `*.failed`).
import fs from 'node:fs';
import path from 'node:path';
import { ajv, fieldErrors, type ValidateFunction } from '../manifest/ajv.ts';
import { SCHEMAS_DIR } from '../config/paths.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export const EVENT_SCHEMAS_DIR = path.join(SCHEMAS_DIR, 'events');

/** `<resource>.<action>`, lower case with underscores (the manifest schema's rule for `webhooks.events.*.type`). */
export const EVENT_TYPE_PATTERN = /^[a-z_]+\.[a-z_]+$/;

export interface EventTypeInfo {
  type: string;
  title: string;
  description: string;
  schema_version: number;
  /** The JSON Schema of the event's `data`, as stored in schemas/events/<type>.json. */
  schema: Record<string, unknown>;
  /** A realistic `data` payload (the schema's first example). */
  sample: Record<string, unknown>;
}

interface CatalogEntry extends EventTypeInfo {
  validate: ValidateFunction;
}

export type EventDataValidation = { ok: true } | { ok: false; message: string; errors: Record<string, string[]> };

const catalogs = new Map<string, Map<string, CatalogEntry>>();

/** Loads (once per directory) and checks every schema: name, version, sample valid against its own schema. */
export function loadEventCatalog(dir = EVENT_SCHEMAS_DIR): Map<string, CatalogEntry> {
  const hit = catalogs.get(dir);
  if (hit) return hit;
  const out = new Map<string, CatalogEntry>();
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  for (const file of files) {
    const type = file.slice(0, -'.json'.length);
    const where = path.join(dir, file);
    if (!EVENT_TYPE_PATTERN.test(type)) throw new PlugboardError('config', `${where}: the file name must be <resource>.<action>.json in lower case`);
    const schema = JSON.parse(fs.readFileSync(where, 'utf8')) as Record<string, unknown>;
    const version = schema['x-schema-version'];
    if (!Number.isInteger(version) || (version as number) < 1) throw new PlugboardError('config', `${where}: "x-schema-version" must be a positive integer`);
    const examples = schema.examples;
    if (!Array.isArray(examples) || !examples.length || typeof examples[0] !== 'object' || examples[0] === null) {
      throw new PlugboardError('config', `${where}: "examples" must hold at least one sample data object`);
    }
    const id = typeof schema.$id === 'string' ? schema.$id : undefined;
    // The Ajv instance is shared: reuse a schema another load of the same file already registered.
    const validate = (id && ajv.getSchema(id)) || ajv.compile(schema);
    if (!validate(examples[0])) {
      throw new PlugboardError('config', `${where}: the sample in "examples" does not match the schema: ${JSON.stringify(fieldErrors(validate.errors, 'data'))}`);
    }
    out.set(type, {
      type,
      title: typeof schema.title === 'string' ? schema.title : type,
      description: typeof schema.description === 'string' ? schema.description : '',
      schema_version: version as number,
      schema,
      sample: examples[0] as Record<string, unknown>,
      validate,
    });
  }
  catalogs.set(dir, out);
  return out;
}

/** Every event type, sorted by name, for `GET /events/types` and `GET /hooks/sample/{event}`. */
export function listEventTypes(dir?: string): EventTypeInfo[] {
  return [...loadEventCatalog(dir).values()].map(({ validate: _v, ...info }) => info);
}

export function getEventType(type: string, dir?: string): EventTypeInfo | undefined {
  const entry = loadEventCatalog(dir).get(type);
  if (!entry) return undefined;
  const { validate: _v, ...info } = entry;
  return info;
}

/** Checks an event's `data` against its type's schema; errors are keyed `data.<path>` (or `type`). */
export function validateEventData(type: string, data: unknown, dir?: string): EventDataValidation {
  const entry = loadEventCatalog(dir).get(type);
  if (!entry) return { ok: false, message: `Unknown event type "${type}".`, errors: { type: ['is not a known event type'] } };
  if (entry.validate(data)) return { ok: true };
  return { ok: false, message: `The data of a ${type} event is invalid.`, errors: fieldErrors(entry.validate.errors, 'data') };
}

const patternCache = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^.]*');
    re = new RegExp(`^${body}$`);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

/**
 * True when a subscription pattern selects an event type: `*` matches everything, `payment.*` every
 * payment event, `*.failed` every failure; otherwise the names must be equal.
 */
export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === type;
  return patternRegExp(pattern).test(type);
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => matchesPattern(p, type));
}

/**
 * Validates the `events` of a subscription: each is `*`, a known type, or a wildcard pattern that
 * selects at least one known type. Returns `{ "events.<i>": [message] }` errors (empty when valid).
 */
export function validateEventPatterns(patterns: unknown, field = 'events', dir?: string): Record<string, string[]> {
  if (!Array.isArray(patterns) || patterns.length === 0) return { [field]: ['must be a non-empty array of event types or patterns'] };
  const known = [...loadEventCatalog(dir).keys()];
  const errors: Record<string, string[]> = {};
  patterns.forEach((p, i) => {
    const key = `${field}.${i}`;
    if (typeof p !== 'string' || !/^(\*|[a-z_*]+\.[a-z_*]+)$/.test(p)) {
      errors[key] = ['must be "*" or <resource>.<action> where either part may use * wildcards'];
    } else if (!known.some((t) => matchesPattern(p, t))) {
      errors[key] = [p.includes('*') ? 'matches no known event type' : 'is not a known event type'];
    }
  });
  return errors;
}
