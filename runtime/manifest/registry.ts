// All connectors of a directory (PLUGBOARD_CONNECTORS_DIR, default ./connectors).
import fs from 'node:fs';
import path from 'node:path';
import { loadManifestFile, type ManifestIssue } from './load.ts';
import type { Connector } from './connector.ts';

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

export function loadConnectorDir(dir: string): Registry {
  if (!fs.existsSync(dir)) throw new Error(`connectors directory not found: ${dir}`);
  return loadConnectorFiles(manifestFiles(dir));
}
