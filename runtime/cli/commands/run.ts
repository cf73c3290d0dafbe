import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConnectorArgs } from '../connector-args.ts';
import { formatIssue } from '../../manifest/load.ts';
import { Engine } from '../../engine/engine.ts';
import { readConfig } from '../../config/env.ts';
import { PlugboardError } from '../../errors/plugboard-error.ts';

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PlugboardError('validation', 'must be a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${what} file ${file} is not a JSON object: ${(err as Error).message}`);
  }
}

export const runCommand: Command = {
  name: 'run',
  usage: 'run <connector|file> <capability|verify>',
  summary: 'run one capability for real and print the normalized output',
  help: `Usage: plugboard run <connector> <capability> --credentials creds.json [--input input.json]
                     [--base-url URL] [--environment NAME]

Runs one capability (or "verify", the credentials check) against the provider and prints the
normalized output, or the typed error, as JSON. Exit 0 on success, 1 on any error.
  <connector>          a connector name (<name>.yaml in PLUGBOARD_CONNECTORS_DIR, default
                       ./connectors) or the path of a manifest file (./mailgun.yaml)
  --credentials FILE   JSON object of credential values (required)
  --input FILE         JSON object of capability input ("-" reads standard input)
  --base-url URL       send to this base URL instead of the manifest's (sandbox, mock)
  --environment NAME   pick one of the manifest's environments (e.g. sandbox)`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { credentials: { type: 'string' }, input: { type: 'string' }, 'base-url': { type: 'string' }, environment: { type: 'string' } },
    });
    const [connectorName, capability] = positionals;
    if (!connectorName || !capability) throw new CliError('usage: plugboard run <connector> <capability> --credentials creds.json [--input input.json]');
    if (!values.credentials) throw new CliError('--credentials FILE is required');
    // Only this connector's manifest is loaded: another broken manifest does not block it.
    const reg = loadConnectorArgs(readConfig().connectorsDir, [connectorName]);
    const connector = [...reg.connectors.values()][0];
    if (!connector) {
      for (const i of reg.issues) console.error(formatIssue(i));
      throw new CliError(`connector "${connectorName}" has manifest problems`);
    }
    const credentials = readJson(values.credentials, 'credentials');
    const input = values.input ? readJson(values.input, 'input') : {};
    const engine = new Engine();
    const opts = { credentials, input, baseUrl: values['base-url'], integration: values.environment ? { environment: values.environment } : undefined };
    const result = capability === 'verify' ? await engine.verify(connector, opts) : await engine.run(connector, capability, opts);
    await engine.close(); // an smtp connector's connection pool
    const printed = result.ok ? { ok: true, output: result.output, meta: result.meta } : { ok: false, error: result.error, meta: result.meta };
    console.log(JSON.stringify(printed, null, 2));
    return result.ok ? 0 : 1;
  },
};
