import path from 'node:path';
import fs from 'node:fs';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConnectorFiles, loadNamedConnectors, manifestFiles } from '../../manifest/registry.ts';
import { formatIssue } from '../../manifest/load.ts';
import { readConfig } from '../../config/env.ts';
import { loadCapabilitySchemas } from '../../manifest/capability-schemas.ts';
import { models } from '../../manifest/models.ts';

export const validateCommand: Command = {
  name: 'validate',
  usage: 'validate [files or connectors...]',
  summary: 'check manifests against the schema and the semantic rules',
  help: `Usage: plugboard validate [files or connectors...]

Validates connector manifests: the files and directories given, or connectors named (e.g.
"validate mailgun" reads mailgun.yaml of PLUGBOARD_CONNECTORS_DIR); default: every *.yaml there.
Prints every problem of every file as  file:line:col  json/path  message  and exits 1 if any;
prints a one-line summary and exits 0 when all are clean. A directory without manifests (*.yaml)
is an error (exit 1).`,
  async run(args) {
    // An argument that is no path but a connector name (mailgun) means that connector's manifest.
    const isName = (a: string) => /^[a-z0-9_]+$/.test(a) && !fs.existsSync(a);
    const names = args.filter(isName);
    const paths = args.filter((a) => !isName(a));
    const inDir = (d: string, what = d) => {
      if (!fs.existsSync(d)) throw new CliError(`connectors directory not found: ${what}`);
      const found = manifestFiles(d);
      if (!found.length) throw new CliError(`no manifests found in ${what}`);
      return found;
    };
    const files = args.length
      ? paths.flatMap((a) => (fs.existsSync(a) && fs.statSync(a).isDirectory() ? inDir(a) : [a]))
      : inDir(readConfig().connectorsDir, `${readConfig().connectorsDir} (PLUGBOARD_CONNECTORS_DIR)`);
    const rel = files.map((f) => path.relative(process.cwd(), f) || f);
    const reg = loadConnectorFiles(rel);
    if (names.length) {
      const named = loadNamedConnectors(path.relative(process.cwd(), readConfig().connectorsDir) || '.', names);
      reg.issues.push(...named.issues);
      for (const [k, c] of named.connectors) reg.connectors.set(k, c);
      files.push(...names);
    }
    for (const issue of reg.issues) console.log(formatIssue(issue));
    if (reg.issues.length) {
      const bad = new Set(reg.issues.map((i) => i.file)).size;
      console.error(`${reg.issues.length} problem(s) in ${bad} of ${files.length} manifest(s)`);
      return 1;
    }
    // The shipped schemas compile on first use at run time (a start need not compile what no request
    // uses); validate compiles them all now, so a broken schema file is found here, not by a request.
    for (const schema of loadCapabilitySchemas().values()) {
      schema.validateInput(undefined);
      schema.validateOutput(undefined);
    }
    for (const model of models().values()) model.validate(undefined); // also checks each model's own example
    const caps = [...reg.connectors.values()].reduce((n, c) => n + c.capabilities.size, 0);
    console.log(`${files.length} manifest(s) valid: ${reg.connectors.size} connector(s), ${caps} capabilities`);
    return 0;
  },
};
