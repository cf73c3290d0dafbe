// Webhook throughput: outbound deliveries per second to a loopback receiver (durable rows, signing,
// leasing, recording included) and inbound events accepted per second (signature check, dedupe
// row), each beside the raw rate of plain HTTP POSTs to the same receiver in the same run.
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
import { type Db, sqliteDb, PG_URL } from './stores.ts';
import { inboundApp, prepareTables, postgresPort, scratchSqlite, signedPosts } from './honest.ts';
import { record } from './figures.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 3);
const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000);

/** `db`: the store Plugboard runs on (SQLite by default); the inbound honest baseline uses the same database kind. */
export async function webhookThroughput(db: Db = sqliteDb()): Promise<void> {
  const suffix = db.schema ? '.postgres' : '';
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

  const env = { ...db.env, PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1', PLUGBOARD_JOBS_POLL_MS: '50', LOG_LEVEL: 'silent', PLUGBOARD_INBOUND_RATE_PER_SECOND: '1000000' };
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
  const signedRate = await signedPosts(target, EVENTS, tenantId);

  console.log(`\nWebhooks out${suffix ? ` on ${db.label}` : ''} (${EVENTS} events to one loopback receiver; baseline: plain POSTs, 8 concurrent; honest baseline: a loop that serialises, signs and POSTs, 8 concurrent)`);
  console.log(`  ${'plain HTTP POST (baseline)'.padEnd(48)} ${Math.round(rawRate).toLocaleString('en-US').padStart(9)} /s`);
  console.log(`  ${'signed POST loop (honest baseline)'.padEnd(48)} ${Math.round(signedRate).toLocaleString('en-US').padStart(9)} /s`);
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
  record(`webhooks.out${suffix}`, { value: outRate, unit: 'deliveries/s', baseline: signedRate, baseline_is: 'loop: serialise, sign (Standard Webhooks HMAC-SHA256), POST, 8 concurrent; no database', plain_posts_per_s: Math.round(rawRate) });

  // Inbound: Slack-signed events accepted per second (verify + dedupe row), vs plain POSTs to the receiver.
  const created = await platform.integrations.create(actingAs(tenantId, 'bench'), { provider: 'slack', credentials: { bot_token: 'xoxb-1234567890-abcdefghij', signing_secret: 'bench-signing-secret-0000000000' } });
  let n = 0;
  const sign = () => {
    const ts = Math.floor(Date.now() / 1000);
    const b = JSON.stringify({ type: 'event_callback', event_id: `Ev${n++}`, event_time: ts, event: { type: 'message', channel: 'C1', user: 'U1', text: 'hi', ts: `${ts}.000100` } });
    return { b, ts, sig: `v0=${createHmac('sha256', 'bench-signing-secret-0000000000').update(`v0:${ts}:${b}`).digest('hex')}` };
  };
  // Honest baseline: verify the same signature and insert one row (a SQLite file of its own with the
  // store's settings; on PostgreSQL a table in Plugboard's schema).
  const handDb = db.schema ? postgresPort(PG_URL, db.schema) : scratchSqlite().port;
  await prepareTables(handDb, {});
  const hand = http.createServer(inboundApp(handDb, 'bench-signing-secret-0000000000', created.id));
  await new Promise<void>((r) => hand.listen(0, '127.0.0.1', r));
  const handUrl = `http://127.0.0.1:${(hand.address() as AddressInfo).port}`;
  console.log(`\nWebhooks in${suffix ? ` on ${db.label}` : ''} (autocannon, 10 connections, ${DURATION} s; baseline: plain POSTs to the loopback receiver; honest baseline: hand-written Express handler, HMAC check + one row)`);
  const plain = await autocannon({ url: target, method: 'POST', body, connections: 10, duration: DURATION, workers: 1 });
  console.log(`  ${'plain HTTP POST (baseline)'.padEnd(48)} ${Math.round(plain.requests.average).toLocaleString('en-US').padStart(9)} req/s`);
  const signedLoad = (base: string) => autocannon({
    url: `${base}/api/v1/webhooks/inbound/slack/${created.id}`,
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
  const handResult = await signedLoad(handUrl);
  console.log(`  ${'hand-written: verify, insert (honest baseline)'.padEnd(48)} ${Math.round(handResult.requests.average).toLocaleString('en-US').padStart(9)} req/s${handResult.non2xx ? `  (${handResult.non2xx} non-2xx)` : ''}`);
  const inbound = await signedLoad(apiUrl);
  const accepted = inbound.requests.average;
  console.log(`  ${'inbound accepted (verify, store, 202)'.padEnd(48)} ${Math.round(accepted).toLocaleString('en-US').padStart(9)} req/s${inbound.non2xx ? `  (${inbound.non2xx} non-2xx)` : ''}`);
  console.log(`  ${'inbound / plain POSTs'.padEnd(48)} ${(accepted / plain.requests.average).toFixed(2).padStart(9)} x`);
  record(`webhooks.in${suffix}`, { value: accepted, unit: 'req/s', baseline: handResult.requests.average, baseline_is: `hand-written Express handler: Slack HMAC check, one row (${db.label})`, plain_posts_per_s: Math.round(plain.requests.average) });
  hand.closeAllConnections();
  hand.close();
  await handDb.close();

  api.closeAllConnections();
  api.close();
  receiver.closeAllConnections();
  receiver.close();
  await platform.close();
}
