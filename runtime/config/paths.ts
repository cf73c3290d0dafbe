import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The project root (holds schemas/, connectors/, generated/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCHEMAS_DIR = path.join(PROJECT_ROOT, 'schemas');
export const CAPABILITY_SCHEMAS_DIR = path.join(SCHEMAS_DIR, 'capabilities');
export const MANIFEST_SCHEMA_FILE = path.join(SCHEMAS_DIR, 'manifest.schema.json');
export const DEFAULT_CONNECTORS_DIR = path.join(PROJECT_ROOT, 'connectors');
export const GENERATED_DIR = path.join(PROJECT_ROOT, 'generated');
