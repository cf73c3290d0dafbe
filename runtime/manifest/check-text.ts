// Checking a manifest sent as text (POST /manifests/validate, the studio's playground) with exactly
// the validator `plugboard validate` runs on a file: loadManifestText, with the file-name rule when a
// file name is given. Any text gets an answer: a problem list, never an exception.
import { loadManifestText } from './load.ts';
import type { Connector } from './connector.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

/** The largest manifest accepted, in bytes of UTF-8 (the largest shipped manifest is far smaller). */
export const MAX_MANIFEST_BYTES = 256 * 1024;

export interface ManifestProblem {
  line: number;
  column: number;
  /** JSON path inside the manifest ('' for the document). */
  path: string;
  message: string;
  /** A JSON Schema keyword, 'yaml', or the name of a semantic check. */
  rule: string;
  severity: 'error';
}

export interface ConnectorSummary {
  name: string;
  display_name: string;
  category: string;
  auth_type: string;
  capabilities: string[];
  streams: string[];
  environments: string[];
  credential_schema: Connector['credentialSchema'];
  /** The JSON Schema of the credentials object the manifest generates (what the credential form validates). */
  credentials_json_schema: Connector['credentialsJsonSchema'];
}

export interface ManifestCheck {
  valid: boolean;
  problems: ManifestProblem[];
  connector?: ConnectorSummary;
}

function summary(c: Connector): ConnectorSummary {
  return {
    name: c.name,
    display_name: c.displayName,
    category: c.category,
    auth_type: c.manifest.auth.type,
    capabilities: [...c.capabilities.keys()],
    streams: [...c.streams.keys()],
    environments: Object.keys(c.environments),
    credential_schema: c.credentialSchema,
    credentials_json_schema: c.credentialsJsonSchema,
  };
}

/**
 * Validates manifest text. `filename` (e.g. "stripe.yaml") adds the CLI's rule that `name` matches
 * the file name. Over MAX_MANIFEST_BYTES: a too_large error naming `field`.
 */
export function checkManifestText(text: string, filename?: string, field = 'yaml'): ManifestCheck {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MANIFEST_BYTES) {
    throw new PlugboardError('too_large', `The manifest is too large (limit ${MAX_MANIFEST_BYTES / 1024} KB).`, { errors: { [field]: [`must be at most ${MAX_MANIFEST_BYTES / 1024} KB of UTF-8 (got ${bytes} bytes)`] } });
  }
  const file = filename ?? 'manifest.yaml';
  const expectedName = filename === undefined ? undefined : file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '');
  let result: ReturnType<typeof loadManifestText>;
  try {
    result = loadManifestText(text, file, { expectedName });
  } catch (err) {
    // A text the validator itself cannot digest is still a problem of the text, reported as one.
    return { valid: false, problems: [{ line: 1, column: 1, path: '', message: `the manifest could not be checked: ${(err as Error).message}`, rule: 'unreadable', severity: 'error' }] };
  }
  const problems = result.issues.map((i) => ({ line: i.line, column: i.column, path: i.path, message: i.message, rule: i.rule, severity: 'error' as const }));
  return { valid: problems.length === 0 && !!result.connector, problems, ...(result.connector && !problems.length ? { connector: summary(result.connector) } : {}) };
}
