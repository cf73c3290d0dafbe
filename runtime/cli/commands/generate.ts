import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConnectorDir } from '../../manifest/registry.ts';
import { formatIssue } from '../../manifest/load.ts';
import { loadCapabilitySchemas } from '../../manifest/capability-schemas.ts';
import { generate, writeGenerated, diffGenerated } from '../../codegen/generate.ts';
import { GENERATED_DIR } from '../../config/paths.ts';
import { readConfig } from '../../config/env.ts';

export const generateCommand: Command = {
  name: 'generate',
  usage: 'generate [--out DIR] [--check]',
  summary: 'write typed adapters and types into generated/',
  help: `Usage: plugboard generate [--out DIR] [--check]

Writes TypeScript types (credentials per connector, input/output per capability, a record type
per sync model in schemas/models/) and typed adapters (adapters.twilio.send_sms(input)) into
generated/ (or DIR).
  --check   write nothing; exit 1 and list the files that are out of date`,
  async run(args) {
    const { values } = parseArgs({ args, options: { out: { type: 'string' }, check: { type: 'boolean' } } });
    const reg = loadConnectorDir(readConfig().connectorsDir);
    if (reg.issues.length) {
      for (const i of reg.issues) console.log(formatIssue(i));
      throw new CliError('fix the manifest problems above first (plugboard validate)');
    }
    const out = path.resolve(values.out ?? GENERATED_DIR);
    const files = await generate([...reg.connectors.values()], loadCapabilitySchemas());
    if (values.check) {
      const stale = diffGenerated(out, files);
      if (stale.length) {
        console.error(`generated code is out of date: ${stale.join(', ')} (run npm run generate)`);
        return 1;
      }
      console.log(`generated code is up to date (${files.size} files)`);
      return 0;
    }
    const written = writeGenerated(out, files);
    console.log(`wrote ${written.length} files to ${path.relative(process.cwd(), out) || out}`);
    return 0;
  },
};
