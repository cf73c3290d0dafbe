// Custom capability schemas (a manifest's own `input`/`output`) compile in an Ajv of the connector,
// never the shared one: manifest text sent to POST /manifests/validate (checkManifestText) cannot
// register ids in the process or pile up compiled schemas. They must be self-contained draft 2020-12
// with an object input, and one custom name means the same schemas in every connector of a directory.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkManifestText } from '../../runtime/manifest/check-text.ts';
import { ajv, connectorAjv } from '../../runtime/manifest/ajv.ts';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';

/** A manifest whose capability `name` has the input schema `input` (YAML lines, indented 6). */
function manifest(opts: { name?: string; capability?: string; input?: string; output?: string } = {}): string {
  return `schema_version: 1
name: ${opts.name ?? 'acme'}
display_name: Acme
category: communication
base_url: https://api.acme.test
auth: { type: bearer, token: "{{credentials.api_key}}" }
credential_schema:
  api_key: { type: string, sensitive: true, required: true }
capabilities:
  ${opts.capability ?? 'create_thing'}:
    input:
${opts.input ?? '      type: object\n      properties: { name: { type: string } }'}
    output:
${opts.output ?? '      type: object\n      properties: { id: { type: string } }'}
    request: { method: POST, path: /things, body: '{ "Name": input.name }' }
    response: '{ "id": id }'
`;
}

/** 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('custom capability schemas are isolated from the shared Ajv', () => {
  const withId = manifest({ input: '      $id: https://evil.example/input\n      type: object\n      properties: { name: { type: string } }' });

  it('a text with $id, checked twice, then a normal manifest: each gets its own answer (no "already exists")', () => {
    for (let i = 0; i < 2; i++) {
      const r = checkManifestText(withId);
      expect(r.valid).toBe(false);
      expect(r.problems.map((p) => [p.rule, p.path, p.line])).toEqual([['custom_schema_id', 'capabilities/create_thing/input/$id', lineOf(withId, '$id')]]);
      expect(r.problems[0]!.message).toContain('"$id" is not allowed in the input schema of a custom capability');
    }
    const ok = manifest();
    for (let i = 0; i < 2; i++) {
      const r = checkManifestText(ok);
      expect(r.problems).toEqual([]);
      expect(r.valid).toBe(true);
    }
    expect(ajv.getSchema('https://evil.example/input')).toBeUndefined();
  });

  it('nothing a checked manifest brings stays compiled in the shared instance', () => {
    const sharedSchemas = () => (ajv as unknown as { _cache: Map<unknown, unknown> })._cache.size;
    checkManifestText(manifest());
    const before = sharedSchemas();
    for (let i = 0; i < 3; i++) expect(checkManifestText(manifest({ output: `      type: object\n      properties: { id: { type: string, maxLength: ${i + 5} } }` })).valid).toBe(true);
    expect(sharedSchemas()).toBe(before);
  });

  it('the connector Ajv keeps ids apart: the same $id compiles in two connectors, and the shared instance never sees it', () => {
    const schema = () => ({ $id: 'https://example.test/s', type: 'object', properties: { a: { type: 'string' } } });
    const one = connectorAjv().compile(schema());
    const two = connectorAjv().compile(schema());
    expect(one({ a: 'x' })).toBe(true);
    expect(two({ a: 1 })).toBe(false);
    expect(ajv.getSchema('https://example.test/s')).toBeUndefined();
    expect(() => connectorAjv().compile({ type: 'objekt' })).toThrow(/schema is invalid/);
  });

  it('a valid custom schema validates through the connector (credentials too)', () => {
    const res = loadManifestText(manifest({ input: '      type: object\n      required: [name]\n      properties: { name: { $ref: "#/$defs/name" } }\n      $defs: { name: { type: string, minLength: 2 } }' }), 'acme.yaml');
    expect(res.issues).toEqual([]);
    const schema = res.connector!.capabilities.get('create_thing')!.schema;
    expect(schema.validateInput({ name: 'Widget' })).toBe(true);
    expect(schema.validateInput({ name: 'W' })).toBe(false);
    expect(res.connector!.validateCredentials({ api_key: 'k' })).toBe(true);
    expect(res.connector!.validateCredentials({})).toBe(false);
  });
});

describe('custom capability schemas must be self-contained draft 2020-12', () => {
  it('rejects a nested $id, a remote $ref and another $schema, each at its line', () => {
    const text = manifest({
      input: '      $schema: http://json-schema.org/draft-07/schema#\n      type: object\n      properties:\n        name: { type: string, $id: "#inner" }\n        other: { $ref: "https://evil.example/s.json" }',
      output: '      type: object\n      properties: { id: { $ref: "other.json#/x" } }',
    });
    const r = checkManifestText(text);
    expect(r.problems.map((p) => [p.rule, p.path, p.line])).toEqual([
      ['custom_schema_dialect', 'capabilities/create_thing/input/$schema', lineOf(text, '$schema')],
      ['custom_schema_id', 'capabilities/create_thing/input/properties/name/$id', lineOf(text, '#inner')],
      ['custom_schema_ref', 'capabilities/create_thing/input/properties/other/$ref', lineOf(text, 'evil.example')],
      ['custom_schema_ref', 'capabilities/create_thing/output/properties/id/$ref', lineOf(text, 'other.json')],
    ]);
    expect(r.problems[2]!.message).toContain('only local references ("#/$defs/<name>") are allowed');
  });

  it('allows a property named $id, data that looks like keywords, and $schema 2020-12', () => {
    const text = manifest({ input: '      $schema: https://json-schema.org/draft/2020-12/schema\n      type: object\n      properties:\n        $id: { type: string, default: { $ref: x } }\n        name: { type: string, enum: [$id] }' });
    expect(checkManifestText(text).problems).toEqual([]);
  });

  it('a custom input schema is an object at its root', () => {
    const arr = manifest({ input: '      type: array\n      items: { type: string }' });
    const r = checkManifestText(arr);
    // (the request's input.name is then undeclared too)
    expect(r.problems.map((p) => [p.path, p.line])).toContainEqual(['capabilities/create_thing/input/type', lineOf(arr, 'type: array')]);
    expect(r.problems.find((p) => p.path.endsWith('input/type'))!.message).toBe('the input schema of a custom capability must have "type: object" at its root (an input is an object of named fields)');
    const none = manifest({ input: '      properties: { name: { type: string } }' });
    expect(checkManifestText(none).problems.map((p) => [p.path, p.message])).toEqual([
      ['capabilities/create_thing/input', 'the input schema of a custom capability must have "type: object" at its root (an input is an object of named fields)'],
    ]);
  });
});

describe('one custom name, one capability across connectors', () => {
  let dir: string | undefined;
  afterEach(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
  const write = (files: Record<string, string>) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-custom-'));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };

  it('rejects the same custom name with another input schema, naming both files', () => {
    const other = manifest({ name: 'beta', input: '      type: object\n      properties: { name: { type: integer } }' });
    const d = write({ 'alpha.yaml': manifest({ name: 'alpha' }), 'beta.yaml': other });
    const reg = loadConnectorDir(d);
    expect(reg.issues.map((i) => [i.file, i.rule, i.path, i.line])).toEqual([[path.join(d, 'beta.yaml'), 'custom_capability_conflict', 'capabilities/create_thing/input', lineOf(other, 'input:') + 1]]);
    expect(reg.issues[0]!.message).toContain(`custom capability "create_thing" is also defined by ${path.join(d, 'alpha.yaml')} with another input schema`);
    expect([...reg.connectors.keys()]).toEqual(['alpha']);
  });

  it('names the output when only it differs', () => {
    const d = write({ 'alpha.yaml': manifest({ name: 'alpha' }), 'beta.yaml': manifest({ name: 'beta', output: '      type: object\n      properties: { id: { type: integer } }' }) });
    const reg = loadConnectorDir(d);
    expect(reg.issues.map((i) => [i.rule, i.path])).toEqual([['custom_capability_conflict', 'capabilities/create_thing/output']]);
    expect(reg.issues[0]!.message).toContain('with another output schema');
  });

  it('accepts the same schemas (keys in any order) and different custom names', () => {
    const d = write({
      'alpha.yaml': manifest({ name: 'alpha' }),
      'beta.yaml': manifest({ name: 'beta', input: '      properties: { name: { type: string } }\n      type: object' }),
      'gamma.yaml': manifest({ name: 'gamma', capability: 'make_thing', input: '      type: object\n      properties: { name: { type: integer } }' }),
    });
    const reg = loadConnectorDir(d);
    expect(reg.issues).toEqual([]);
    expect([...reg.connectors.keys()]).toEqual(['alpha', 'beta', 'gamma']);
  });
});
