import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ConfigError } from '../errors/plugboard-error.ts';

/**
 * The project root (holds schemas/, connectors/, generated/): the nearest folder above this module
 * holding package.json and schemas/manifest.schema.json. Found by walking up rather than by a fixed
 * `../..`, because this module runs both as runtime/config/paths.ts (tsx, tests) and bundled into
 * dist/plugboard.mjs (`npm run build:runtime`).
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'schemas', 'manifest.schema.json')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new ConfigError(`no project root (a folder with package.json and schemas/manifest.schema.json) above ${from}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
export const SCHEMAS_DIR = path.join(PROJECT_ROOT, 'schemas');
export const CAPABILITY_SCHEMAS_DIR = path.join(SCHEMAS_DIR, 'capabilities');
export const MANIFEST_SCHEMA_FILE = path.join(SCHEMAS_DIR, 'manifest.schema.json');
export const DEFAULT_CONNECTORS_DIR = path.join(PROJECT_ROOT, 'connectors');
export const GENERATED_DIR = path.join(PROJECT_ROOT, 'generated');
/**
 * Caches the runtime rebuilds at will (the manifests that loaded, openapi.yaml parsed): PLUGBOARD_CACHE_DIR,
 * by default node_modules/.cache/plugboard (the convention of build tools; `npm ci` empties it). Point
 * it at a writable folder where node_modules is read-only; without a writable one every start parses all.
 */
export const CACHE_DIR = process.env.PLUGBOARD_CACHE_DIR ? path.resolve(process.env.PLUGBOARD_CACHE_DIR) : path.join(PROJECT_ROOT, 'node_modules', '.cache', 'plugboard');
