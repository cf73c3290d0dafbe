// SQLite and PostgreSQL side by side (issue 12): API throughput (GET /integrations through the whole
// stack), webhook deliveries per second with 1 and with 3 `plugboard worker` processes, and Agenda
// job claims per second. The receiver answers every delivery after a fixed latency, so deliveries
// are bound by waiting, not by the two cores, and more workers can show more throughput (DESIGN §10).
// PostgreSQL runs in a fresh schema of BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
// skipped with a printed reason when no server answers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import pg from 'pg';
import { pino } from 'pino';
import { readConfig } from '../runtime/config/env.ts';
import { createPlatform, type Platform } from '../runtime/platform/platform.ts';
import { createApp } from '../runtime/api/app.ts';
import { createTenant } from '../runtime/tenants/tenants.ts';
import { actingAs } from '../runtime/access/audit.ts';
import { createAgenda } from '../runtime/jobs/agenda.ts';
import { PROJECT_ROOT } from '../runtime/config/paths.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 3);
export const PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const RECEIVER_LATENCY_MS = Number(process.env.BENCH_RECEIVER_LATENCY_MS ?? 100);
const DELIVERIES = Number(process.env.BENCH_SCALE_DELIVERIES ?? 3000);
const SUBSCRIPTIONS = 40;
const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const BIN = path.join(PROJECT_ROOT, 'bin', 'plugboard');

export interface Db {
  label: string;
  /** The SQLite file, or the PostgreSQL schema (the baselines open the same database). */
  file?: string;
  schema?: string;
  env: Record<string, string>;
  jobsUrl: string;
  drop(): Promise<void>;
}

export async function pgReachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function sqliteDb(): Db {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-stores-'));
  const url = `sqlite:${path.join(dir, 'db.sqlite')}`;
  return { label: 'SQLite', file: path.join(dir, 'db.sqlite'), env: { PLUGBOARD_DATABASE_URL: url }, jobsUrl: `sqlite:${path.join(dir, 'jobs.sqlite')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function postgresDb(): Db {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const url = `${PG_URL}?schema=${schema}`;
  return {
    label: 'PostgreSQL',
    schema,
    env: { PLUGBOARD_DATABASE_URL: url, PLUGBOARD_MASTER_KEY: randomBytes(32).toString('base64') },
    jobsUrl: `${PG_URL}?schema=${schema}_jobs`,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.query(`DROP SCHEMA IF EXISTS ${schema}_jobs CASCADE`);
      await c.end();
    },
  };
}

async function listen(handler: http.RequestListener): Promise<{ url: string; close(): void }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

async function platformOn(db: Db, extra: Record<string, string> = {}): Promise<Platform> {
  const env = { ...db.env, PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1', PLUGBOARD_JOBS_POLL_MS: '50', LOG_LEVEL: 'silent', ...extra };
  return createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
}

async function apiList(db: Db): Promise<number> {
  const platform = await platformOn(db);
  const api = await listen((await createApp(platform)) as unknown as http.RequestListener);
  const { api_key: key, tenant_id: tenantId } = await createTenant(platform.store, 'Bench');
  await platform.store.tenants.update(tenantId, { rate_limits: { per_hour: 100_000_000, burst: 100_000_000 } });
  const headers = { authorization: `Bearer ${key}` };
  await autocannon({ url: `${api.url}/api/v1/integrations`, headers, connections: 10, duration: 1, workers: 1 });
  const r = await autocannon({ url: `${api.url}/api/v1/integrations`, headers, connections: 10, duration: DURATION, workers: 1 });
  api.close();
  await platform.close();
  return r.requests.average;
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['worker'], { env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('plugboard worker started')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${out.slice(-1000)}`)));
  });
}

/** Deliveries per second with `workers` worker processes draining DELIVERIES pending deliveries. */
async function deliveries(db: Db, workers: number): Promise<number> {
  let received = 0;
  const receiver = await listen((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => {
      received++;
      res.writeHead(204).end();
    }, RECEIVER_LATENCY_MS));
  });
  const platform = await platformOn(db);
  const { tenant_id: tenantId } = await createTenant(platform.store, `Bench ${workers}`);
  const ctx = actingAs(tenantId, 'bench');
  const subs = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) subs.push(await platform.subscriptions.create(ctx, { url: `${receiver.url}/hook/${i}`, events: ['payment.*'] }));
  for (let i = 0; i < DELIVERIES / SUBSCRIPTIONS; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => platform.events.publish(tenantId, 'payment.completed', { payment_id: `pi_${i + j}`, provider: 'stripe', amount: 100, currency: 'usd', status: 'succeeded', completed_at: new Date().toISOString() })));
  }
  const env = { ...db.env, PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1', PLUGBOARD_JOBS_POLL_MS: '50', PLUGBOARD_JOBS_URL: db.jobsUrl };
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
  const t0 = performance.now();
  while (received < DELIVERIES) await new Promise((r) => setTimeout(r, 10));
  const rate = DELIVERIES / ((performance.now() - t0) / 1000);
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  // Leave nothing for the next run: those subscriptions stop here.
  for (const s of subs) await platform.subscriptions.remove(ctx, s.row.id).catch(() => undefined);
  receiver.close();
  await platform.close();
  return rate;
}

/** Agenda jobs claimed and run per second by one process (a job that does nothing). */
async function jobClaims(db: Db): Promise<number> {
  const agenda = createAgenda({ jobsUrl: db.jobsUrl, processEvery: 50, maxConcurrency: 50, defaultConcurrency: 50 });
  let done = 0;
  agenda.define('bench-noop', async () => {
    done++;
  });
  await agenda.ready;
  for (let i = 0; i < JOBS; i += 50) await Promise.all(Array.from({ length: 50 }, () => agenda.now('bench-noop', {})));
  const t0 = performance.now();
  await agenda.start();
  while (done < JOBS) await new Promise((r) => setTimeout(r, 10));
  const rate = JOBS / ((performance.now() - t0) / 1000);
  await agenda.close();
  return rate;
}

const fmt = (v: number | undefined, unit: string) => (v === undefined ? '—'.padStart(10) : `${Math.round(v).toLocaleString('en-US').padStart(8)} ${unit}`);

export async function storesSideBySide(): Promise<void> {
  const pgProblem = await pgReachable();
  const dbs: Db[] = [sqliteDb()];
  if (pgProblem) console.log(`\n(PostgreSQL figures skipped: ${PG_URL.replace(/\/\/[^@/]*@/, '//***@')} did not answer: ${pgProblem})`);
  else dbs.push(postgresDb());
  console.log(`\nStores side by side (API: autocannon 10 connections ${DURATION} s; deliveries: ${DELIVERIES} to ${SUBSCRIPTIONS} endpoints answering after ${RECEIVER_LATENCY_MS} ms; jobs: ${JOBS} no-op Agenda jobs)`);
  const rows: Array<[string, string, Array<number | undefined>]> = [
    ['GET /api/v1/integrations', 'req/s', []],
    ['webhook deliveries, 1 worker', '/s', []],
    ['webhook deliveries, 3 workers', '/s', []],
    ['3 workers / 1 worker', 'x', []],
    ['job claims (one process)', 'jobs/s', []],
  ];
  for (const db of dbs) {
    try {
      rows[0]![2].push(await apiList(db));
      const one = await deliveries(db, 1);
      const three = await deliveries(db, 3);
      rows[1]![2].push(one);
      rows[2]![2].push(three);
      rows[3]![2].push(three / one);
      rows[4]![2].push(await jobClaims(db));
    } finally {
      await db.drop();
    }
  }
  console.log(`  ${''.padEnd(40)} ${dbs.map((d) => d.label.padStart(14)).join(' ')}`);
  for (const [label, unit, values] of rows) {
    console.log(`  ${label.padEnd(40)} ${values.map((v) => (unit === 'x' ? `${v!.toFixed(2)} x`.padStart(14) : fmt(v, unit).padStart(14))).join(' ')}`);
  }
}
