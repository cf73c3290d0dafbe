import { loadManifestText } from '../../runtime/manifest/load.ts';
import { formatIssue } from '../../runtime/manifest/load.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';

/** Compiles a manifest given as YAML text, failing loudly on any manifest problem. */
export function connectorFromYaml(yaml: string, file = 'inline.yaml'): Connector {
  const res = loadManifestText(yaml, file);
  if (!res.connector) throw new Error(`manifest problems:\n${res.issues.map(formatIssue).join('\n')}`);
  return res.connector;
}
