// Unsigned inbound requests cost a counter, not a row each: N forged requests leave at most the
// bounded sample of rejected events (no bodies) and a counter equal to N, shown by the API and /metrics.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sqlOne } from '../helpers/store.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { REJECTION_SAMPLES_PER_INTEGRATION } from '../../runtime/webhooks/inbound-rejections.ts';

let pb: TestPlatform;
let t: { id: string; key: string };
let stripeId: string;
let ok: http.Server;

beforeAll(async () => {
  ok = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'balance' }));
  });
  await new Promise<void>((r) => ok.listen(0, '127.0.0.1', r));
  pb = await startTestPlatform({ PLUGBOARD_BASE_URL_STRIPE: `http://127.0.0.1:${(ok.address() as AddressInfo).port}`, PLUGBOARD_INBOUND_RATE_PER_SECOND: '100000' });
  t = await pb.tenant('Forged Co');
  const r = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_RejectKey00000000', webhook_secret: 'whsec_RejectTestSecret0123456789' } });
  expect(r.status, r.text).toBe(201);
  stripeId = r.body.data.id;
}, 60_000);

afterAll(async () => {
  await pb?.close();
  ok?.close();
});

describe('inbound rejections', () => {
  it('N unsigned requests leave at most the bounded sample of rows and a counter equal to N', async () => {
    const N = 150;
    const body = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_x' } } });
    const send = (headers: Record<string, string>) => fetch(`${pb.url}/api/v1/webhooks/inbound/stripe/${stripeId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    const statuses: number[] = [];
    for (let i = 0; i < N; i += 25) {
      statuses.push(...(await Promise.all(Array.from({ length: Math.min(25, N - i) }, (_, j) => send((i + j) % 3 === 0 ? { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` } : {})))));
    }
    expect(statuses.every((s) => s === 401)).toBe(true);

    const counts = await pb.api(t.key, 'GET', `/webhooks/inbound-rejections?integration_id=${stripeId}`);
    expect(counts.status, counts.text).toBe(200);
    const byCode = Object.fromEntries(counts.body.data.map((c: any) => [c.code, c.count]));
    expect(byCode).toEqual({ missing_signature: N - Math.ceil(N / 3), signature_mismatch: Math.ceil(N / 3) });
    expect(counts.body.data.reduce((a: number, c: any) => a + c.count, 0)).toBe(N);
    expect(counts.body.data[0]).toMatchObject({ integration_id: stripeId, provider: 'stripe' });
    expect(counts.body.data[0].last_reason).toMatch(/signature/i);

    // the sample: rejected inbound events, newest only, without bodies
    const sample = await pb.api(t.key, 'GET', `/webhooks/inbound-events?status=rejected&integration_id=${stripeId}&per_page=100`);
    expect(sample.status).toBe(200);
    expect(sample.body.meta.total).toBeGreaterThan(0);
    expect(sample.body.meta.total).toBeLessThanOrEqual(REJECTION_SAMPLES_PER_INTEGRATION);
    const rows = (await sqlOne<{ n: number; longest: number }>(pb.platform.store, "SELECT COUNT(*) AS n, MAX(LENGTH(body)) AS longest FROM inbound_events WHERE integration_id = ? AND status = 'rejected'", stripeId))!;
    expect(rows.n).toBeLessThanOrEqual(REJECTION_SAMPLES_PER_INTEGRATION);
    expect(rows.longest).toBe(0);

    // a second wave adds to the counters; the sample stays bounded
    await Promise.all(Array.from({ length: 30 }, () => send({})));
    const again = await pb.api(t.key, 'GET', `/webhooks/inbound-rejections?integration_id=${stripeId}`);
    expect(again.body.data.reduce((a: number, c: any) => a + c.count, 0)).toBe(N + 30);
    const n2 = (await sqlOne<{ n: number }>(pb.platform.store, "SELECT COUNT(*) AS n FROM inbound_events WHERE integration_id = ? AND status = 'rejected'", stripeId))!.n;
    expect(n2).toBeLessThanOrEqual(REJECTION_SAMPLES_PER_INTEGRATION);

    // and the log gets a line per integration and reason per flush interval, not one per request
    const logLines = fs.readFileSync(pb.logFile, 'utf8').split('\n').filter((l) => l.includes('inbound webhook rejected'));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.length).toBeLessThan(40);

    // another tenant sees none of it
    const other = await pb.tenant('Other Co');
    expect((await pb.api(other.key, 'GET', '/webhooks/inbound-rejections')).body.data).toEqual([]);

    // and Prometheus counts them by provider and reason code
    const metrics = await (await fetch(`${pb.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith('plugboard_inbound_webhooks_rejected_total{') && l.includes('code="missing_signature"'));
    expect(line, metrics.slice(0, 2000)).toBeDefined();
    expect(Number(line!.split(' ').pop())).toBe(N - Math.ceil(N / 3) + 30);
  });
});
