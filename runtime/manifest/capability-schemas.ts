// Standard capabilities: schemas/capabilities/<name>.json, each {input, output} JSON Schema.
import fs from 'node:fs';
import path from 'node:path';
import { ajv, connectorAjv, lazyValidator, type SchemaCompiler, type ValidateFunction } from './ajv.ts';
import { customSchemaProblems } from './custom-schema.ts';
import type { PathSegment } from './source-map.ts';
import { CAPABILITY_SCHEMAS_DIR } from '../config/paths.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  [key: string]: unknown;
}

export interface CapabilitySchema {
  name: string;
  title: string;
  description: string;
  input: JsonSchema;
  output: JsonSchema;
  validateInput: ValidateFunction;
  validateOutput: ValidateFunction;
}

const cache = new Map<string, Map<string, CapabilitySchema>>();

export function loadCapabilitySchemas(dir = CAPABILITY_SCHEMAS_DIR): Map<string, CapabilitySchema> {
  const hit = cache.get(dir);
  if (hit) return hit;
  const out = new Map<string, CapabilitySchema>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const name = path.basename(file, '.json');
    const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
      title?: string;
      description?: string;
      input: JsonSchema;
      output: JsonSchema;
    };
    if (!raw.input || !raw.output) throw new PlugboardError('config', `${file}: a capability schema needs "input" and "output"`);
    out.set(name, {
      name,
      title: raw.title ?? name,
      description: raw.description ?? '',
      input: raw.input,
      output: raw.output,
      validateInput: lazyValidator(() => ajv.compile(raw.input)),
      validateOutput: lazyValidator(() => ajv.compile(raw.output)),
    });
  }
  cache.set(dir, out);
  return out;
}

/** A problem of a capability's schema, at `at` below the capability's entry in the manifest. */
export interface CapabilitySchemaProblem {
  at: PathSegment[];
  message: string;
  rule: string;
}

/**
 * The schema of a manifest's capability: the standard one (schemas/capabilities/<name>.json), or for
 * a custom capability (a name without such a file, e.g. one `plugboard scaffold` named after an
 * operationId) the `input` and `output` JSON Schemas its manifest entry gives, compiled by `own` (the
 * connector's Ajv, never the shared one) once customSchemaProblems finds them self-contained. Problems
 * explain a name that is neither, a schema that does not compile, or a standard name giving its own schemas.
 */
export function capabilitySchemaOf(
  name: string,
  spec: { input?: Record<string, unknown>; output?: Record<string, unknown>; description?: string },
  standard: Map<string, CapabilitySchema> = loadCapabilitySchemas(),
  own: SchemaCompiler = connectorAjv(),
): { schema?: CapabilitySchema; problems: CapabilitySchemaProblem[] } {
  const known = standard.get(name);
  if (known) {
    const extra = spec.input ? 'input' : spec.output ? 'output' : undefined;
    return extra ? { schema: known, problems: [{ at: [extra], message: `"${name}" is a standard capability: its ${extra} schema comes from schemas/capabilities/${name}.json; remove "${extra}" (or rename the capability to make it custom)`, rule: 'custom_schema_on_standard' }] } : { schema: known, problems: [] };
  }
  if (!spec.input || !spec.output) {
    // A custom capability would give both "input" and "output" (docs/manifest.md, Capabilities).
    return { problems: [{ at: [], message: `unknown capability "${name}": no schemas/capabilities/${name}.json (known: ${[...standard.keys()].join(', ')})`, rule: 'unknown_capability' }] };
  }
  const problems: CapabilitySchemaProblem[] = [];
  const compiled: Partial<Record<'input' | 'output', ValidateFunction>> = {};
  for (const what of ['input', 'output'] as const) {
    const found = customSchemaProblems(spec[what], what);
    problems.push(...found.map((p) => ({ ...p, at: [what, ...p.at] })));
    if (found.length) continue;
    try {
      compiled[what] = own.compile(spec[what]!);
    } catch (err) {
      problems.push({ at: [what], message: `custom capability "${name}": "${what}" is not a valid JSON Schema: ${(err as Error).message}`, rule: 'capability_schema' });
    }
  }
  if (!compiled.input || !compiled.output) return { problems };
  const input = spec.input as JsonSchema;
  const output = spec.output as JsonSchema;
  return { schema: { name, title: name, description: spec.description ?? '', input, output, validateInput: compiled.input, validateOutput: compiled.output }, problems };
}
