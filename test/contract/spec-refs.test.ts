// $refs to files beside a spec are resolved offline (never fetched); an unresolvable one is a
// one-line error naming it, not a TypeError stack from the dereferencer.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadSpec } from '../../runtime/testkit/contract/spec-document.ts';
import { startSpecServer } from '../../runtime/testkit/contract/spec-server.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const ZOHO = path.join(PROJECT_ROOT, '..', 'shared', 'provider-specs', 'zoho-crm');
const RAW = 'https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/';
let zohoCopy: string;

beforeAll(() => {
  // A copy: the shared spec files are read-only and never changed.
  zohoCopy = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-zoho-refs-'));
  for (const f of fs.readdirSync(ZOHO)) if (f.endsWith('.json')) fs.copyFileSync(path.join(ZOHO, f), path.join(zohoCopy, f));
});

function tmpSpec(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-spec-refs-'));
  for (const [name, doc] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), JSON.stringify(doc));
  return dir;
}

const api = (schema: unknown, extra: Record<string, unknown> = {}) => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths: { '/things': { post: { requestBody: { content: { 'application/json': { schema } } }, responses: { '200': { description: 'ok' } } } } },
  ...extra,
});

describe('spec files that reference their siblings', () => {
  it('resolves Zoho CRM record.json\'s absolute raw.githubusercontent URLs from the files beside it', async () => {
    const spec = await loadSpec([path.join(zohoCopy, 'record.json')]);
    const text = JSON.stringify(spec.document);
    expect(text).not.toContain(RAW);
    expect(spec.document.components.schemas).toHaveProperty(['users__Minified_User']);
    // The contract server dereferences it (this threw a TypeError before).
    const server = await startSpecServer([path.join(zohoCopy, 'record.json')]);
    await server.close();
  });

  it('resolves a relative ./x.json#... reference, and one from that file to a third', async () => {
    const dir = tmpSpec({
      'main.json': api({ $ref: './shared.json#/components/schemas/Thing' }),
      'shared.json': { components: { schemas: { Thing: { type: 'object', properties: { tag: { $ref: 'tags.json#/components/schemas/Tag' }, self: { $ref: '#/components/schemas/Thing' } } } } } },
      'tags.json': { components: { schemas: { Tag: { type: 'string' } } } },
    });
    const spec = await loadSpec([path.join(dir, 'main.json')]);
    expect(spec.document.paths['/things'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/shared__Thing' });
    expect(spec.document.components.schemas.shared__Thing.properties).toEqual({ tag: { $ref: '#/components/schemas/tags__Tag' }, self: { $ref: '#/components/schemas/shared__Thing' } });
    expect(spec.document.components.schemas.tags__Tag).toEqual({ type: 'string' });
  });

  it('a reference to a file that is not beside the spec, to another URL or to a missing target is a one-line error naming it', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ $ref: './missing.json#/components/schemas/X' }, /cannot resolve \$ref "\.\/missing\.json#\/components\/schemas\/X": .*missing\.json cannot be read \(ENOENT\)/],
      [{ $ref: `${RAW}nowhere.json#/components/schemas/X` }, /cannot resolve \$ref "https:\/\/raw\.githubusercontent\.com\/.*nowhere\.json#\/components\/schemas\/X": no file nowhere\.json beside main\.json \(nothing is fetched\)/],
      [{ $ref: 'https://example.com/schemas.json#/X' }, /cannot resolve \$ref "https:\/\/example\.com\/schemas\.json#\/X": only files beside the spec are read, nothing is fetched/],
      [{ $ref: './other.json#/components/schemas/Nope' }, /cannot resolve \$ref "\.\/other\.json#\/components\/schemas\/Nope": other\.json has no #\/components\/schemas\/Nope/],
      [{ $ref: '#/components/schemaz/Thing' }, /cannot resolve \$ref "#\/components\/schemaz\/Thing": the document has no #\/components\/schemaz/],
    ];
    for (const [schema, message] of cases) {
      const dir = tmpSpec({ 'main.json': api(schema, { components: { schemas: { Thing: { type: 'string' } } } }), 'other.json': { components: { schemas: {} } } });
      const err = await loadSpec([path.join(dir, 'main.json')]).then(() => undefined, (e: Error) => e);
      expect(err?.message, JSON.stringify(schema)).toMatch(message);
      expect(err?.message.startsWith('spec file main.json: ')).toBe(true);
      expect(err?.message).not.toContain('\n');
    }
  });

  it('the contract command answers a dangling reference with one line naming it, no stack', () => {
    const dir = tmpSpec({ 'main.json': api({ $ref: './gone.json#/components/schemas/Gone' }) });
    const out = spawnSync(path.join(PROJECT_ROOT, 'bin', 'plugboard'), ['contract', 'zoho_crm', '--spec', path.join(dir, 'main.json')], { encoding: 'utf8', timeout: 60_000 });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('cannot resolve $ref "./gone.json#/components/schemas/Gone"');
    expect(out.stderr).not.toMatch(/TypeError|\n\s+at /);
  });
});
