// bin/plugboard runs dist/plugboard.mjs (the runtime bundled by bin/build-runtime.mjs) only while no
// file under runtime/ or generated/ is newer, else the TypeScript through tsx; and the bundle itself
// works from dist/ (finds the project root, its schemas and connectors, from any working directory).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

describe('bin/plugboard: compiled or TypeScript', () => {
  let dir: string;
  const run = (args = ['x'], env: Record<string, string> = {}) => execFileSync(path.join(dir, 'bin', 'plugboard'), args, { encoding: 'utf8', env: { ...process.env, ...env } }).trim();
  const later = (file: string, s: number) => {
    const t = new Date(fs.statSync(path.join(dir, 'dist', 'plugboard.mjs')).mtimeMs + s * 1000);
    fs.utimesSync(file, t, t);
  };

  beforeAll(() => {
    // A project of its own: the real bin/plugboard and tsx, a "runtime" and a "bundle" naming themselves.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bin-'));
    for (const d of ['bin', 'dist', 'runtime/cli', 'generated']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, 'bin', 'plugboard'), path.join(dir, 'bin', 'plugboard'));
    fs.chmodSync(path.join(dir, 'bin', 'plugboard'), 0o755);
    fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    // Each names itself, its arguments and the heap ceiling node was given, if any.
    const heap = "...process.execArgv.filter((a) => a.startsWith('--max-old-space-size'))";
    fs.writeFileSync(path.join(dir, 'runtime', 'cli', 'main.ts'), `const from: string = 'typescript';\nconsole.log([from, ...process.argv.slice(2), ${heap}].join(' '));\n`);
    fs.writeFileSync(path.join(dir, 'generated', 'index.ts'), 'export {};\n');
    fs.writeFileSync(path.join(dir, 'dist', 'plugboard.mjs'), `console.log(['compiled', ...process.argv.slice(2), ${heap}].join(' '));\n`);
    for (const f of ['runtime/cli/main.ts', 'generated/index.ts', 'runtime/cli', 'runtime', 'generated']) later(path.join(dir, f), -60);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the bundle when no source is newer, passing the arguments', () => {
    expect(run()).toBe('compiled x');
  });

  it('gives serve and worker a heap ceiling: 512 MB, PLUGBOARD_MAX_HEAP_MB, none for 0; a malformed value stops it', () => {
    expect(run(['serve'])).toBe('compiled serve --max-old-space-size=512');
    expect(run(['serve'], { PLUGBOARD_MAX_HEAP_MB: '2048' })).toBe('compiled serve --max-old-space-size=2048');
    expect(run(['serve'], { PLUGBOARD_MAX_HEAP_MB: '0' })).toBe('compiled serve');
    expect(run(['worker'])).toBe('compiled worker --max-old-space-size=512');
    expect(run(['validate'])).toBe('compiled validate');
    expect(() => run(['serve'], { PLUGBOARD_MAX_HEAP_MB: '512mb' })).toThrow(/PLUGBOARD_MAX_HEAP_MB must be a whole number of megabytes/);
  });

  it('runs the TypeScript once a file under runtime/ or generated/ is newer than the bundle', () => {
    later(path.join(dir, 'runtime', 'cli', 'main.ts'), 5);
    expect(run()).toBe('typescript x');
    later(path.join(dir, 'runtime', 'cli', 'main.ts'), -60);
    expect(run()).toBe('compiled x');
    later(path.join(dir, 'generated', 'index.ts'), 5);
    expect(run()).toBe('typescript x');
  });

  it('runs the TypeScript when there is no bundle', () => {
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(run()).toBe('typescript x');
  });
});

describe('dist/plugboard.mjs', () => {
  const bundle = path.join(PROJECT_ROOT, 'dist', 'plugboard.mjs');

  it('is built by the test setup and validates the shipped connectors from another working directory', () => {
    expect(fs.existsSync(bundle)).toBe(true);
    const out = execFileSync(process.execPath, [bundle, 'validate'], { encoding: 'utf8', cwd: os.tmpdir(), env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors') } });
    expect(out).toMatch(/manifest\(s\) valid/);
  });

  it('is ASCII only, so V8 keeps its source as a one-byte string (a single ’ doubled it to ~10 MB of heap)', () => {
    const text = fs.readFileSync(bundle, 'latin1');
    const at = text.search(/[^\x00-\x7f]/);
    expect(at, at < 0 ? '' : `non-ASCII near: ${text.slice(Math.max(0, at - 60), at + 20)}`).toBe(-1);
  });

  it('caches the manifests that loaded in PLUGBOARD_CACHE_DIR, one entry each, and loads them from there next time', () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cache-'));
    try {
      const env = { ...process.env, PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors'), PLUGBOARD_CACHE_DIR: cache };
      const manifests = fs.readdirSync(path.join(PROJECT_ROOT, 'connectors')).filter((f) => f.endsWith('.yaml'));
      const first = execFileSync(process.execPath, [bundle, 'validate'], { encoding: 'utf8', env });
      expect(fs.readdirSync(path.join(cache, 'manifests')).filter((f) => f.endsWith('.json'))).toHaveLength(manifests.length);
      expect(execFileSync(process.execPath, [bundle, 'validate'], { encoding: 'utf8', env })).toBe(first);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
