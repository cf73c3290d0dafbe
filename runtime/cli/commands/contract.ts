import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { isManifestPath } from '../connector-args.ts';
import { loadManifestFile, formatIssue } from '../../manifest/load.ts';
import { readConfig } from '../../config/env.ts';
import { loadSpec } from '../../testkit/contract/spec-document.ts';
import { runContract, formatContractReport } from '../../testkit/contract/run-contract.ts';

export const contractCommand: Command = {
  name: 'contract',
  usage: 'contract <connector> --spec FILE',
  summary: "judge a connector's requests by the provider's official OpenAPI document",
  help: `Usage: plugboard contract <connector> --spec FILE [--spec FILE...] [--environment NAME]

Runs every capability example (with the example's input) and verify (no input) of one connector
against a server on 127.0.0.1 that judges each request by the provider's OpenAPI document: route,
parameters, body (by its content type), and the security requirement. Nothing leaves the machine.
Prints each run's verdict and every violation (method, path, field, rule). Exit 0 when all pass,
1 otherwise.

  <connector>         a connector name (loaded from PLUGBOARD_CONNECTORS_DIR, default ./connectors)
                      or the path of a manifest file
  --spec FILE         the provider's OpenAPI 3 or Swagger 2.0 document (JSON or YAML); repeat it to
                      merge further files, e.g. a recorded fragment for an endpoint the spec lacks
  --environment NAME  use one of the manifest's environments for the base path

Spec fix-ups applied on an in-memory copy: Swagger 2.0 converted (swagger2openapi); patterns Ajv
cannot compile removed; typeless "nullable" rewritten; duplicate or empty enums fixed; a header
parameter "token"/"Authorization" beside a security requirement dropped; a token endpoint the spec
lacks judged by RFC 6749 (client credentials, refresh) and answered with a token.`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { spec: { type: 'string', multiple: true }, environment: { type: 'string' } },
    });
    const [target, extra] = positionals;
    if (!target) throw new CliError('usage: plugboard contract <connector> --spec FILE');
    if (extra) throw new CliError(`one connector at a time (got "${target}" and "${extra}")`);
    if (!values.spec?.length) throw new CliError('--spec FILE is required: the provider\'s OpenAPI document');
    const file = isManifestPath(target) ? path.resolve(target) : path.join(readConfig().connectorsDir, `${target}.yaml`);
    const loaded = loadManifestFile(file);
    if (!loaded.connector) {
      const unreadable = loaded.issues.find((i) => i.rule === 'io');
      if (unreadable) throw new CliError(`unknown connector "${target}": ${file}: ${unreadable.message}`);
      for (const i of loaded.issues) console.error(formatIssue(i));
      throw new CliError(`connector "${target}" has manifest problems (above); run plugboard validate`);
    }
    let spec;
    try {
      spec = await loadSpec(values.spec);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    let report;
    try {
      report = await runContract(loaded.connector, { spec, environment: values.environment });
    } catch (err) {
      throw new CliError((err as Error).message.split('\n')[0]!);
    }
    for (const line of formatContractReport(report)) console.log(line);
    return report.failed ? 1 : 0;
  },
};
