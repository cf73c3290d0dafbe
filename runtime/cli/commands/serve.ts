import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { readConfig } from '../../config/env.ts';
import { createPlatform, type Platform } from '../../platform/platform.ts';
import { createApp } from '../../api/app.ts';

// Configuration and start-up problems are PlugboardErrors of kind `config`: main() prints them as one line.
async function boot(): Promise<Platform> {
  return createPlatform(readConfig());
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--no-jobs]',
  summary: 'run the API server and the job worker (embedded default: SQLite, one process)',
  help: `Usage: plugboard serve [--no-jobs]

Starts the HTTP API on HOST:PORT (default 127.0.0.1:3000) and, unless --no-jobs is given, the
job worker in the same process. Storage: PLUGBOARD_DATABASE_URL (default sqlite:./data/plugboard.db,
or postgres://..., which requires PLUGBOARD_MASTER_KEY; created and migrated on start); jobs:
PLUGBOARD_JOBS_URL (default: the same database).
  --no-jobs   serve the API only; run "plugboard worker" elsewhere to process jobs`,
  async run(args) {
    const { values } = parseArgs({ args, options: { 'no-jobs': { type: 'boolean' } } });
    const platform = await boot();
    const app = await createApp(platform);
    const { host, port: wanted } = platform.config;
    const server = app.listen(wanted, host);
    try {
      await once(server, 'listening');
    } catch (err) {
      // One line (main prints it), not a log record: the port is the usual cause.
      await platform.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new CliError(`port ${wanted} is in use (PORT)`);
      if (code === 'EACCES') throw new CliError(`no permission to listen on port ${wanted} (PORT)`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`cannot listen on ${host}: no such local address (HOST)`);
      throw new CliError(`cannot listen on ${host}:${wanted}: ${(err as Error).message}`);
    }
    server.on('error', (err) => {
      platform.logger.fatal({ err: err.message }, 'server error');
      process.exit(1);
    });
    if (!values['no-jobs']) await platform.startJobs();
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : platform.config.port;
    platform.logger.info({ host: platform.config.host, port, jobs: !values['no-jobs'], connectors: [...platform.connectors.keys()] }, `plugboard listening on http://${platform.config.host}:${port}`);
    onSignals(async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await platform.close();
    });
    await new Promise(() => {});
    return 0;
  },
};

export const workerCommand: Command = {
  name: 'worker',
  usage: 'worker',
  summary: 'process jobs only (pairs with serve --no-jobs)',
  help: `Usage: plugboard worker

Runs the background work (integration verification, outbound webhook delivery, inbound webhook
processing, settling operations whose lease expired) without the HTTP API, against the same
PLUGBOARD_DATABASE_URL and PLUGBOARD_JOBS_URL as the servers.`,
  async run() {
    const platform = await boot();
    await platform.startJobs();
    platform.logger.info('plugboard worker started');
    onSignals(() => platform.close());
    await new Promise(() => {});
    return 0;
  },
};

export { boot };
