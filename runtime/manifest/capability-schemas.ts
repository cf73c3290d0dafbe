// Standard capabilities: schemas/capabilities/<name>.json, each {input, output} JSON Schema.
import fs from 'node:fs';
import path from 'node:path';
import { ajv, type ValidateFunction } from './ajv.ts';
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
      validateInput: ajv.compile(raw.input),
      validateOutput: ajv.compile(raw.output),
    });
  }
  cache.set(dir, out);
  return out;
}
