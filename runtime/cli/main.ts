// The `plugboard` command. Each command prints one clear line on failure and exits non-zero.
import { loadDotEnv } from '../config/env.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { CliError, type Command } from './command.ts';
import { validateCommand } from './commands/validate.ts';
import { generateCommand } from './commands/generate.ts';
import { testCommand } from './commands/test.ts';
import { runCommand } from './commands/run.ts';
import { contractCommand } from './commands/contract.ts';
import { scaffoldCommand } from './commands/scaffold.ts';
import { serveCommand, workerCommand } from './commands/serve.ts';
import { tenantsCommand, migrateCommand, keysCommand } from './commands/admin.ts';

const commands: Command[] = [serveCommand, workerCommand, validateCommand, generateCommand, testCommand, runCommand, contractCommand, scaffoldCommand, tenantsCommand, keysCommand, migrateCommand];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return [
    'Usage: plugboard <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Run `plugboard <command> --help` for the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) throw new CliError(`unknown command "${name}" (try: ${commands.map((c) => c.name).join(', ')})`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return 0;
  }
  loadDotEnv();
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof PlugboardError && err.kind !== 'internal') console.error(`plugboard: ${err.message}`);
    // node:util parseArgs explains some errors over several lines: one line here.
    else if ((err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) console.error(`plugboard: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    else console.error(`plugboard: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
