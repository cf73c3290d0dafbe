// A server killed with SIGKILL while verification jobs are queued (and some in flight) loses none:
// a restarted process finishes them all.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { openStore } from '../../runtime/store/index.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'plugboard');
let spec: SpecServer;
let proxy: http.Server;
let proxyUrl: string;
let delayMs = 1500;
let forwarded = 0;
let received = 0;
let dir: string;
const children: ChildProcess[] = [];

/** A proxy in front of the spec server that holds each request for `delayMs`, so jobs are in flight when the kill comes. */
function startDelayProxy(target: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    received++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        forwarded++;
        const up = http.request(target + req.url, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  spec = await startSpecServer('twilio');
  proxy = await startDelayProxy(spec.origin);
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-crash-'));
}, 30_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  proxy?.closeAllConnections();
  proxy?.close();
  await spec?.close();
});

describe('crash recovery of verification jobs', () => {
  it('finishes every queued verification after a SIGKILL and a restart', async () => {
    const env = {
      PORT: '0',
      PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}`,
      PLUGBOARD_BASE_URL_TWILIO: proxyUrl,
      PLUGBOARD_JOBS_POLL_MS: '50',
      PLUGBOARD_JOBS_LOCK_MS: '1000',
      LOG_LEVEL: 'info',
    };
    const store = await openStore(env.PLUGBOARD_DATABASE_URL);
    const tenants = [];
    for (let i = 0; i < 8; i++) tenants.push(await createTenant(store, `Tenant ${i}`));
    await store.close();

    const first = await startServer(env);
    const ids: Array<{ key: string; id: string }> = [];
    for (const [i, t] of tenants.entries()) {
      const res = await fetch(`${first.url}/api/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'twilio', credentials: { account_sid: 'AC' + String(i).repeat(32), auth_token: 'f'.repeat(32), from_number: '+15005550006' } }),
      });
      expect(res.status).toBe(201);
      ids.push({ key: t.api_key, id: ((await res.json()) as { data: { id: string } }).data.id });
    }
    // Kill as soon as the first verification calls are held by the proxy: jobs are locked and in flight.
    const deadline = Date.now() + 10_000;
    while (received === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(spec.requests.filter((r) => r.operationId === 'FetchAccount').length).toBeLessThan(ids.length);

    delayMs = 0;
    const second = await startServer(env);
    const statuses = async () =>
      Promise.all(ids.map(async ({ key, id }) => ((await (await fetch(`${second.url}/api/v1/integrations/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { status: string } }).data.status));
    const until = Date.now() + 20_000;
    let last: string[] = [];
    while (Date.now() < until) {
      last = await statuses();
      if (last.every((s) => s === 'active')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last).toEqual(ids.map(() => 'active'));
    expect(spec.violations).toEqual([]);
    second.child.kill('SIGTERM');
  }, 60_000);
});
