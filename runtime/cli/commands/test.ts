import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConnectorDir } from '../../manifest/registry.ts';
import { loadConnectorArgs } from '../connector-args.ts';
import { formatIssue } from '../../manifest/load.ts';
import { runConnectorExamples } from '../../testkit/examples.ts';
import { readConfig } from '../../config/env.ts';

export const testCommand: Command = {
  name: 'test',
  usage: 'test [connector or file...]',
  summary: "run the manifests' capability examples offline",
  help: `Usage: plugboard test [connector or file...]

Runs every capability example of the connectors given without network: the example's recorded
provider response is served in memory, and the request built and the output produced are
compared with the example. Mismatches are printed as a diff (- expected, + actual).
Exit 0 when all pass, 1 otherwise (also when there is no manifest to test).

  connector   a connector name: <name>.yaml in PLUGBOARD_CONNECTORS_DIR (default ./connectors)
  file        the path of a manifest file, e.g. ./mailgun.yaml or /tmp/x/mailgun.yaml
  (none)      every manifest in PLUGBOARD_CONNECTORS_DIR`,
  async run(args) {
    const dir = readConfig().connectorsDir;
    const reg = args.length ? loadConnectorArgs(dir, args) : loadConnectorDir(dir);
    if (!reg.files.length) throw new CliError(`no manifests found in ${dir} (PLUGBOARD_CONNECTORS_DIR)`);
    if (args.length && reg.issues.length) {
      for (const i of reg.issues) console.log(formatIssue(i));
      throw new CliError('fix the manifest problems above first (plugboard validate)');
    }
    for (const i of reg.issues) console.log(formatIssue(i));
    let passed = 0;
    let failed = 0;
    for (const connector of reg.connectors.values()) {
      const name = connector.name;
      const results = await runConnectorExamples(connector);
      if (!results.length) console.log(`-    ${name}: no examples`);
      for (const r of results) {
        if (r.passed) passed++;
        else failed++;
        console.log(`${r.passed ? 'ok  ' : 'FAIL'} ${r.connector}.${r.capability}: ${r.example}`);
        for (const p of r.problems) console.log(p.replace(/^/gm, '       '));
      }
    }
    console.log(`${passed} passed, ${failed} failed`);
    if (reg.issues.length) console.log(`${new Set(reg.issues.map((i) => i.file)).size} manifest(s) with problems were not tested (plugboard validate)`);
    return failed || reg.issues.length ? 1 : 0;
  },
};
