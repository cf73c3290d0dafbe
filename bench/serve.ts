// `plugboard serve` as a child process (issue 13): cold start until GET /healthz answers 200
// (startup_ms, median of 3, each on a fresh SQLite file), and the server's RSS under API load
// (rss_mb: GET /integrations and POST /operations/send_sms alternating for BENCH_RSS_SECONDS,
// sampled every second; the process tree of the child only, not this process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { request } from 'undici';
import { readConfig } from '../runtime/config/env.ts';
import { createPlatform } from '../runtime/platform/platform.ts';
import { createTenant } from '../runtime/tenants/tenants.ts';
import { PROJECT_ROOT } from '../runtime/config/paths.ts';
import { record } from './figures.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'plugboard');
const RSS_SECONDS = Number(process.env.BENCH_RSS_SECONDS ?? 60);
const STARTS = 3;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Started { child: ChildProcess; url: string; ms: number }

/** Spawns `cmd args` and polls GET /healthz every 5 ms until it answers 200; the time from spawn. */
async function startAndWait(cmd: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(cmd, args, { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d).slice(-2000)));
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  for (;;) {
    if (exited !== null) throw new Error(`${cmd} ${args.join(' ')} exited with ${exited} before answering /healthz: ${err}`);
    if (performance.now() - t0 > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${cmd} ${args.join(' ')} did not answer /healthz within ${timeoutMs} ms: ${err}`);
    }
    try {
      const r = await request(`${url}/healthz`, { reset: true });
      await r.body.dump();
      if (r.statusCode === 200) return { child, url, ms: performance.now() - t0 };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A bare Node HTTP server answering /healthz: what a cold start of `node` itself costs (the baseline). */
const BARE_SERVER = `require('node:http').createServer((q, s) => s.end('{"status":"ok"}')).listen(Number(process.env.PORT), process.env.HOST)`;

export async function startupTime(): Promise<void> {
  console.log(`\nCold start of ./bin/plugboard serve until GET /healthz answers 200 (fresh SQLite file each, median of ${STARTS}, with the manifest cache as a previous start left it and with an empty one; baseline: a bare node HTTP server)`);
  const plugboard: number[] = [];
  const uncached: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-start-'));
    // A first start on SQLite needs nothing else: the store is created and migrated, the master key file written.
    const env = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}`, LOG_LEVEL: 'warn' };
    // The first start after installing or editing the manifests: an empty cache (parses and checks all, fills it).
    const miss = await startAndWait(BIN, ['serve'], { ...env, PLUGBOARD_CACHE_DIR: path.join(dir, 'cache') });
    await stop(miss.child);
    uncached.push(miss.ms);
    fs.rmSync(path.join(dir, 'plugboard.db'), { force: true });
    const s = await startAndWait(BIN, ['serve'], env);
    await stop(s.child);
    plugboard.push(s.ms);
    fs.rmSync(dir, { recursive: true, force: true });
    const b = await startAndWait(process.execPath, ['-e', BARE_SERVER], {});
    await stop(b.child);
    bare.push(b.ms);
  }
  const value = median(plugboard);
  const base = median(bare);
  console.log(`  ${'bare node HTTP server (baseline)'.padEnd(48)} ${Math.round(base).toLocaleString('en-US').padStart(9)} ms  (starts: ${bare.map(Math.round).join(', ')})`);
  console.log(`  ${'plugboard serve, fresh SQLite'.padEnd(48)} ${Math.round(value).toLocaleString('en-US').padStart(9)} ms  (starts: ${plugboard.map(Math.round).join(', ')})`);
  console.log(`  ${'  the same, empty manifest cache (first start)'.padEnd(48)} ${Math.round(median(uncached)).toLocaleString('en-US').padStart(9)} ms  (starts: ${uncached.map(Math.round).join(', ')})`);
  record('startup_ms', { value, unit: 'ms', baseline: base, baseline_is: 'cold start of a bare node HTTP server answering /healthz', starts_ms: plugboard.map(Math.round), first_start_ms: Math.round(median(uncached)) });
}

/** Resident set of `pid` and its descendants, in bytes (Linux /proc). */
function treeRss(pid: number): number {
  let total = 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    total += m ? Number(m[1]) * 1024 : 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const kids = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(/\s+/) : []) total += treeRss(Number(k));
    }
  } catch {
    // the process ended between reads
  }
  return total;
}

export async function rssUnderLoad(): Promise<void> {
  const provider = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.method === 'GET' ? 200 : 201, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? JSON.stringify({ sid: 'AC' + 'c'.repeat(32), status: 'active' }) : JSON.stringify({ sid: 'SM' + 'a'.repeat(32), status: 'queued', to: '+14155550123', num_segments: '1' }));
    });
  });
  provider.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  const providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-rss-'));
  const connectors = path.join(dir, 'connectors');
  fs.mkdirSync(connectors);
  // The shipped Twilio manifest with its provider budget lifted (as bench/api.ts).
  fs.writeFileSync(path.join(connectors, 'twilio.yaml'), fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'twilio.yaml'), 'utf8').replace(/^rate_limit:.*$/m, 'rate_limit: { requests_per_second: 1000000, max_queue: 100000 }'));
  const env = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}`, PLUGBOARD_CONNECTORS_DIR: connectors, PLUGBOARD_BASE_URL_TWILIO: providerUrl, PLUGBOARD_JOBS_POLL_MS: '50', LOG_LEVEL: 'warn' };
  // The tenant is made here before the server starts (same file; the server opens it after).
  const setup = await createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
  const { api_key: key, tenant_id: tenantId } = await createTenant(setup.store, 'Bench');
  await setup.store.tenants.update(tenantId, { rate_limits: { per_hour: 100_000_000, burst: 100_000_000 } });
  await setup.close();

  const server = await startAndWait(BIN, ['serve'], env);
  try {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const created = (await (await fetch(`${server.url}/api/v1/integrations`, { method: 'POST', headers, body: JSON.stringify({ provider: 'twilio', credentials: { account_sid: 'AC' + 'c'.repeat(32), auth_token: 'f'.repeat(32), from_number: '+15005550006' } }) })).json()) as { data: { id: string } };
    for (let i = 0; i < 400; i++) {
      const r = (await (await fetch(`${server.url}/api/v1/integrations/${created.data.id}`, { headers })).json()) as { data: { status: string } };
      if (r.data.status === 'active') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const pid = server.child.pid!;
    const samples: number[] = [treeRss(pid)];
    const sampler = setInterval(() => samples.push(treeRss(pid)), 1000);
    const result = await autocannon({
      url: server.url,
      connections: 10,
      duration: RSS_SECONDS,
      workers: 1,
      headers,
      requests: [
        { method: 'GET', path: '/api/v1/integrations' },
        { method: 'POST', path: '/api/v1/operations/send_sms', body: JSON.stringify({ input: { to: '+14155550123', body: 'hi' } }) },
      ],
    });
    clearInterval(sampler);
    samples.push(treeRss(pid));
    const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
    const window = Math.min(10, Math.floor(samples.length / 2));
    const first = mb(Math.max(...samples.slice(0, window)));
    const last = mb(Math.max(...samples.slice(-window)));
    const peak = mb(Math.max(...samples));
    const flat = last <= first * 1.1;
    console.log(`\nRSS of plugboard serve under API load (child process; GET /integrations + POST /operations/send_sms alternating, autocannon 10 connections, ${RSS_SECONDS} s, sampled every second)`);
    console.log(`  ${'requests'.padEnd(48)} ${Math.round(result.requests.average).toLocaleString('en-US').padStart(9)} req/s${result.non2xx + result.errors ? `  (${result.non2xx + result.errors} non-2xx/errors)` : ''}`);
    console.log(`  ${`RSS first ${window} s / last ${window} s / peak`.padEnd(48)} ${first} / ${last} / ${peak} MB (${flat ? 'flat' : 'grew more than 10%'})`);
    record('rss_mb', { value: peak, unit: 'MB', baseline: null, first_10s_mb: first, last_10s_mb: last, flat, seconds: RSS_SECONDS, requests_per_s: Math.round(result.requests.average), non_2xx: result.non2xx + result.errors });
  } finally {
    await stop(server.child);
    provider.closeAllConnections();
    provider.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
