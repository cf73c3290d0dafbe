// A subscription that fails continuously for PLUGBOARD_WEBHOOK_DISABLE_AFTER (24 h by default;
// shortened here) is disabled, and integration.webhook_disabled goes to the other subscriptions.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let pb: TestPlatform;

beforeAll(async () => {
  pb = await startTestPlatform({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1', PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: '0,100ms,100ms,100ms,100ms,100ms,100ms,100ms', PLUGBOARD_WEBHOOK_DISABLE_AFTER: '300ms' });
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

describe('continuous failure', () => {
  it('disables the subscription and announces it once', async () => {
    const t = await pb.tenant('Flaky');
    const bodies: any[] = [];
    let failing = 0;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/bad') {
          failing++;
          res.writeHead(500).end('down');
        } else {
          bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const bad = await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url: `${base}/bad`, events: ['payment.*'] });
      await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url: `${base}/good`, events: ['integration.webhook_disabled'] });
      for (let i = 0; i < 3; i++) {
        await pb.platform.events.publish(t.id, 'payment.completed', { payment_id: `pi_${i}`, provider: 'stripe', amount: 1, currency: 'usd', status: 'succeeded', completed_at: new Date().toISOString() });
      }
      const sub = await pb.waitFor(async () => {
        const r = await pb.api(t.key, 'GET', `/webhooks/subscriptions/${bad.body.data.id}`);
        return r.body.data.enabled === false ? r.body.data : undefined;
      }, 'subscription disabled');
      expect(sub.disabled_reason).toMatch(/every delivery failed/);
      await pb.waitFor(async () => bodies.length >= 1, 'webhook_disabled event');
      await new Promise((r) => setTimeout(r, 300));
      expect(bodies.filter((b) => b.type === 'integration.webhook_disabled')).toHaveLength(1);
      expect(bodies[0].data).toMatchObject({ subscription_id: bad.body.data.id, reason: 'continuous_failure' });
      // nothing more is attempted once disabled; pending deliveries are cancelled
      const seen = failing;
      await new Promise((r) => setTimeout(r, 400));
      expect(failing).toBe(seen);
      const pending = await pb.api(t.key, 'GET', `/webhooks/deliveries?subscription_id=${bad.body.data.id}&status=pending`);
      expect(pending.body.meta.total).toBe(0);
      // re-enabling clears the failure state
      const enabled = await pb.api(t.key, 'PATCH', `/webhooks/subscriptions/${bad.body.data.id}`, { enabled: true });
      expect(enabled.body.data).toMatchObject({ enabled: true, failing_since: null, disabled_reason: null });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
