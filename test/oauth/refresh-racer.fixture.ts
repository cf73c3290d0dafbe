// A second Plugboard process for the refresh race (refresh-race.test.ts): opens the same database
// and master key, reads the integration's current token, says "ready", and on "go" asks for a
// refresh after a (simulated) provider 401, as a request in another process would. Prints the
// SHA-256 of the token it got (never the token).
import { createHash } from 'node:crypto';
import readline from 'node:readline';
import { pino } from 'pino';
import { readConfig } from '../../runtime/config/env.ts';
import { createPlatform } from '../../runtime/platform/platform.ts';

const [tenantId, integrationId] = process.argv.slice(2) as [string, string];
const platform = await createPlatform(readConfig(process.env), { logger: pino({ level: 'silent' }) });
const row = (await platform.store.integrations.get(tenantId, integrationId))!;
const source = platform.integrations.oauthRunOptions(row).tokenSource!;
const rejected = await source.accessToken();
const lines = readline.createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line !== 'go') continue;
  const token = await source.refreshAfterRejection(rejected);
  process.stdout.write(`${JSON.stringify({ sha256: createHash('sha256').update(token).digest('hex') })}\n`);
  break;
}
lines.close();
await platform.close();
