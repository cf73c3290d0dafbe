#!/usr/bin/env node
// Bundles the runtime (runtime/cli/main.ts and every runtime file it imports) into one ES module,
// dist/plugboard.mjs, so bin/plugboard starts compiled JavaScript instead of transpiling TypeScript
// with tsx at every start. The packages a start loads are bundled too (resolving and wrapping ~400
// CommonJS files from node_modules one by one cost about half of a cold start); those that cannot or
// should not be (native addons, worker-thread transports, packages loaded only by some commands) stay
// external and resolve from node_modules at run time (KEEP_EXTERNAL).
// Run by `npm ci` (prepare), `npm run build` / `npm run build:runtime` and the tests' global setup.
//   node bin/build-runtime.mjs             build
//   node bin/build-runtime.mjs --if-stale  build only when a file under runtime/ or generated/ is
//                                          newer than the bundle (the check bin/plugboard makes)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME_BUNDLE = path.join(ROOT, 'dist', 'plugboard.mjs');
// node_modules/.package-lock.json: npm rewrites it whenever an install changes a package the bundle may carry.
const SOURCES = ['runtime', 'generated', 'node_modules/.package-lock.json'].map((d) => path.join(ROOT, d));

/** The latest modification time (ms) of a file or folder under runtime/ or generated/. */
function newestSource() {
  let newest = 0;
  const walk = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    newest = Math.max(newest, st.mtimeMs);
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
  };
  SOURCES.forEach(walk);
  return newest;
}

/** True when there is no bundle or a source (or a folder: a deleted file) changed after it was built. */
export function runtimeBundleIsStale() {
  if (!fs.existsSync(RUNTIME_BUNDLE)) return true;
  return newestSource() > fs.statSync(RUNTIME_BUNDLE).mtimeMs;
}

/**
 * Builds dist/plugboard.mjs (and its source map). The files are written beside and renamed into
 * place, so a process starting meanwhile never reads half a bundle, and dated when the build began,
 * so a source saved during the build leaves the bundle stale rather than silently older.
 */
/**
 * Packages left out of the bundle: native addons (better-sqlite3), pino (its transports run in worker
 * threads that load files by path), packages imported lazily by one command or route (MongoDB, the MCP
 * SDK, code generation, spec conversion) so a start never parses them, and optional peers.
 */
const KEEP_EXTERNAL = [
  'better-sqlite3', 'pino', 'pino-pretty', 'thread-stream', 'pg-native',
  'mongodb', '@agendajs/mongo-backend', '@modelcontextprotocol/sdk', 'json-schema-to-typescript', 'swagger2openapi',
  'playwright-core', 'esbuild', 'vite', 'typescript', 'prettier',
];

export async function buildRuntime() {
  const began = new Date();
  const result = await build({
    entryPoints: [path.join(ROOT, 'runtime', 'cli', 'main.ts')],
    outfile: RUNTIME_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: KEEP_EXTERNAL,
    // Bundled CommonJS packages call require() for Node's modules and for the external packages.
    banner: { js: "import { createRequire as __plugboardCreateRequire } from 'node:module'; const require = __plugboardCreateRequire(import.meta.url);" },
    // Class and function names as written (errors set `name` from `new.target.name`).
    keepNames: true,
    // Without comments: a few package comments hold non-ASCII characters (’, §), which made V8 keep the
    // whole 7.7 MB source as a two-byte string (~15 MB of heap); stack traces map through the source map.
    minifyWhitespace: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  fs.mkdirSync(path.dirname(RUNTIME_BUNDLE), { recursive: true });
  // The map first: the bundle's rename is what makes bin/plugboard use the new build.
  const files = [...result.outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
  for (const f of files) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, f.contents);
    fs.utimesSync(tmp, began, began);
    fs.renameSync(tmp, f.path);
  }
}

/**
 * Fills the manifest cache (runtime/manifest/manifest-cache.ts) by validating the shipped connectors
 * with the new bundle, so even the first `serve` after `npm ci` starts from it. Best effort: a broken
 * manifest is simply not cached (serve reports it), and no failure here fails the build.
 */
function warmManifestCache() {
  spawnSync(process.execPath, [RUNTIME_BUNDLE, 'validate'], { cwd: ROOT, stdio: 'ignore', timeout: 60_000 });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || runtimeBundleIsStale()) {
    await buildRuntime();
    warmManifestCache();
  }
}
