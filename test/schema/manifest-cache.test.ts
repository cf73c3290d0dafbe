// The cache of manifests that loaded without a problem (runtime/manifest/manifest-cache.ts): a hit
// skips the YAML parse and the manifest schema, a problem is never cached, a corrupt entry is a miss.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { manifestCache, type ManifestCache } from '../../runtime/manifest/manifest-cache.ts';
import { SourceMap } from '../../runtime/manifest/source-map.ts';
import { runConnectorExamples } from '../../runtime/testkit/examples.ts';

const TEXT = fs.readFileSync(path.resolve(import.meta.dirname, '../../connectors/twilio.yaml'), 'utf8');

let dir: string;
let cache: ManifestCache;
const entries = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')) : []);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-manifest-cache-'));
  cache = manifestCache(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('manifest cache', () => {
  it('remembers a manifest that loaded, and a second load of the same text uses the remembered data', () => {
    const first = loadManifestText(TEXT, 'twilio.yaml', { expectedName: 'twilio', cache });
    expect(first.issues).toEqual([]);
    expect(entries()).toHaveLength(1);
    // Proof the second load reads the entry rather than the text: change what the entry holds.
    const file = path.join(dir, entries()[0]!);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(data.name).toBe('twilio');
    fs.writeFileSync(file, JSON.stringify({ ...data, display_name: 'From the cache' }));
    const second = loadManifestText(TEXT, 'twilio.yaml', { expectedName: 'twilio', cache });
    expect(second.issues).toEqual([]);
    expect(second.connector!.displayName).toBe('From the cache');
    expect(second.connector!.capabilities.size).toBe(first.connector!.capabilities.size);
  });

  it('a connector loaded from the cache runs its offline examples as one loaded in full (expressions compiled on first use)', async () => {
    const full = loadManifestText(TEXT, 'twilio.yaml', { cache });
    const hit = loadManifestText(TEXT, 'twilio.yaml', { cache });
    expect(full.connector).toBeDefined();
    const results = await runConnectorExamples(hit.connector!);
    expect(results.length).toBeGreaterThanOrEqual(3);
    for (const r of results) expect(r.problems, `${r.capability}: ${r.example}`).toEqual([]);
    expect(results.map((r) => r.example)).toEqual((await runConnectorExamples(full.connector!)).map((r) => r.example));
  });

  it('keys entries by the text: an edited text is a miss and gets its own entry', () => {
    loadManifestText(TEXT, 'twilio.yaml', { cache });
    const edited = TEXT.replace(/^display_name: .*$/m, 'display_name: Twilio edited');
    expect(edited).not.toBe(TEXT);
    const res = loadManifestText(edited, 'twilio.yaml', { cache });
    expect((res.manifest as { display_name: string }).display_name).toBe('Twilio edited');
    expect(entries()).toHaveLength(2);
  });

  it('never caches a text with a problem: every load reports it at its line', () => {
    const broken = TEXT.replace(/^category: .*$/m, 'category: not-a-category');
    const line = broken.split('\n').findIndex((l) => l.startsWith('category:')) + 1;
    for (let i = 0; i < 2; i++) {
      const res = loadManifestText(broken, 'twilio.yaml', { cache });
      expect(res.issues.map((x) => [x.path, x.line])).toContainEqual(['category', line]);
    }
    expect(entries()).toEqual([]);
  });

  it('treats a corrupt entry as a miss and rewrites it', () => {
    loadManifestText(TEXT, 'twilio.yaml', { cache });
    const file = path.join(dir, entries()[0]!);
    fs.writeFileSync(file, '{"name": "twil');
    const res = loadManifestText(TEXT, 'twilio.yaml', { cache });
    expect(res.issues).toEqual([]);
    expect(res.connector!.name).toBe('twilio');
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).name).toBe('twilio');
  });

  it('loads in full when an entry does not compile (written by something else), and rewrites it', () => {
    loadManifestText(TEXT, 'twilio.yaml', { cache });
    const file = path.join(dir, entries()[0]!);
    fs.writeFileSync(file, JSON.stringify({ name: 'twilio' }));
    const res = loadManifestText(TEXT, 'twilio.yaml', { expectedName: 'twilio', cache });
    expect(res.issues).toEqual([]);
    expect(res.connector!.capabilities.size).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).capabilities).toBeDefined();
  });

  it('loads in full when a hit has a problem (the file was renamed), so the problem has its position', () => {
    loadManifestText(TEXT, 'twilio.yaml', { cache });
    const res = loadManifestText(TEXT, 'sms.yaml', { expectedName: 'sms', cache });
    const line = TEXT.split('\n').findIndex((l) => l.startsWith('name:')) + 1;
    expect(res.issues.map((i) => [i.rule, i.line])).toEqual([['file_name', line]]);
  });

  it('does not use a folder others may write to', () => {
    fs.chmodSync(dir, 0o777);
    const open = manifestCache(dir);
    loadManifestText(TEXT, 'twilio.yaml', { cache: open });
    expect(entries()).toEqual([]);
  });

  it('never throws on data JSON cannot hold at all (a YAML alias to itself): it is not cached', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = [cyclic];
    expect(() => cache.put('cyclic', cyclic)).not.toThrow();
    expect(cache.get('cyclic')).toBeUndefined();
    expect(entries()).toEqual([]);
  });

  it('skips data JSON cannot hold exactly (YAML .nan, .inf)', () => {
    cache.put('text', { a: Number.NaN });
    cache.put('text2', { a: 1 });
    expect(cache.get('text')).toBeUndefined();
    expect(cache.get('text2')).toEqual({ a: 1 });
  });

  it('places a problem found on a hit: the source map parses the text when first asked', () => {
    const map = new SourceMap(TEXT);
    const line = TEXT.split('\n').findIndex((l) => l.startsWith('category:')) + 1;
    expect(map.position(['category']).line).toBe(line);
  });
});
