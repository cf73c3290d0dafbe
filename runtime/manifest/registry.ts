// All connectors of a directory (PLUGBOARD_CONNECTORS_DIR, default ./connectors).
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadManifestFile, type ManifestIssue } from './load.ts';
import type { Connector } from './connector.ts';
import { didYouMean } from './suggest.ts';
import { loadCapabilitySchemas } from './capability-schemas.ts';
import type { SourceMap } from './source-map.ts';
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

/**
 * A custom capability's name means one capability across connectors (routing and fallback, its MCP
 * tool, its generated types): a connector that defines it with another input or output schema than an
 * earlier file is a problem of that connector, naming the earlier file.
 */
function customConflicts(c: Connector, map: SourceMap | undefined, first: Map<string, Connector>): ManifestIssue[] {
  const standard = loadCapabilitySchemas();
  const out: ManifestIssue[] = [];
  for (const [name, cap] of c.capabilities) {
    if (standard.has(name)) continue;
    const other = first.get(name)?.capabilities.get(name);
    if (!other) continue;
    const differs = (['input', 'output'] as const).filter((w) => !isDeepStrictEqual(cap.schema[w], other.schema[w]));
    if (!differs.length) continue;
    const segs = ['capabilities', name, differs[0]!];
    out.push({
      file: c.file, ...(map?.position(segs) ?? { line: 1, column: 1 }), path: segs.join('/'), rule: 'custom_capability_conflict',
      message: `custom capability "${name}" is also defined by ${first.get(name)!.file} with another ${differs.join(' and ')} schema: one name is one capability across connectors (its MCP tool, its generated types), so give it the same schemas there or rename it`,
    });
  }
  return out;
}

export function loadConnectorFiles(files: string[]): Registry {
  const connectors = new Map<string, Connector>();
  const issues: ManifestIssue[] = [];
  /** The connector that first defined each custom capability name. */
  const customs = new Map<string, Connector>();
  for (const file of files) {
    const res = loadManifestFile(file);
    issues.push(...res.issues);
    if (!res.connector) continue;
    const dup = connectors.get(res.connector.name);
    if (dup) {
      issues.push({ file, line: 1, column: 1, path: 'name', message: `connector name "${res.connector.name}" is already used by ${dup.file}`, rule: 'unique_name' });
      continue;
    }
    const conflicts = customConflicts(res.connector, res.map, customs);
    if (conflicts.length) {
      issues.push(...conflicts);
      continue;
    }
    for (const name of res.connector.capabilities.keys()) if (!customs.has(name)) customs.set(name, res.connector);
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
