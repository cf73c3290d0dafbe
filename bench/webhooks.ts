// Webhook throughput: outbound deliveries per second to a loopback receiver (durable rows, signing,
// leasing, recording included) and inbound events accepted per second (signature check, dedupe
// row), each beside the raw rate of plain HTTP POSTs to the same receiver in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import { request, Agent } from 'undici';
import { pino } from 'pino';
import { readConfig } from '../runtime/config/env.ts';
import { actingAs } from '../runtime/access/audit.ts';
import { createPlatform } from '../runtime/platform/platform.ts';
import { createApp } from '../runtime/api/app.ts';
import { createTenant } from '../runtime/tenants/tenants.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 3);
const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000);

export async function webhookThroughput(): Promise<void> {
  let received = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-wh-'));
  const env = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1', PLUGBOARD_JOBS_POLL_MS: '50', LOG_LEVEL: 'silent', PLUGBOARD_INBOUND_RATE_PER_SECOND: '1000000' };
  const platform = await createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
  const app = await createApp(platform);
  const api = http.createServer(app);
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const { tenant_id: tenantId } = await createTenant(platform.store, 'Bench');
  await platform.subscriptions.create(actingAs(tenantId, 'bench'), { url: target, events: ['payment.*'] });

  // Baseline: the same number of plain POSTs of the same body, 8 at a time (the per-endpoint limit).
  const body = JSON.stringify({ type: 'payment.completed', id: '01jbenchbenchbenchbenchben', schema_version: 1, occurred_at: new Date().toISOString(), tenant_id: tenantId, data: { payment_id: 'pi_1' } });
  const agent = new Agent({ connections: 8 });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < EVENTS) {
      const r = await request(target, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      await r.body.dump();
    }
  }));
  const rawRate = EVENTS / ((performance.now() - t0) / 1000);
  await agent.close();

  console.log(`\nWebhooks out (${EVENTS} events to one loopback receiver; baseline: plain POSTs, 8 concurrent)`);
  console.log(`  ${'plain HTTP POST (baseline)'.padEnd(48)} ${Math.round(rawRate).toLocaleString('en-US').padStart(9)} /s`);
  received = 0;
  const t1 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    await platform.events.publish(tenantId, 'payment.completed', { payment_id: `pi_${i}`, provider: 'stripe', amount: 100, currency: 'usd', status: 'succeeded', completed_at: new Date().toISOString() });
  }
  const published = performance.now();
  platform.dispatcher.start();
  while (received < EVENTS) await new Promise((r) => setTimeout(r, 5));
  const total = (performance.now() - t1) / 1000;
  const outRate = EVENTS / total;
  console.log(`  ${'publish (event + delivery rows)'.padEnd(48)} ${Math.round(EVENTS / ((published - t1) / 1000)).toLocaleString('en-US').padStart(9)} /s`);
  console.log(`  ${'end to end: stored, signed, sent, recorded'.padEnd(48)} ${Math.round(outRate).toLocaleString('en-US').padStart(9)} /s`);
  console.log(`  ${'deliveries / plain POSTs'.padEnd(48)} ${(outRate / rawRate).toFixed(2).padStart(9)} x`);

  // Inbound: Slack-signed events accepted per second (verify + dedupe row), vs plain POSTs to the receiver.
  const created = await platform.integrations.create(actingAs(tenantId, 'bench'), { provider: 'slack', credentials: { bot_token: 'xoxb-1234567890-abcdefghij', signing_secret: 'bench-signing-secret-0000000000' } });
  let n = 0;
  const sign = () => {
    const ts = Math.floor(Date.now() / 1000);
    const b = JSON.stringify({ type: 'event_callback', event_id: `Ev${n++}`, event_time: ts, event: { type: 'message', channel: 'C1', user: 'U1', text: 'hi', ts: `${ts}.000100` } });
    return { b, ts, sig: `v0=${createHmac('sha256', 'bench-signing-secret-0000000000').update(`v0:${ts}:${b}`).digest('hex')}` };
  };
  console.log(`\nWebhooks in (autocannon, 10 connections, ${DURATION} s; baseline: plain POSTs to the loopback receiver)`);
  const plain = await autocannon({ url: target, method: 'POST', body, connections: 10, duration: DURATION, workers: 1 });
  console.log(`  ${'plain HTTP POST (baseline)'.padEnd(48)} ${Math.round(plain.requests.average).toLocaleString('en-US').padStart(9)} req/s`);
  const inbound = await autocannon({
    url: `${apiUrl}/api/v1/webhooks/inbound/slack/${created.id}`,
    method: 'POST',
    connections: 10,
    duration: DURATION,
    setupClient: (client) => {
      // a fresh signed, unique event per request
      const next = () => {
        const s = sign();
        client.setHeadersAndBody({ 'content-type': 'application/json', 'x-slack-request-timestamp': String(s.ts), 'x-slack-signature': s.sig }, s.b);
      };
      next();
      client.on('response', next);
    },
  });
  const accepted = inbound.requests.average;
  console.log(`  ${'inbound accepted (verify, store, 202)'.padEnd(48)} ${Math.round(accepted).toLocaleString('en-US').padStart(9)} req/s${inbound.non2xx ? `  (${inbound.non2xx} non-2xx)` : ''}`);
  console.log(`  ${'inbound / plain POSTs'.padEnd(48)} ${(accepted / plain.requests.average).toFixed(2).padStart(9)} x`);

  api.closeAllConnections();
  api.close();
  receiver.closeAllConnections();
  receiver.close();
  await platform.close();
}
