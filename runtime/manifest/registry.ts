// All connectors of a directory (PLUGBOARD_CONNECTORS_DIR, default ./connectors).
import fs from 'node:fs';
import path from 'node:path';
import { loadManifestFile, type ManifestIssue } from './load.ts';
import type { Connector } from './connector.ts';
import { didYouMean } from './suggest.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface Registry {
  connectors: Map<string, Connector>;
  issues: ManifestIssue[];
  files: string[];
}

export function manifestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function loadConnectorFiles(files: string[]): Registry {
  const connectors = new Map<string, Connector>();
  const issues: ManifestIssue[] = [];
  for (const file of files) {
    const res = loadManifestFile(file);
    issues.push(...res.issues);
    if (!res.connector) continue;
    const dup = connectors.get(res.connector.name);
    if (dup) {
      issues.push({ file, line: 1, column: 1, path: 'name', message: `connector name "${res.connector.name}" is already used by ${dup.file}`, rule: 'unique_name' });
      continue;
    }
    connectors.set(res.connector.name, res.connector);
  }
  return { connectors, issues, files };
}

/** The manifest file of a connector in a directory (`<name>.yaml` or `.yml`), if any. */
function manifestFileOf(dir: string, name: string): string | undefined {
  return ['.yaml', '.yml'].map((ext) => path.join(dir, `${name}${ext}`)).find((f) => fs.existsSync(f));
}

/**
 * Only the named connectors of a directory, with the problems of those only: a broken manifest of
 * another connector does not stop `validate`, `test`, `run` or `contract` on these (`serve` loads all).
 * An unknown name is a problem of its own (rule `unknown_connector`).
 */
export function loadNamedConnectors(dir: string, names: string[]): Registry {
  if (!fs.existsSync(dir)) throw new PlugboardError('config', `connectors directory not found: ${dir}`);
  const files: string[] = [];
  const unknown: ManifestIssue[] = [];
  for (const name of new Set(names)) {
    const file = manifestFileOf(dir, name);
    if (file) {
      files.push(file);
      continue;
    }
    const known = manifestFiles(dir).map((f) => path.basename(f).replace(/\.ya?ml$/, ''));
    unknown.push({
      file: dir, line: 1, column: 1, path: '', rule: 'unknown_connector',
      message: `unknown connector "${name}"${didYouMean(name, known)} (known: ${known.join(', ') || 'none'})`,
    });
  }
  const reg = loadConnectorFiles(files);
  return { ...reg, issues: [...unknown, ...reg.issues] };
}

export function loadConnectorDir(dir: string): Registry {
  if (!fs.existsSync(dir)) throw new PlugboardError('config', `connectors directory not found: ${dir}`);
  return loadConnectorFiles(manifestFiles(dir));
}
