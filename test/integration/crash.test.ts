// A server killed with SIGKILL while verification jobs are queued (and some in flight) loses none:
// a restarted process finishes them all. A server killed while a provider holds an operation's call
// leaves that operation recorded; it settles as unknown when its lease expires, and its idempotency
// key then answers that outcome (DESIGN §6).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { openStore } from '../../runtime/store/index.ts';
import { newTestDatabase, sqlQuery, type TestDatabase } from '../helpers/store.ts';
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
const databases: TestDatabase[] = [];
/** A fresh database of PLUGBOARD_TEST_STORE's kind in its own folder (SQLite) or schema (PostgreSQL), dropped after the file. */
const database = () => {
  const d = newTestDatabase(fs.mkdtempSync(path.join(dir, 'db-')));
  databases.push(d);
  return d;
};

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
  for (const d of databases) await d.drop();
});

describe('crash recovery of verification jobs', () => {
  it('finishes every queued verification after a SIGKILL and a restart', async () => {
    const env: Record<string, string> = {
      PORT: '0',
      ...database().env,
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

/** A provider in front of the spec server that never answers a message send: the call is held until the process making it dies. */
function startHoldingProvider(target: string, held: http.IncomingMessage[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/Messages.json')) {
      held.push(req);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = http.request(target + req.url, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('crash recovery of operations', () => {
  it('records an operation before the provider call; after SIGKILL it settles as unknown and its key answers that', async () => {
    const held: http.IncomingMessage[] = [];
    const holding = await startHoldingProvider(spec.origin, held);
    const leaseMs = 1000;
    const env: Record<string, string> = {
      PORT: '0',
      ...database().env,
      PLUGBOARD_BASE_URL_TWILIO: `http://127.0.0.1:${(holding.address() as AddressInfo).port}`,
      PLUGBOARD_JOBS_POLL_MS: '50',
      PLUGBOARD_OPERATION_LEASE_MS: String(leaseMs),
      LOG_LEVEL: 'info', // the server announces its address at info
    };
    const operationsInDb = async () => {
      const store = await openStore(env.PLUGBOARD_DATABASE_URL);
      try {
        return await sqlQuery<{ id: string; idempotency_key: string | null; status: string; lease_expires_at: number | null }>(store, 'SELECT id, idempotency_key, status, lease_expires_at FROM operations ORDER BY id');
      } finally {
        await store.close();
      }
    };
    try {
      const store = await openStore(env.PLUGBOARD_DATABASE_URL);
      const t = await createTenant(store, 'Crash Mid Call');
      await store.close();
      const first = await startServer(env);
      const api = (base: string, method: string, p: string, body?: unknown) =>
        fetch(`${base}/api/v1${p}`, { method, headers: { authorization: `Bearer ${t.api_key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const created = await api(first.url, 'POST', '/integrations', { provider: 'twilio', credentials: { account_sid: 'AC' + '7'.repeat(32), auth_token: 'e'.repeat(32), from_number: '+15005550006' } });
      expect(created.status).toBe(201);
      const integrationId = ((await created.json()) as { data: { id: string } }).data.id;
      await until('integration active', async () => ((await (await api(first.url, 'GET', `/integrations/${integrationId}`)).json()) as { data: { status: string } }).data.status === 'active');

      // Two sends, one with an idempotency key and one without; the provider holds both calls.
      const keyed = { input: { to: '+14155550123', body: 'exactly once' }, idempotency_key: 'crash-order-1' };
      void api(first.url, 'POST', '/operations/send_sms', keyed).catch(() => undefined);
      void api(first.url, 'POST', '/operations/send_sms', { input: { to: '+14155550124', body: 'no key' } }).catch(() => undefined);
      await until('both calls held by the provider', () => held.length === 2);
      // While the calls are held the process renews the leases: the key answers 409, the attempts show in progress.
      await new Promise((r) => setTimeout(r, leaseMs * 1.5));
      const busy = await api(first.url, 'POST', '/operations/send_sms', keyed);
      expect(busy.status).toBe(409);
      expect(((await busy.json()) as { code: string }).code).toBe('operation_in_progress');
      const inFlight = (await (await api(first.url, 'GET', '/deliveries')).json()) as { data: Array<{ status: string }> };
      expect(inFlight.data.map((d) => d.status)).toEqual(['in_progress', 'in_progress']);

      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // Every call that reached the provider has its row, recorded before the call, in progress with a lease.
      const afterKill = await operationsInDb();
      expect(afterKill).toHaveLength(held.length);
      expect(afterKill.map((o) => o.status)).toEqual(['in_progress', 'in_progress']);
      for (const o of afterKill) expect(o.lease_expires_at).toBeGreaterThan(0);

      const second = await startServer(env);
      // The sweep settles the operation without a key by itself (nothing reads it).
      await until('the sweep settles the keyless operation', async () => (await operationsInDb()).find((o) => o.idempotency_key === null)?.status === 'unknown');
      // Retrying the key answers the stored unknown outcome (lazily settled if the sweep was not first), never 409 again.
      const retry = await api(second.url, 'POST', '/operations/send_sms', keyed);
      const retryBody = (await retry.json()) as { success: boolean; code: string; operation_id: string; deliveries: string[] };
      expect(retry.status).toBe(502);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retryBody).toMatchObject({ success: false, code: 'outcome_unknown' });
      const keyedRow = (await operationsInDb()).find((o) => o.idempotency_key === keyed.idempotency_key)!;
      expect(keyedRow.status).toBe('unknown');
      expect(retryBody.operation_id).toBe(keyedRow.id);
      expect(retryBody.deliveries).toHaveLength(1);
      const again = await api(second.url, 'POST', '/operations/send_sms', keyed);
      expect(again.status).toBe(502);
      expect(await again.json()).toEqual(retryBody);
      expect(held).toHaveLength(2); // nothing was sent again

      // GET /deliveries shows every attempt that reached the provider, honestly.
      const list = (await (await api(second.url, 'GET', '/deliveries')).json()) as { meta: { total: number }; data: Array<{ id: string; status: string; error: { type: string } }> };
      expect(list.meta.total).toBe(held.length);
      expect(list.data.map((d) => [d.status, d.error?.type])).toEqual([['unknown', 'outcome_unknown'], ['unknown', 'outcome_unknown']]);
      expect(list.data.map((d) => d.id)).toContain(retryBody.deliveries[0]);
      second.child.kill('SIGTERM');
    } finally {
      holding.closeAllConnections();
      holding.close();
    }
  }, 60_000);
});
