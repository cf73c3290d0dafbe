// The accounting capability schemas (create_customer, create_invoice, get_invoice): every example of
// each schema file passes its input/output schema, every anti-example is refused. And pagination
// `in: body` (Wave's GraphQL variables): sync.page may be read only by a stream paging in the body.
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';
import { CAPABILITY_SCHEMAS_DIR } from '../../runtime/config/paths.ts';
import { loadManifestFile, loadManifestText } from '../../runtime/manifest/load.ts';
import { CONNECTORS_DIR } from '../contract/helpers.ts';

interface SchemaFile {
  title: string;
  description: string;
  examples: Array<{ name: string; input: unknown; output?: unknown }>;
  anti_examples: Array<{ why: string; input?: unknown; output?: unknown }>;
}

describe.each(['create_customer', 'create_invoice', 'get_invoice'])('%s schema', (name) => {
  const file = JSON.parse(fs.readFileSync(path.join(CAPABILITY_SCHEMAS_DIR, `${name}.json`), 'utf8')) as SchemaFile;
  const schema = loadCapabilitySchemas().get(name)!;

  it('has a title, a description, examples and anti-examples', () => {
    expect(schema).toBeDefined();
    expect(file.title).toBe(name);
    expect(file.description.length).toBeGreaterThan(40);
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

describe('pagination in: body', () => {
  const wave = fs.readFileSync(path.join(CONNECTORS_DIR, 'wave.yaml'), 'utf8');

  it('the shipped wave manifest reads sync.page with in: body', () => {
    const res = loadManifestFile(path.join(CONNECTORS_DIR, 'wave.yaml'));
    expect(res.issues).toEqual([]);
    expect(res.connector!.streams.get('invoices')!.pagination.spec).toMatchObject({ type: 'page', in: 'body' });
  });

  it('sync.page in a stream that pages in the query is refused, at its line', () => {
    const text = wave.replace('page_size_param: pageSize, in: body }', 'page_size_param: pageSize }');
    expect(text).not.toBe(wave);
    const res = loadManifestText(text, 'wave.yaml');
    const problems = res.issues.filter((i) => i.rule === 'sync_field');
    expect(problems.map((p) => p.message).join('\n')).toMatch(/reads "sync\.page\.page": a stream's sync\.\* offers only sync\.cursor/);
  });

  it('in is query or body, and only on cursor, page and offset kinds', () => {
    const bad = loadManifestText(wave.replace('in: body }', 'in: header }'), 'wave.yaml');
    expect(bad.issues.some((i) => i.path.includes('pagination'))).toBe(true);
    const none = loadManifestText(wave.replace('pagination: { type: page, param: page, page_size: 50, page_size_param: pageSize, in: body }', 'pagination: { type: none, in: body }'), 'wave.yaml');
    expect(none.issues.some((i) => i.path.includes('pagination'))).toBe(true);
  });
});
