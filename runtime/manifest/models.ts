// Sync models: schemas/models/<name>.json, one JSON Schema (draft 2020-12) per normalized record
// type a stream's `mapping` produces (DESIGN §2). Every mapped record is validated against its
// model before it is stored; `modelErrors` says why one is not.
import fs from 'node:fs';
import path from 'node:path';
import { ajv, fieldErrors, lazyValidator, type ErrorObject, type ValidateFunction } from './ajv.ts';
import { SCHEMAS_DIR } from '../config/paths.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export const MODEL_SCHEMAS_DIR = path.join(SCHEMAS_DIR, 'models');

/** The shipped models, in the order the docs list them (each is schemas/models/<name>.json). */
export const MODEL_NAMES = ['contact', 'company', 'deal', 'note', 'calendar_event', 'invoice', 'payment', 'message'] as const;

export interface Model {
  name: string;
  title: string;
  description: string;
  /** The JSON Schema as stored in schemas/models/<name>.json. */
  schema: Record<string, unknown>;
  validate: ValidateFunction;
}

const cache = new Map<string, Map<string, Model>>();

/** Loads (once per directory) every model schema; each compiles on first use and must accept its own example. */
export function models(dir = MODEL_SCHEMAS_DIR): Map<string, Model> {
  const hit = cache.get(dir);
  if (hit) return hit;
  const out = new Map<string, Model>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const name = file.slice(0, -'.json'.length);
    const where = path.join(dir, file);
    const schema = JSON.parse(fs.readFileSync(where, 'utf8')) as Record<string, unknown>;
    const required = schema.required;
    if (schema.type !== 'object' || !Array.isArray(required) || !required.includes('id')) {
      throw new PlugboardError('config', `${where}: a model is an object schema that requires "id"`);
    }
    const id = typeof schema.$id === 'string' ? schema.$id : undefined;
    // Compiled on the first record validated (a start need not compile what no sync uses). The Ajv
    // instance is shared: reuse a schema another load of the same file already registered.
    const validate = lazyValidator(() => {
      const compiled = (id && ajv.getSchema(id)) || ajv.compile(schema);
      const example = Array.isArray(schema.examples) ? schema.examples[0] : undefined;
      if (example !== undefined && !compiled(example)) {
        throw new PlugboardError('config', `${where}: the example does not match the schema: ${formatErrors(compiled.errors).join('; ')}`);
      }
      return compiled;
    });
    out.set(name, {
      name,
      title: typeof schema.title === 'string' ? schema.title : name,
      description: typeof schema.description === 'string' ? schema.description : '',
      schema,
      validate,
    });
  }
  cache.set(dir, out);
  return out;
}

export function isModelName(name: string): boolean {
  return models().has(name);
}

/** Why `value` is not a valid `name` model: one short message per failing field (`email: must match format "email"`); [] when valid. */
export function modelErrors(name: string, value: unknown): string[] {
  const model = models().get(name);
  if (!model) throw new PlugboardError('config', `unknown model "${name}" (one of: ${[...models().keys()].join(', ')})`);
  return model.validate(value) ? [] : formatErrors(model.validate.errors);
}

/** Ajv errors as `field: message` lines. An `anyOf` of simple branches (a date-time, a date or
 *  null) is one message instead of one per branch; an enum names its allowed values. */
export function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  const list = errors ?? [];
  const skip = new Set<ErrorObject>();
  const message = new Map<ErrorObject, string>();
  for (const e of list) {
    if (e.keyword === 'anyOf') {
      const branches = list.filter((b) => b !== e && b.instancePath === e.instancePath && b.schemaPath.startsWith(`${e.schemaPath}/`));
      const formats = branches.filter((b) => b.keyword === 'format').map((b) => `"${(b.params as { format: string }).format}"`);
      const types = [...new Set(branches.filter((b) => b.keyword === 'type').map((b) => String((b.params as { type: unknown }).type)))];
      if (branches.length && branches.every((b) => b.keyword === 'format' || b.keyword === 'type')) {
        for (const b of branches) skip.add(b);
        message.set(e, formats.length ? `must match format ${formats.join(' or ')}` : `must be ${types.join(' or ')}`);
      }
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      message.set(e, `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
    } else if (e.keyword === 'type') {
      message.set(e, `must be ${String((e.params as { type: unknown }).type).split(',').join(' or ')}`);
    }
  }
  const kept = list.filter((e) => !skip.has(e)).map((e) => (message.has(e) ? { ...e, message: message.get(e) } : e));
  return Object.entries(fieldErrors(kept)).flatMap(([field, messages]) => messages.map((m) => `${field}: ${m}`));
}
