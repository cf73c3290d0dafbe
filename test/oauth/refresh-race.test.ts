// Two processes racing to refresh one integration make exactly one refresh request, counted at the
// authorization server: this test process (several concurrent callers) and a child process on the
// same database both get a provider 401 for the same token at the same moment.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { useOAuthFixture, authorize } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsxLoader = pathToFileURL(path.join(here, '../../node_modules/tsx/dist/loader.mjs')).href;

const f = useOAuthFixture();

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

it('two processes and concurrent callers racing to refresh one integration make exactly one refresh request', async () => {
  const t = await f.tp.tenant();
  const started = (await f.tp.api(t.key, 'GET', '/integrations/connect/acme_crm')).body.data;
  const back = await fetch(await authorize(started.authorization_url), { redirect: 'manual' });
  expect(back.status).toBe(200);
  const id = (await f.tp.api(t.key, 'GET', '/integrations')).body.data[0].id as string;
  await f.tp.waitFor(async () => (await f.tp.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'active');

  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(here, 'refresh-racer.fixture.ts'), t.id, id], {
    env: { ...process.env, ...f.tp.databaseEnv, ...f.env, LOG_LEVEL: 'silent' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  const deadline = Date.now() + 90_000;
  while (!out.includes('ready')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`racer did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const row = (await f.tp.platform.store.integrations.get(t.id, id))!;
  const source = f.tp.platform.integrations.oauthRunOptions(row).tokenSource!;
  const rejected = await source.accessToken();
  const before = f.auth.counts['refresh_token'] ?? 0;
  f.auth.tokenDelayMs = 400; // the refresh takes a while: the others must wait for it, not start their own
  child.stdin.write('go\n');
  const mine = await Promise.all([1, 2, 3, 4, 5].map(() => source.refreshAfterRejection(rejected)));
  expect(await exited).toBe(0);
  f.auth.tokenDelayMs = 0;

  expect(f.auth.counts['refresh_token']! - before).toBe(1);
  expect(new Set(mine).size).toBe(1);
  expect(mine[0]).not.toBe(rejected);
  expect(JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!).sha256).toBe(sha(mine[0]!));
}, 120_000);
