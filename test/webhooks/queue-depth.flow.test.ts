// plugboard_job_queue_depth counts all work that is due and not done: Agenda jobs, and also the
// webhook deliveries and inbound events the row-leasing workers take (not Agenda jobs).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let pb: TestPlatform;

beforeAll(async () => {
  pb = await startTestPlatform();
  // Keep due rows due: no worker takes them while the gauge is read.
  await pb.platform.dispatcher.stop();
  await pb.platform.inbound.stop();
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

const depth = async () => {
  const text = await (await fetch(`${pb.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('plugboard_job_queue_depth '));
  return Number(line?.split(' ')[1]);
};

describe('queue depth', () => {
  it('counts due webhook deliveries and inbound events beside Agenda jobs', async () => {
    const before = await depth();
    expect(before).toBe(await pb.platform.jobsQueueDepth());
    const t = await pb.tenant('Depth Co');
    const now = new Date().toISOString();
    const past = Date.now() - 1000;
    await pb.platform.store.webhookDeliveries.createWithEvent(
      { id: '01hdepthevent0000000000000', tenant_id: t.id, type: 'payment.completed', schema_version: 1, occurred_at: now, data: {}, source: 'internal', created_at: now },
      ['01hdepthdelivery1000000000', '01hdepthdelivery2000000000'].map((id) => ({
        id, tenant_id: t.id, event_id: '01hdepthevent0000000000000', event_type: 'payment.completed', subscription_id: `sub-${id}`, body: '{}', status: 'pending' as const,
        attempts: 0, next_attempt_at: past, locked_until: null, last_status_code: null, last_error: null, created_at: now, updated_at: now, delivered_at: null,
      })),
    );
    await pb.platform.store.inboundEvents.create({
      id: '01hdepthinbound00000000000', tenant_id: t.id, integration_id: '01hdepthintegration0000000', provider: 'stripe', provider_event_id: 'evt_depth', provider_event_type: 'x',
      status: 'received', reason: null, content_type: 'application/json', body: '{}', normalized_event_id: null, next_attempt_at: past, locked_until: null, attempts: 0, received_at: now, processed_at: null,
    });
    // a delivery due later is not counted
    await pb.platform.store.webhookDeliveries.createWithEvent(
      { id: '01hdepthevent1000000000000', tenant_id: t.id, type: 'payment.completed', schema_version: 1, occurred_at: now, data: {}, source: 'internal', created_at: now },
      [{ id: '01hdepthlater0000000000000', tenant_id: t.id, event_id: '01hdepthevent1000000000000', event_type: 'payment.completed', subscription_id: 'sub-later', body: '{}', status: 'pending', attempts: 0, next_attempt_at: Date.now() + 3_600_000, locked_until: null, last_status_code: null, last_error: null, created_at: now, updated_at: now, delivered_at: null }],
    );
    expect(await depth()).toBe(before + 3);
  });
});
