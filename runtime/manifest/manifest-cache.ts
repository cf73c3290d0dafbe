// The cache of manifests that loaded without a problem: the data their YAML parsed into, on disk under
// PLUGBOARD_CACHE_DIR (node_modules/.cache/plugboard/manifests), keyed by a hash of the text and of
// everything besides it that decides whether the text loads: the manifest and capability schemas, the
// versions of the packages that parse and check it, and Plugboard's own code (the running bundle, or
// every file under runtime/ when the sources run), so a new check never meets an entry an older build
// wrote. A start whose manifests did not change skips the YAML parse, the manifest schema (and
// compiling it) and the examples' validation against the capability schemas, most of loading 30
// manifests; the other semantic checks and the compile into a Connector still run on every load. A
// text with a problem is never cached: its issues, with lines and columns, come from a full load.
// The cache is an optimisation only: a missing, unreadable or corrupt entry is a miss, a failed write
// is ignored, and a folder others may write to is not used at all (an entry is trusted as checked).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { CACHE_DIR, CAPABILITY_SCHEMAS_DIR, MANIFEST_SCHEMA_FILE } from '../config/paths.ts';

/** Bump when the meaning of an entry changes. */
const FORMAT = 'plugboard-manifest-cache-2';
/** Entries kept at most: past it, a write removes the older half (edited manifests leave old entries). */
const MAX_ENTRIES = 512;

const versionsOf = (packages: string[]) => packages.map((p) => `${p}@${(createRequire(import.meta.url)(`${p}/package.json`) as { version: string }).version}`);

/**
 * Plugboard's own code as it runs: the bundle's size and time (bin/build-runtime.mjs writes it
 * whole), or, from the sources (tsx, tests), the size and time of every file under runtime/.
 */
function codeIdentity(): string {
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.ts')) {
    const st = fs.statSync(self);
    return `bundle:${st.size}:${st.mtimeMs}`;
  }
  const root = path.resolve(path.dirname(self), '..');
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const st = fs.statSync(p);
        parts.push(`${path.relative(root, p)}:${st.size}:${st.mtimeMs}`);
      }
    }
  };
  walk(root);
  return `sources:${parts.join('|')}`;
}

let fingerprint: string | undefined;

/** What, besides the text, decides that a manifest loads: computed once per process. */
function loaderFingerprint(): string {
  if (fingerprint === undefined) {
    const versions = versionsOf(['yaml', 'ajv', 'ajv-formats', 'jsonata', 'handlebars']);
    const schemas = [MANIFEST_SCHEMA_FILE, ...fs.readdirSync(CAPABILITY_SCHEMAS_DIR).sort().map((f) => path.join(CAPABILITY_SCHEMAS_DIR, f))];
    fingerprint = crypto.createHash('sha256').update([FORMAT, codeIdentity(), ...versions, ...schemas.flatMap((f) => [path.basename(f), fs.readFileSync(f, 'utf8')])].join('\0')).digest('hex');
  }
  return fingerprint;
}

export interface ManifestCache {
  /** The data a text parsed into when it last loaded without a problem, if cached. */
  get(text: string): Record<string, unknown> | undefined;
  /** Remembers the data of a text that loaded without a problem (skipped when JSON cannot hold it exactly). */
  put(text: string, data: unknown): void;
}

export function manifestCache(dir = path.join(CACHE_DIR, 'manifests')): ManifestCache {
  return parsedTextCache(dir, loaderFingerprint);
}

/**
 * The same cache for a YAML document the runtime only parses (schemas/openapi.yaml, about 10% of a
 * start): the data it parsed into, keyed by its text and the yaml version.
 */
export function yamlDocumentCache(name: string): ManifestCache {
  const fp = `${FORMAT}\0${versionsOf(['yaml']).join()}`;
  return parsedTextCache(path.join(CACHE_DIR, name), () => fp);
}

const trusted = new Map<string, boolean>();

/**
 * Whether entries in `dir` may be trusted: it is this user's and nobody else may write to it (an
 * entry is taken as already checked). A folder not there yet counts as trusted: it is created 0700.
 */
function trustedDir(dir: string): boolean {
  let ok = trusted.get(dir);
  if (ok === undefined) {
    try {
      const st = fs.statSync(dir);
      ok = (typeof process.getuid !== 'function' || st.uid === process.getuid()) && (st.mode & 0o022) === 0;
    } catch {
      ok = true;
    }
    trusted.set(dir, ok);
  }
  return ok;
}

function parsedTextCache(dir: string, fingerprintOf: () => string): ManifestCache {
  const fileOf = (text: string) => path.join(dir, `${crypto.createHash('sha256').update(fingerprintOf()).update('\0').update(text).digest('hex')}.json`);
  return {
    get(text) {
      if (!trustedDir(dir)) return undefined;
      try {
        const data: unknown = JSON.parse(fs.readFileSync(fileOf(text), 'utf8'));
        return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
      } catch {
        return undefined; // missing or corrupt: the full load rewrites it
      }
    },
    put(text, data) {
      let tmp: string | undefined;
      try {
        if (!trustedDir(dir)) return;
        const json = JSON.stringify(data); // throws on a cycle (a YAML alias to itself): not cached
        // YAML can hold what JSON cannot (.nan, .inf): such a manifest is simply not cached.
        if (!isDeepStrictEqual(JSON.parse(json), data)) return;
        const file = fileOf(text);
        tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(tmp, json, { mode: 0o600 });
        fs.renameSync(tmp, file); // atomic: a concurrent start reads the old entry or the whole new one
        prune(dir);
      } catch {
        if (tmp) fs.rmSync(tmp, { force: true });
      }
    },
  };
}

function prune(dir: string): void {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names.map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - MAX_ENTRIES / 2)) fs.rmSync(path.join(dir, n), { force: true });
}
