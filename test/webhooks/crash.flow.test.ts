// A server killed with SIGKILL in the middle of 1,000 pending deliveries loses none: after a
// restart every event arrives; a duplicate is only ever the same webhook-id again.
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { openStore } from '../../runtime/store/index.ts';
import { newTestDatabase, type TestDatabase } from '../helpers/store.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { EventBus } from '../../runtime/webhooks/events.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'plugboard');
const children: ChildProcess[] = [];
let receiver: http.Server | undefined;
let database: TestDatabase | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  receiver?.closeAllConnections();
  receiver?.close();
  await database?.drop();
});

function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out.slice(-2000)}`)));
  });
}

describe('crash recovery of webhook deliveries', () => {
  it('delivers all of 1,000 pending deliveries after a SIGKILL mid-way', async () => {
    const TOTAL = 1000;
    const seen = new Map<string, Set<string>>(); // event id -> webhook-ids that carried it
    let hits = 0;
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits++;
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
        const ids = seen.get(body.id) ?? new Set<string>();
        ids.add(String(req.headers['webhook-id']));
        seen.set(body.id, ids);
        // a little slow, so the kill lands while deliveries are in flight
        setTimeout(() => res.writeHead(204).end(), 5);
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-whcrash-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1',
      PLUGBOARD_JOBS_POLL_MS: '50',
      PLUGBOARD_WEBHOOK_LEASE_MS: '1500',
    };
    delete env.PLUGBOARD_MASTER_KEY;
    // SQLite: a file (and key file) in dir; PostgreSQL: a fresh schema and PLUGBOARD_MASTER_KEY.
    database = newTestDatabase(dir);
    Object.assign(env, database.env);

    // Set up the tenant and subscription through the store and API, then queue 1,000 events
    // with the server's own event bus (as internal emitters do) while the server runs.
    const store = await openStore(env.PLUGBOARD_DATABASE_URL);
    const tenant = await createTenant(store, 'Crash');
    const first = await startServer(env);
    const sub = await fetch(`${first.url}/api/v1/webhooks/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: target, events: ['payment.completed'] }),
    });
    expect(sub.status).toBe(201);
    const bus = new EventBus(store, pino({ level: 'silent' }));
    const eventIds: string[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const { eventId } = await bus.publish(tenant.tenant_id, 'payment.completed', { payment_id: `pi_${i}`, provider: 'stripe', amount: 100 + i, currency: 'usd', status: 'succeeded', completed_at: new Date().toISOString() });
      eventIds.push(eventId);
    }
    await store.close();

    // Kill once some, but not all, have arrived.
    const deadline = Date.now() + 30_000;
    while (seen.size < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const beforeRestart = seen.size;
    expect(beforeRestart).toBeGreaterThan(0);
    expect(beforeRestart).toBeLessThan(TOTAL);

    const second = await startServer(env);
    const until = Date.now() + 60_000;
    while (seen.size < TOTAL && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    second.child.kill('SIGTERM');

    expect(seen.size).toBe(TOTAL);
    for (const id of eventIds) {
      const ids = seen.get(id);
      expect(ids, `event ${id} never arrived`).toBeDefined();
      expect(ids!.size, `event ${id} arrived under two webhook-ids`).toBe(1);
    }
    console.log(`webhook crash test: ${beforeRestart} delivered before SIGKILL, ${hits - TOTAL} duplicate deliveries (same webhook-id) after restart`);
  }, 120_000);
});
