// API throughput: GET /integrations and POST /operations/send_sms through the whole stack
// (auth, OpenAPI validation, store, engine, loopback provider), each as a ratio to a bare Express
// handler returning the same JSON, measured in the same run with autocannon.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import { pino } from 'pino';
import { readConfig } from '../runtime/config/env.ts';
import { createPlatform } from '../runtime/platform/platform.ts';
import { createApp } from '../runtime/api/app.ts';
import { createTenant } from '../runtime/tenants/tenants.ts';
import { PROJECT_ROOT } from '../runtime/config/paths.ts';
import type { Connector } from '../runtime/manifest/connector.ts';
import { type Db, sqliteDb, PG_URL } from './stores.ts';
import { listApp, operationApp, prepareTables, sqlitePort, postgresPort, scratchSqlite, type ProviderInfo } from './honest.ts';
import { record } from './figures.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 3);

async function listen(handler: http.RequestListener | express.Express): Promise<{ url: string; close(): void }> {
  const server = http.createServer(handler as http.RequestListener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

async function load(label: string, opts: autocannon.Options): Promise<number> {
  return (await loadResult(label, opts)).requests.average;
}

async function loadResult(label: string, opts: autocannon.Options): Promise<autocannon.Result> {
  // workers: the load generator runs in its own thread, not on the event loop it measures.
  // A 1 s warm-up first, so every variant is measured hot (JIT, statement caches, sockets).
  await autocannon({ connections: 10, duration: 1, workers: 1, ...opts });
  const result = await autocannon({ connections: 10, duration: DURATION, workers: 1, ...opts });
  const bad = result.non2xx + result.errors;
  console.log(`  ${label.padEnd(48)} ${Math.round(result.requests.average).toLocaleString('en-US').padStart(9)} req/s  p99 ${result.latency.p99} ms${bad ? `  (${bad} non-2xx/errors)` : ''}`);
  return result;
}

/** What the hand-written list needs of a connector: its name, category and credential fields. */
function providerInfo(c: Connector): ProviderInfo {
  return { display_name: c.displayName, category: c.category, fields: Object.entries(c.credentialSchema).map(([name, f]) => ({ name, sensitive: !!f.sensitive, required: !!f.required })) };
}

/**
 * `db`: the store Plugboard runs on (SQLite by default); the honest baselines use the same database
 * kind. `authRounds`: also measure the authentication variants (SQLite section only).
 */
export async function apiThroughput(db: Db = sqliteDb(), opts: { authRounds?: boolean } = {}): Promise<void> {
  const suffix = db.schema ? '.postgres' : '';
  const provider = await listen((req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.method === 'GET' ? 200 : 201, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? JSON.stringify({ sid: 'AC' + 'c'.repeat(32), status: 'active' }) : JSON.stringify({ sid: 'SM' + 'a'.repeat(32), status: 'queued', to: '+14155550123', num_segments: '1' }));
    });
  });
  // The shipped Twilio manifest with its provider budget lifted: this measures Plugboard, not the rate limit.
  const connectors = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-connectors-'));
  fs.writeFileSync(path.join(connectors, 'twilio.yaml'), fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'twilio.yaml'), 'utf8').replace(/^rate_limit:.*$/m, 'rate_limit: { requests_per_second: 1000000, max_queue: 100000 }'));
  const env = { ...db.env, PLUGBOARD_CONNECTORS_DIR: connectors, PLUGBOARD_BASE_URL_TWILIO: provider.url, PLUGBOARD_JOBS_POLL_MS: '50', LOG_LEVEL: 'silent' };
  const platform = await createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
  const api = await listen(await createApp(platform));
  await platform.startJobs();
  const { api_key: key, tenant_id: tenantId } = await createTenant(platform.store, 'Bench');
  // A generous tier so the limiter counts but never refuses during the run.
  await platform.store.tenants.update(tenantId, { rate_limits: { per_hour: 100_000_000, burst: 100_000_000 } });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const credentials = { account_sid: 'AC' + 'c'.repeat(32), auth_token: 'f'.repeat(32), from_number: '+15005550006' };
  const created = await (await fetch(`${api.url}/api/v1/integrations`, { method: 'POST', headers, body: JSON.stringify({ provider: 'twilio', credentials }) })).json() as { data: { id: string } };
  for (let i = 0; i < 200; i++) {
    const r = await (await fetch(`${api.url}/api/v1/integrations/${created.data.id}`, { headers })).json() as { data: { status: string } };
    if (r.data.status === 'active') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const listBody = await (await fetch(`${api.url}/api/v1/integrations`, { headers })).text();
  const opResponse = await fetch(`${api.url}/api/v1/operations/send_sms`, { method: 'POST', headers, body: JSON.stringify({ input: { to: '+14155550123', body: 'hi' } }) });
  const opBody = await opResponse.text();
  if (!opResponse.ok) console.log(`  (note: Plugboard's operation failed at setup, ${opResponse.status}: ${opBody.slice(0, 300)})`);

  // Honest baselines (bench/honest.ts): the list reads Plugboard's own database; the operation checks
  // the key in a table of a SQLite file of its own (on PostgreSQL: Plugboard's api_keys) and writes its
  // delivery row there.
  const ownDb = db.file ? sqlitePort(db.file) : postgresPort(PG_URL, db.schema!);
  const opDb = db.file ? scratchSqlite().port : ownDb;
  await prepareTables(opDb, db.file ? { apiKey: key, tenantId } : {});
  const honestList = await listen(listApp(ownDb, Object.fromEntries([...platform.connectors].map(([name, c]) => [name, providerInfo(c)]))));
  const honestOp = await listen(operationApp(opDb, { providerUrl: provider.url, credentials, integrationId: created.data.id }));
  const sameAsPlugboard = async (url: string, plugboard: string, init?: RequestInit) => {
    const mine = await (await fetch(url, { ...init, headers })).text();
    const shape = (s: string) => JSON.stringify(JSON.parse(s), (k, v) => (['operation_id', 'deliveries'].includes(k) ? '*' : v));
    if (shape(mine) !== shape(plugboard)) console.log(`  (note: the hand-written answer differs from Plugboard's:\n    ${mine}\n    ${plugboard})`);
  };
  await sameAsPlugboard(`${honestList.url}/api/v1/integrations`, listBody);
  await sameAsPlugboard(`${honestOp.url}/api/v1/operations/send_sms`, opBody, { method: 'POST', body: JSON.stringify({ input: { to: '+14155550123', body: 'hi' } }) });

  const bareApp = express();
  bareApp.get('/integrations', (_req, res) => { res.type('json').send(listBody); });
  bareApp.post('/operations/send_sms', express.json(), (_req, res) => { res.type('json').send(opBody); });
  const bare = await listen(bareApp);

  console.log(`\nAPI throughput${suffix ? ` on ${db.label}` : ''} (autocannon, 10 connections, ${DURATION} s each; baseline: bare Express handler returning the same JSON; honest baseline: hand-written handler doing the same work)`);
  const bareList = await load('bare Express GET /integrations (baseline)', { url: `${bare.url}/integrations` });
  const handList = await load('hand-written: key, rows + count (honest baseline)', { url: `${honestList.url}/api/v1/integrations`, headers });
  const pbListResult = await loadResult('Plugboard GET /api/v1/integrations', { url: `${api.url}/api/v1/integrations`, headers });
  const pbList = pbListResult.requests.average;
  const opRequest = { method: 'POST' as const, headers, body: JSON.stringify({ input: { to: '+14155550123', body: 'hi' } }) };
  const bareOp = await load('bare Express POST /operations/send_sms (baseline)', { url: `${bare.url}/operations/send_sms`, ...opRequest });
  const handOp = await load('hand-written: key, undici, row (honest baseline)', { url: `${honestOp.url}/api/v1/operations/send_sms`, ...opRequest });
  const pbOpResult = await loadResult('Plugboard POST /api/v1/operations/send_sms', { url: `${api.url}/api/v1/operations/send_sms`, ...opRequest });
  const pbOp = pbOpResult.requests.average;
  console.log(`  ${'GET /integrations: Plugboard / bare'.padEnd(48)} ${(pbList / bareList).toFixed(2).padStart(9)} x`);
  console.log(`  ${'POST /operations/send_sms: Plugboard / bare'.padEnd(48)} ${(pbOp / bareOp).toFixed(2).padStart(9)} x`);
  record(`api.list${suffix}`, { value: pbList, unit: 'req/s', baseline: handList, baseline_is: `hand-written Express handler: API key, rows + count (${db.label})`, p99_ms: pbListResult.latency.p99 });
  record(`api.operation${suffix}`, { value: pbOp, unit: 'req/s', baseline: handOp, baseline_is: `hand-written Express handler: API key, undici call, one delivery row (${db.label})`, p99_ms: pbOpResult.latency.p99 });
  honestList.close();
  honestOp.close();
  if (opDb !== ownDb) await opDb.close();
  await ownDb.close();
  if (opts.authRounds === false) {
    api.close();
    bare.close();
    provider.close();
    await platform.close();
    return;
  }

  // Authentication cost: the same GET /integrations handler with an API key, with an OAuth JWT, and
  // with authentication skipped (a fixed principal), in this same run.
  const noAuthApp = await listen(await createApp(platform, { fixedPrincipal: { tenantId, scopes: ['admin'], actor: 'bench', kind: 'api_key', credentialId: 'bench' } }));
  const client = await (await fetch(`${api.url}/api/v1/oauth/clients`, { method: 'POST', headers, body: JSON.stringify({ name: 'bench', scopes: ['read'] }) })).json() as { data: { client_id: string; client_secret: string } };
  const token = await (await fetch(`${api.url}/api/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=${client.data.client_id}&client_secret=${client.data.client_secret}` })).json() as { access_token: string };
  console.log(`\nAuthentication overhead (GET /api/v1/integrations; baseline: same handler, credentials not checked; 3 alternating rounds, median)`);
  const variants = [
    { label: 'no credential check (baseline)', opts: { url: `${noAuthApp.url}/api/v1/integrations` } },
    { label: 'API key (hash lookup)', opts: { url: `${api.url}/api/v1/integrations`, headers } },
    { label: 'OAuth JWT (verify, revocation checks)', opts: { url: `${api.url}/api/v1/integrations`, headers: { authorization: `Bearer ${token.access_token}` } } },
  ];
  const samples: number[][] = variants.map(() => []);
  for (let round = 0; round < 3; round++) {
    for (const [i, v] of variants.entries()) samples[i]!.push((await autocannon({ connections: 10, duration: DURATION, workers: 1, ...v.opts })).requests.average);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [unauth, withKey, withJwt] = samples.map(median) as [number, number, number];
  variants.forEach((v, i) => console.log(`  ${v.label.padEnd(48)} ${Math.round(median(samples[i]!)).toLocaleString('en-US').padStart(9)} req/s  (rounds: ${samples[i]!.map(Math.round).join(', ')})`));
  console.log(`  ${'API key / no authentication'.padEnd(48)} ${(withKey / unauth).toFixed(2).padStart(9)} x`);
  console.log(`  ${'JWT / no authentication'.padEnd(48)} ${(withJwt / unauth).toFixed(2).padStart(9)} x`);

  noAuthApp.close();
  api.close();
  bare.close();
  provider.close();
  await platform.close();
}
