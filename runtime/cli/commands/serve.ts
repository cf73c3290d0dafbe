import { once } from 'node:events';
import { pino } from 'pino';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { readConfig } from '../../config/env.ts';
import { loadConnectorDir } from '../../manifest/registry.ts';
import { formatIssue } from '../../manifest/load.ts';
import { createApp } from '../../api/app.ts';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve',
  summary: 'run the API server (embedded default: SQLite, one process)',
  help: `Usage: plugboard serve

Starts the HTTP API on HOST:PORT (default 127.0.0.1:3000) with the connectors of
PLUGBOARD_CONNECTORS_DIR (default ./connectors). Endpoints so far: /healthz, /openapi.json,
/api/v1/providers.`,
  async run() {
    const config = readConfig();
    const logger = pino({ level: config.logLevel });
    const reg = loadConnectorDir(config.connectorsDir);
    if (reg.issues.length) {
      for (const i of reg.issues) console.error(formatIssue(i));
      throw new CliError(`${reg.issues.length} manifest problem(s): fix them or run plugboard validate`);
    }
    const app = await createApp({ connectors: reg.connectors, logger });
    const server = app.listen(config.port, config.host);
    await once(server, 'listening');
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    logger.info({ host: config.host, port, connectors: [...reg.connectors.keys()] }, `plugboard listening on http://${config.host}:${port}`);
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await new Promise(() => {});
    return 0;
  },
};
