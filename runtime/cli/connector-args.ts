// Connector arguments of `test`, `run` and `contract`: a connector name (mailgun, the manifest
// <name>.yaml of PLUGBOARD_CONNECTORS_DIR) or the path of a manifest file (/tmp/x/mailgun.yaml).
import path from 'node:path';
import { loadConnectorFiles, loadNamedConnectors, type Registry } from '../manifest/registry.ts';
import { CliError } from './command.ts';

/** A path (has a slash, or ends in .yaml/.yml) rather than a connector name. */
export function isManifestPath(arg: string): boolean {
  return /\.ya?ml$/i.test(arg) || arg.includes('/') || arg.includes(path.sep);
}

/**
 * Loads the connectors the arguments name: names from `dir`, paths as given. A path that cannot be
 * read is a CliError ("unknown connector ..."), like an unknown name.
 */
export function loadConnectorArgs(dir: string, args: string[]): Registry {
  const paths = args.filter(isManifestPath);
  const names = args.filter((a) => !isManifestPath(a));
  const fromPaths = loadConnectorFiles(paths.map((p) => path.relative(process.cwd(), path.resolve(p)) || p));
  const unreadable = fromPaths.issues.find((i) => i.rule === 'io');
  if (unreadable) throw new CliError(`unknown connector "${paths[fromPaths.files.indexOf(unreadable.file)] ?? unreadable.file}": ${unreadable.message}`);
  if (!names.length) return fromPaths;
  const named = loadNamedConnectors(dir, names);
  const unknown = named.issues.find((i) => i.rule === 'unknown_connector');
  if (unknown) throw new CliError(unknown.message);
  for (const [k, c] of named.connectors) {
    if (!fromPaths.connectors.has(k)) fromPaths.connectors.set(k, c);
  }
  return { connectors: fromPaths.connectors, issues: [...fromPaths.issues, ...named.issues], files: [...fromPaths.files, ...named.files] };
}
