// The CRM capability schemas (create_contact, update_contact, create_note, create_deal): every
// example of each schema file passes its input/output schema, every anti-example is refused.
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';
import { CAPABILITY_SCHEMAS_DIR } from '../../runtime/config/paths.ts';

interface SchemaFile {
  examples: Array<{ name: string; input: unknown; output?: unknown }>;
  anti_examples: Array<{ why: string; input?: unknown; output?: unknown }>;
}

const CRM = ['create_contact', 'update_contact', 'create_note', 'create_deal'];

describe.each(CRM)('%s schema', (name) => {
  const file = JSON.parse(fs.readFileSync(path.join(CAPABILITY_SCHEMAS_DIR, `${name}.json`), 'utf8')) as SchemaFile;
  const schema = loadCapabilitySchemas().get(name)!;

  it('has examples and anti-examples', () => {
    expect(schema).toBeDefined();
    expect(file.examples.length).toBeGreaterThan(0);
    expect(file.anti_examples.length).toBeGreaterThan(0);
  });

  it.each(file.examples.map((e) => [e.name, e] as const))('accepts example: %s', (_n, ex) => {
    expect(schema.validateInput(ex.input), JSON.stringify(schema.validateInput.errors)).toBe(true);
    if (ex.output !== undefined) expect(schema.validateOutput(ex.output), JSON.stringify(schema.validateOutput.errors)).toBe(true);
  });

  it.each(file.anti_examples.map((e) => [e.why, e] as const))('refuses anti-example: %s', (_w, anti) => {
    if (anti.input !== undefined) expect(schema.validateInput(anti.input)).toBe(false);
    if (anti.output !== undefined) expect(schema.validateOutput(anti.output)).toBe(false);
    expect(anti.input !== undefined || anti.output !== undefined).toBe(true);
  });
});

describe('create_contact stays compatible', () => {
  it('accepts the first/last/email input it always took', () => {
    const { validateInput } = loadCapabilitySchemas().get('create_contact')!;
    expect(validateInput({ email: 'ana@example.com', first_name: 'Ana', last_name: 'López', phone: '+1', company: 'Acme', custom_fields: { a: 1 } })).toBe(true);
  });
});
