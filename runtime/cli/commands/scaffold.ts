import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { scaffold } from '../../codegen/scaffold/scaffold.ts';
import { readConfig } from '../../config/env.ts';
import { PlugboardError } from '../../errors/plugboard-error.ts';

export const scaffoldCommand: Command = {
  name: 'scaffold',
  usage: 'scaffold --spec FILE --operation ID...',
  summary: "write a starter manifest from a provider's OpenAPI document",
  help: `Usage: plugboard scaffold --spec FILE [--spec FILE...] --operation <operationId|"METHOD /path">... [--name NAME] [--category C] [--out FILE] [--force]

Writes a starter manifest from a provider's official OpenAPI document (OpenAPI 3.0/3.1, or Swagger
2.0, converted with swagger2openapi): base_url and environments from servers, auth and
credential_schema from the security scheme, and per operation a custom capability named after its
operationId (snake_case) with the request skeleton (path parameters as {{input.x}}, query, headers,
the body's required fields as input.*), input/output schemas, a response mapping skeleton and one
offline example from the spec's own examples. Then fill the TODOs and run plugboard validate, test
and contract (docs/manifest.md, "From an OpenAPI document").

  --spec FILE        the provider's spec (JSON or YAML); repeat to merge files (PayPal, Zoho)
  --operation OP     an operationId (case-insensitive) or "METHOD /path"; repeat for several
  --name NAME        the connector name, [a-z0-9_]+ (default: the --out file's name, else from info.title)
  --category C       payment, communication, email, calendar, crm, ... (default: guessed)
  --out FILE         where to write (default: <name>.yaml in PLUGBOARD_CONNECTORS_DIR); "-" prints it
  --force            overwrite an existing file`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        spec: { type: 'string', multiple: true },
        operation: { type: 'string', multiple: true },
        name: { type: 'string' },
        category: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
      },
    });
    if (!values.spec?.length) throw new CliError('--spec FILE is required (the provider\'s OpenAPI or Swagger document)');
    if (!values.operation?.length) throw new CliError('--operation is required (an operationId or "METHOD /path"; repeat for several)');
    const stdout = values.out === '-';
    const fromOut = values.out && !stdout ? path.basename(values.out).replace(/\.ya?ml$/, '') : undefined;
    if (values.name && fromOut && values.name !== fromOut) throw new CliError(`--name "${values.name}" differs from the --out file's name "${fromOut}" (a manifest's name equals its file name)`);
    const name = values.name ?? (fromOut && /^[a-z0-9_]+$/.test(fromOut) ? fromOut : undefined);
    // Refuse an existing --out before the (possibly slow) spec is read.
    if (values.out && !stdout && fs.existsSync(values.out) && !values.force) throw new CliError(`${values.out} exists; use --force to overwrite it`);
    let result;
    try {
      result = await scaffold({ specs: values.spec, operations: values.operation, name, category: values.category });
    } catch (err) {
      if (err instanceof PlugboardError) throw new CliError(err.message.split('\n')[0]!);
      throw err;
    }
    if (stdout) {
      process.stdout.write(result.yaml);
      return 0;
    }
    const out = values.out ?? path.join(readConfig().connectorsDir, `${result.name}.yaml`);
    if (fs.existsSync(out) && !values.force) throw new CliError(`${out} exists; use --force to overwrite it`);
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, result.yaml);
    for (const f of result.fixups) console.log(`note: ${f}`);
    console.log(`wrote ${out}: connector "${result.name}", ${Object.keys(result.manifest.capabilities).join(', ')}`);
    console.log(`next: fill the TODOs, then plugboard validate ${out} && plugboard test ${out}`);
    return 0;
  },
};
