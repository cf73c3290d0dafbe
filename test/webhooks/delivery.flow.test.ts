// Outbound delivery end to end: a loopback receiver verifies every delivery with the
// `standardwebhooks` package (not our verifier); retries, dead letters, replay, 410, rotation.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

interface Received {
  webhookId: string;
  body: any;
  verifiedWith: string[];
}

/** A receiver that answers with `plan(n)` for its n-th request and records verified deliveries. */
async function startReceiver(secrets: () => string[], plan: (n: number) => number = () => 204) {
  const received: Received[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n++;
      const payload = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      const verifiedWith = secrets().filter((s) => {
        try {
          new Webhook(s).verify(payload, headers);
          return true;
        } catch {
          return false;
        }
      });
      const status = plan(n);
      if (verifiedWith.length === 0) {
        res.writeHead(400).end('bad signature');
        return;
      }
      if (status >= 200 && status < 300) received.push({ webhookId: headers['webhook-id'], body: JSON.parse(payload), verifiedWith });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `failing with ${status}` : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, count: () => n, close: () => { server.closeAllConnections(); server.close(); } };
}

let pb: TestPlatform;
let t: { id: string; key: string };

beforeAll(async () => {
  pb = await startTestPlatform({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1', PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: '0,50ms,50ms,50ms' });
  t = await pb.tenant('Hooks Inc');
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

async function subscribe(url: string, events: string[] = ['payment.*']) {
  const r = await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url, events, description: 'test receiver' });
  expect(r.status, r.text).toBe(201);
  expect(r.body.data.secret).toMatch(/^whsec_/);
  return r.body.data as { id: string; secret: string };
}

const payment = (id: string) => ({ payment_id: id, provider: 'stripe', amount: 1200, currency: 'usd', status: 'succeeded', completed_at: new Date().toISOString() });

describe('outbound webhooks', () => {
  it('delivers a signed event that standardwebhooks verifies, with the documented body', async () => {
    let secret = '';
    const rx = await startReceiver(() => [secret]);
    try {
      const sub = await subscribe(rx.url);
      secret = sub.secret;
      const { eventId } = await pb.platform.events.publish(t.id, 'payment.completed', payment('pi_1'));
      await pb.waitFor(async () => rx.received.length === 1, 'delivery');
      const got = rx.received[0]!;
      expect(got.body).toMatchObject({ type: 'payment.completed', id: eventId, schema_version: 1, tenant_id: t.id, data: { payment_id: 'pi_1' } });
      expect(got.body.occurred_at).toMatch(/Z$/);
      expect(got.webhookId).toMatch(/^msg_/);
      // The attempt is recorded after the receiver answered: wait for it rather than read at once.
      const first = await pb.waitFor(async () => {
        const r = await pb.api(t.key, 'GET', `/webhooks/deliveries?subscription_id=${sub.id}`);
        return r.body.data[0]?.status === 'pending' ? undefined : r.body.data[0];
      }, 'attempt recorded');
      expect(first).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204, webhook_id: got.webhookId });
      // events it did not subscribe to are not sent
      await pb.platform.events.publish(t.id, 'contact.created', { contact_id: 'c1', provider: 'hubspot', created_at: new Date().toISOString() }).catch(() => undefined);
      expect((await pb.api(t.key, 'GET', `/webhooks/deliveries?subscription_id=${sub.id}`)).body.meta.total).toBe(1);
    } finally {
      rx.close();
    }
  });

  it('signs with both secrets for 24 h after a rotation', async () => {
    const secrets: string[] = [];
    const rx = await startReceiver(() => secrets);
    try {
      const sub = await subscribe(rx.url);
      const rotated = await pb.api(t.key, 'POST', `/webhooks/subscriptions/${sub.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.data.secret).not.toBe(sub.secret);
      expect(rotated.body.data.secret_rotation_ends_at).toBeTruthy();
      secrets.push(sub.secret, rotated.body.data.secret);
      await pb.platform.events.publish(t.id, 'payment.completed', payment('pi_2'));
      await pb.waitFor(async () => rx.received.length === 1, 'delivery');
      expect(rx.received[0]!.verifiedWith.sort()).toEqual([sub.secret, rotated.body.data.secret].sort());
      // the secret is never shown again
      const again = await pb.api(t.key, 'GET', `/webhooks/subscriptions/${sub.id}`);
      expect(again.text).not.toContain(sub.secret);
      expect(again.text).not.toContain(rotated.body.data.secret);
    } finally {
      rx.close();
    }
  });

  it('retries a failing receiver and delivers exactly once, with one webhook-id across attempts', async () => {
    let secret = '';
    const ids: string[] = [];
    const rx = await startReceiver(() => [secret], (n) => (n <= 2 ? 500 : 204));
    try {
      const sub = await subscribe(rx.url);
      secret = sub.secret;
      await pb.platform.events.publish(t.id, 'payment.completed', payment('pi_3'));
      await pb.waitFor(async () => rx.received.length === 1, 'delivery after retries');
      expect(rx.count()).toBe(3);
      const list = await pb.api(t.key, 'GET', `/webhooks/deliveries?subscription_id=${sub.id}`);
      const d = await pb.waitFor(async () => {
        const r = await pb.api(t.key, 'GET', `/webhooks/deliveries/${list.body.data[0].id}`);
        return r.body.data.status === 'pending' ? undefined : r;
      }, 'third attempt recorded');
      expect(d.body.data).toMatchObject({ status: 'delivered', attempts: 3 });
      expect(d.body.data.attempt_log.map((a: any) => a.status_code)).toEqual([500, 500, 204]);
      expect(d.body.data.attempt_log[0].response_excerpt).toBe('failing with 500');
      ids.push(rx.received[0]!.webhookId);
      expect(ids[0]).toBe(d.body.data.webhook_id);
    } finally {
      rx.close();
    }
  });

  it('ends an always-failing delivery in failed, and a replay after the fix delivers it with the same webhook-id', async () => {
    let secret = '';
    let fixed = false;
    const rx = await startReceiver(() => [secret], () => (fixed ? 200 : 503));
    try {
      const sub = await subscribe(rx.url);
      secret = sub.secret;
      await pb.platform.events.publish(t.id, 'payment.completed', payment('pi_4'));
      const dead = await pb.waitFor(async () => {
        const r = await pb.api(t.key, 'GET', `/webhooks/deliveries?subscription_id=${sub.id}&status=failed`);
        return r.body.data[0];
      }, 'dead letter');
      expect(dead.attempts).toBe(4);
      fixed = true;
      const replay = await pb.api(t.key, 'POST', `/webhooks/deliveries/${dead.id}/replay`);
      expect(replay.status).toBe(202);
      await pb.waitFor(async () => rx.received.length === 1, 'replayed delivery');
      expect(rx.received[0]!.webhookId).toBe(dead.webhook_id);
      // The replayed attempt is recorded after the receiver answered (a held delivery is not requeued).
      await pb.waitFor(async () => (await pb.api(t.key, 'GET', `/webhooks/deliveries/${dead.id}`)).body.data.status === 'delivered', 'replay recorded');
      // bulk replay by subscription
      const bulk = await pb.api(t.key, 'POST', `/webhooks/subscriptions/${sub.id}/replay?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`);
      expect(bulk.status).toBe(202);
      expect(bulk.body.data.queued).toBe(1);
      await pb.waitFor(async () => rx.received.length === 2, 'bulk replay');
      expect(rx.received[1]!.webhookId).toBe(dead.webhook_id);
    } finally {
      rx.close();
    }
  });

  it('disables a subscription whose receiver answers 410 and tells the other subscriptions', async () => {
    let goneSecret = '';
    let watcherSecret = '';
    const gone = await startReceiver(() => [goneSecret], () => 410);
    const watcher = await startReceiver(() => [watcherSecret]);
    try {
      const sub = await subscribe(gone.url);
      goneSecret = sub.secret;
      const w = await subscribe(watcher.url, ['integration.webhook_disabled']);
      watcherSecret = w.secret;
      await pb.platform.events.publish(t.id, 'payment.completed', payment('pi_5'));
      await pb.waitFor(async () => watcher.received.length === 1, 'webhook_disabled event');
      expect(watcher.received[0]!.body).toMatchObject({ type: 'integration.webhook_disabled', data: { subscription_id: sub.id, reason: 'endpoint_gone' } });
      const s = await pb.api(t.key, 'GET', `/webhooks/subscriptions/${sub.id}`);
      expect(s.body.data).toMatchObject({ enabled: false });
      expect(gone.count()).toBe(1);
    } finally {
      gone.close();
      watcher.close();
    }
  });

  it('sends a test event on request and reports the answer', async () => {
    let secret = '';
    const rx = await startReceiver(() => [secret]);
    try {
      const sub = await subscribe(rx.url, ['payment.completed']);
      secret = sub.secret;
      const r = await pb.api(t.key, 'POST', `/webhooks/subscriptions/${sub.id}/test`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.data).toMatchObject({ delivered: true, status_code: 204 });
      expect(rx.received[0]!.body.type).toBe('webhook.test');
    } finally {
      rx.close();
    }
  });

  it('offers REST hooks for Zapier, Make and n8n', async () => {
    let secret = '';
    const rx = await startReceiver(() => [secret]);
    try {
      const created = await pb.api(t.key, 'POST', '/hooks', { target_url: rx.url, event: 'payment.refunded' });
      expect(created.status, created.text).toBe(201);
      const hookId = created.body.data.id as string;
      // REST hook deliveries are signed too: the secret is readable through the subscription service only
      const row = (await pb.platform.store.webhookSubscriptions.get(t.id, hookId))!;
      secret = pb.platform.subscriptions.signingSecrets(row)[0]!;
      const sample = await pb.api(t.key, 'GET', '/hooks/sample/payment.refunded');
      expect(sample.status).toBe(200);
      expect(sample.body.data[0]).toMatchObject({ type: 'payment.refunded', schema_version: 1 });
      await pb.platform.events.publish(t.id, 'payment.refunded', { refund_id: 're_1', provider: 'stripe', amount: 100, currency: 'usd', status: 'succeeded', refunded_at: new Date().toISOString() });
      await pb.waitFor(async () => rx.received.length === 1, 'rest hook delivery');
      const realSample = await pb.api(t.key, 'GET', '/hooks/sample/payment.refunded');
      expect(realSample.body.data[0].data.refund_id).toBe('re_1');
      expect((await pb.api(t.key, 'DELETE', `/hooks/${hookId}`)).status).toBe(200);
      expect((await pb.api(t.key, 'DELETE', `/hooks/${hookId}`)).status).toBe(404);
      expect((await pb.api(t.key, 'POST', '/hooks', { target_url: rx.url, event: 'no.such_event' })).status).toBe(422);
    } finally {
      rx.close();
    }
  });

  it('lists event types with schemas and samples', async () => {
    const r = await pb.api(t.key, 'GET', '/events/types');
    const types = r.body.data.map((x: any) => x.type);
    for (const required of ['integration.activated', 'integration.error', 'integration.webhook_disabled', 'operation.succeeded', 'operation.failed', 'payment.completed', 'payment.failed', 'payment.refunded', 'message.delivered', 'message.failed', 'contact.created', 'contact.updated', 'appointment.created', 'appointment.cancelled', 'sync.completed']) {
      expect(types).toContain(required);
    }
    expect(r.body.data[0]).toHaveProperty('schema');
    expect(r.body.data[0]).toHaveProperty('sample');
  });
});
