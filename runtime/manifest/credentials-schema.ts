// The JSON Schema of an integration's credentials object, generated from a manifest's credential_schema.
import type { CredentialField } from './types.ts';
import type { JsonSchema } from './capability-schemas.ts';

export function credentialsJsonSchema(fields: Record<string, CredentialField>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, f] of Object.entries(fields)) {
    const p: JsonSchema = { type: f.type };
    for (const k of ['title', 'description', 'pattern', 'format', 'enum', 'default'] as const) if (f[k] !== undefined) p[k] = f[k];
    if (f.sensitive) p['sensitive'] = true;
    properties[name] = p;
    if (f.required) required.push(name);
  }
  return { type: 'object', additionalProperties: false, properties, required };
}
