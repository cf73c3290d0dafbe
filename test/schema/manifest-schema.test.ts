// The manifest schema is itself tested: every $defs entry (and the top level, named "manifest") has
// valid fixtures that must load cleanly and invalid fixtures that must fail with a stated error.
//
//   test/fixtures/manifests/valid/<def>[-<variant>].yaml    -> loadManifestText reports no issue
//   test/fixtures/manifests/invalid/<def>-<what>.yaml       -> first line `# expect: <json/path> <message substring>`
//
// The fixture's definition is its file name up to the first "-" (definition names use "_", never "-").
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { loadManifestText, formatIssue, type ManifestIssue } from '../../runtime/manifest/load.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/manifests');
const VALID_DIR = path.join(FIXTURES, 'valid');
const INVALID_DIR = path.join(FIXTURES, 'invalid');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/manifest.schema.json'), 'utf8')) as { $defs: Record<string, unknown> };

/** The top level of the schema has no $defs entry; its fixtures are named manifest*.yaml. */
const TOP_LEVEL = 'manifest';
const DEFINITIONS = [TOP_LEVEL, ...Object.keys(schema.$defs)];

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

function definitionOf(file: string): string {
  return file.replace(/\.ya?ml$/, '').split('-')[0];
}

interface Expectation {
  path: string;
  message: string;
}

/** `# expect: <path> <message substring>`; the path `(root)` stands for the document itself (''). */
function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of text.split('\n')) {
    const m = /^#\s*expect:\s*(\S+)\s+(.+?)\s*$/.exec(line);
    if (m) out.push({ path: m[1] === '(root)' ? '' : m[1], message: m[2] });
  }
  return out;
}

function lineCount(text: string): number {
  return text.replace(/\n$/, '').split('\n').length;
}

function describeIssues(issues: ManifestIssue[]): string {
  return issues.map((i) => `  ${formatIssue(i)}  [${i.rule}]`).join('\n') || '  (none)';
}

const validFiles = yamlFiles(VALID_DIR);
const invalidFiles = yamlFiles(INVALID_DIR);

describe('valid manifest fixtures', () => {
  it.each(validFiles)('%s loads without issues', (file) => {
    const text = fs.readFileSync(path.join(VALID_DIR, file), 'utf8');
    const res = loadManifestText(text, file);
    expect(res.issues, `unexpected issues:\n${describeIssues(res.issues)}`).toEqual([]);
    expect(res.connector).toBeDefined();
  });
});

describe('invalid manifest fixtures', () => {
  it.each(invalidFiles)('%s fails as its # expect: line says', (file) => {
    const text = fs.readFileSync(path.join(INVALID_DIR, file), 'utf8');
    expect(text.split('\n')[0], 'the first line must be `# expect: <path> <message>`').toMatch(/^# expect: \S+ .+/);
    const wanted = expectations(text);
    const res = loadManifestText(text, file);
    expect(res.connector).toBeUndefined();
    expect(res.issues.length, 'an invalid fixture must produce at least one issue').toBeGreaterThan(0);

    for (const want of wanted) {
      const hit = res.issues.find((i) => i.path === want.path && i.message.includes(want.message));
      expect(hit, `no issue at "${want.path || '(root)'}" containing "${want.message}"; got:\n${describeIssues(res.issues)}`).toBeDefined();
    }

    const lines = lineCount(text);
    for (const i of res.issues) {
      expect(i.file).toBe(file);
      expect(i.line, `line of ${formatIssue(i)} is outside the ${lines}-line file`).toBeGreaterThanOrEqual(1);
      expect(i.line, `line of ${formatIssue(i)} is outside the ${lines}-line file`).toBeLessThanOrEqual(lines);
      expect(i.column, `column of ${formatIssue(i)}`).toBeGreaterThanOrEqual(1);
      expect(i.column, `column of ${formatIssue(i)} is past the end of its line`).toBeLessThanOrEqual(text.split('\n')[i.line - 1].length + 1);
    }

    // "Breaks exactly that definition": every issue lies at or under the expected path, so the rest
    // of the fixture is known to be valid.
    const prefixes = wanted.map((w) => w.path);
    for (const i of res.issues) {
      const inside = prefixes.some((p) => p === '' || i.path === p || i.path.startsWith(`${p}/`));
      expect(inside, `issue outside the broken definition: ${formatIssue(i)}`).toBe(true);
    }
  });
});

describe('fixture coverage of the manifest schema', () => {
  it('has at least one valid and one invalid fixture for every definition', () => {
    const validDefs = new Set(validFiles.map(definitionOf));
    const invalidDefs = new Set(invalidFiles.map(definitionOf));
    const missingValid = DEFINITIONS.filter((d) => !validDefs.has(d));
    const missingInvalid = DEFINITIONS.filter((d) => !invalidDefs.has(d));
    expect(missingValid, 'definitions without test/fixtures/manifests/valid/<def>.yaml').toEqual([]);
    expect(missingInvalid, 'definitions without test/fixtures/manifests/invalid/<def>-<what>.yaml').toEqual([]);
  });

  it('names every fixture after an existing definition', () => {
    const known = new Set(DEFINITIONS);
    const strays = [...validFiles, ...invalidFiles].filter((f) => !known.has(definitionOf(f)));
    expect(strays, 'fixtures whose name prefix is no schema definition (typo, or a removed definition)').toEqual([]);
  });

  it('names invalid fixtures <def>-<what>.yaml', () => {
    expect(invalidFiles.filter((f) => !f.includes('-'))).toEqual([]);
  });
});
