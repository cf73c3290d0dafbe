// The cache of manifests that loaded without a problem: the data their YAML parsed into, on disk under
// node_modules/.cache/plugboard/manifests, keyed by a hash of the text and of everything besides it
// that decides whether the text loads (the manifest and capability schemas, the yaml, ajv and
// ajv-formats versions, this format). A start whose manifests did not change skips the YAML parse, the
// manifest schema (and compiling it) and the examples' validation against the capability schemas,
// most of loading 30 manifests; the other semantic checks and the compile into a Connector still run
// on every load. A text with a problem is never cached: its issues, with lines and columns, come from
// a full load each time. The cache is an optimisation only: a missing, unreadable or corrupt entry is
// a miss, a failed write is ignored.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { CACHE_DIR, CAPABILITY_SCHEMAS_DIR, MANIFEST_SCHEMA_FILE } from '../config/paths.ts';

/** Bump when the loader parses or checks a text differently with the same schema and packages. */
const FORMAT = 'plugboard-manifest-cache-1';
/** Entries kept at most: past it, a write removes the older half (edited manifests leave old entries). */
const MAX_ENTRIES = 512;

const versionsOf = (packages: string[]) => packages.map((p) => `${p}@${(createRequire(import.meta.url)(`${p}/package.json`) as { version: string }).version}`);

let fingerprint: string | undefined;

/** What, besides the text, decides that a manifest loads: computed once per process. */
function loaderFingerprint(): string {
  if (fingerprint === undefined) {
    const versions = versionsOf(['yaml', 'ajv', 'ajv-formats']);
    const schemas = [MANIFEST_SCHEMA_FILE, ...fs.readdirSync(CAPABILITY_SCHEMAS_DIR).sort().map((f) => path.join(CAPABILITY_SCHEMAS_DIR, f))];
    fingerprint = crypto.createHash('sha256').update([FORMAT, ...versions, ...schemas.flatMap((f) => [path.basename(f), fs.readFileSync(f, 'utf8')])].join('\0')).digest('hex');
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

function parsedTextCache(dir: string, fingerprintOf: () => string): ManifestCache {
  const fileOf = (text: string) => path.join(dir, `${crypto.createHash('sha256').update(fingerprintOf()).update('\0').update(text).digest('hex')}.json`);
  return {
    get(text) {
      let raw: string;
      try {
        raw = fs.readFileSync(fileOf(text), 'utf8');
      } catch {
        return undefined;
      }
      try {
        const data: unknown = JSON.parse(raw);
        return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
      } catch {
        return undefined; // a corrupt entry: the full load rewrites it
      }
    },
    put(text, data) {
      const json = JSON.stringify(data);
      // YAML can hold what JSON cannot (.nan, .inf): such a manifest is simply not cached.
      if (!isDeepStrictEqual(JSON.parse(json), data)) return;
      const file = fileOf(text);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(tmp, json);
        fs.renameSync(tmp, file); // atomic: a concurrent start reads the old entry or the whole new one
        prune(dir);
      } catch {
        fs.rmSync(tmp, { force: true });
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
