import type { ApiHandler } from '../handler.ts';
import { ok, listPage, fail } from '../envelope.ts';
import { changedFieldNames } from '../../access/audit.ts';
import { listEventTypes, matchesPattern, validateEventPatterns } from '../../webhooks/catalog.ts';
import { createEnvelope } from '../../webhooks/signing.ts';
import { webhookId } from '../../webhooks/dispatcher.ts';
import type { WebhookDeliveryRow, WebhookAttemptRow } from '../../store/types.ts';
import { newId } from '../../access/api-keys.ts';

function deliveryView(d: WebhookDeliveryRow, attempts?: WebhookAttemptRow[]) {
  return {
    id: d.id,
    webhook_id: webhookId(d.id),
    event_id: d.event_id,
    event_type: d.event_type,
    subscription_id: d.subscription_id,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' && d.next_attempt_at ? new Date(d.next_attempt_at).toISOString() : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    created_at: d.created_at,
    delivered_at: d.delivered_at,
    ...(attempts ? { attempt_log: attempts.map(({ tenant_id: _t, delivery_id: _d, ...a }) => a) } : {}),
  };
}

const id = (c: { request: { params: Record<string, unknown> } }) => c.request.params['id'] as string;

export const webhookHandlers: Record<string, ApiHandler> = {
  async listEventTypes(_c, _h, _req, res) {
    res.json(ok(listEventTypes().map((t) => ({ type: t.type, description: t.description, schema_version: t.schema_version, schema: t.schema, sample: t.sample }))));
  },

  async listWebhookSubscriptions(_c, h, req, res) {
    const page = h.page();
    const r = await h.platform.store.webhookSubscriptions.list(h.tenantId, { ...page, kind: 'subscription' });
    res.json(listPage(r.items.map((s) => h.platform.subscriptions.view(s)), r.total, page, req.originalUrl));
  },
  async createWebhookSubscription(c, h, _req, res) {
    const { row, secret } = await h.platform.subscriptions.create(h.tenantId, c.request.requestBody);
    await h.platform.audit.record(h, 'webhook_subscription.created', 'webhook_subscription', row.id, changedFieldNames(c.request.requestBody, '', 1));
    res.status(201).json(ok({ ...h.platform.subscriptions.view(row), secret }, 'Subscription created. Store the secret now: it is not shown again.'));
  },
  async getWebhookSubscription(c, h, _req, res) {
    res.json(ok(h.platform.subscriptions.view(await h.platform.subscriptions.get(h.tenantId, id(c), 'subscription'))));
  },
  async updateWebhookSubscription(c, h, _req, res) {
    const row = await h.platform.subscriptions.update(h.tenantId, id(c), c.request.requestBody);
    await h.platform.audit.record(h, 'webhook_subscription.updated', 'webhook_subscription', row.id, changedFieldNames(c.request.requestBody, '', 1));
    res.json(ok(h.platform.subscriptions.view(row), 'Subscription updated.'));
  },
  async deleteWebhookSubscription(c, h, _req, res) {
    await h.platform.subscriptions.remove(h.tenantId, id(c));
    await h.platform.audit.record(h, 'webhook_subscription.deleted', 'webhook_subscription', id(c));
    res.json(ok(null, 'Subscription deleted.'));
  },
  async rotateWebhookSecret(c, h, _req, res) {
    const { row, secret } = await h.platform.subscriptions.rotateSecret(h.tenantId, id(c));
    await h.platform.audit.record(h, 'webhook_subscription.secret_rotated', 'webhook_subscription', row.id, ['secret']);
    res.json(ok({ ...h.platform.subscriptions.view(row), secret }, 'Secret rotated; the previous one also signs for 24 hours.'));
  },
  async testWebhookSubscription(c, h, _req, res) {
    const sub = await h.platform.subscriptions.get(h.tenantId, id(c), 'subscription');
    if (!sub.enabled) return res.status(409).json(fail('The subscription is disabled: enable it first.', undefined, 'subscription_disabled'));
    const sample = listEventTypes().find((t) => t.type === 'webhook.test')!.sample as Record<string, unknown>;
    // Deferred: this request makes the first attempt itself; retries follow the normal schedule.
    const published = await h.platform.events.publish(h.tenantId, 'webhook.test', { ...sample, subscription_id: sub.id }, { source: 'test', onlySubscription: sub.id, deferMs: 60_000 });
    const delivery = (await h.platform.store.webhookDeliveries.get(h.tenantId, published.deliveryIds[0]!))!;
    const result = await h.platform.dispatcher.attempt(delivery);
    res.json(ok({ delivery_id: delivery.id, webhook_id: webhookId(delivery.id), delivered: result.outcome === 'delivered', status_code: result.status, duration_ms: result.duration_ms, response_excerpt: result.response_excerpt, error: result.error }));
  },
  async replayWebhookSubscription(c, h, _req, res) {
    const sub = await h.platform.subscriptions.get(h.tenantId, id(c), 'subscription');
    if (!sub.enabled) return res.status(409).json(fail('The subscription is disabled: enable it first.', undefined, 'subscription_disabled'));
    const since = new Date(String((c.request.query as Record<string, string>)['since'])).toISOString();
    const ids = await h.platform.store.webhookDeliveries.idsForSubscription(h.tenantId, sub.id, since);
    const queued = await h.platform.store.webhookDeliveries.requeue(h.tenantId, ids, Date.now());
    await h.platform.audit.record(h, 'webhook_subscription.replayed', 'webhook_subscription', sub.id, ['since']);
    h.platform.dispatcher.notify();
    res.status(202).json(ok({ queued }, `${queued} deliveries queued again.`));
  },
  async listWebhookDeliveries(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const r = await h.platform.store.webhookDeliveries.list(h.tenantId, { ...page, status: q['status'], subscription_id: q['subscription_id'], event_type: q['event_type'] });
    res.json(listPage(r.items.map((d) => deliveryView(d)), r.total, page, req.originalUrl));
  },
  async getWebhookDelivery(c, h, _req, res) {
    const d = await h.platform.store.webhookDeliveries.get(h.tenantId, id(c));
    if (!d) return res.status(404).json(fail('Delivery not found.'));
    res.json(ok(deliveryView(d, await h.platform.store.webhookDeliveries.attempts(h.tenantId, d.id))));
  },
  async replayWebhookDelivery(c, h, _req, res) {
    const d = await h.platform.store.webhookDeliveries.get(h.tenantId, id(c));
    if (!d) return res.status(404).json(fail('Delivery not found.'));
    const sub = await h.platform.store.webhookSubscriptions.get(h.tenantId, d.subscription_id);
    if (!sub?.enabled) return res.status(409).json(fail('The subscription is disabled or deleted: enable it first.', undefined, 'subscription_disabled'));
    if (!(await h.platform.store.webhookDeliveries.requeue(h.tenantId, [d.id], Date.now()))) {
      return res.status(409).json(fail('The delivery is being sent right now; replay it once this attempt has finished.', undefined, 'delivery_in_flight'));
    }
    await h.platform.audit.record(h, 'webhook_delivery.replayed', 'webhook_delivery', d.id);
    h.platform.dispatcher.notify();
    res.status(202).json(ok(deliveryView((await h.platform.store.webhookDeliveries.get(h.tenantId, d.id))!), 'Delivery queued again with the same webhook-id.'));
  },

  async createRestHook(c, h, _req, res) {
    const body = c.request.requestBody as { target_url: string; event: string };
    const { row } = await h.platform.subscriptions.create(h.tenantId, { url: body.target_url, events: [body.event] }, 'rest_hook', 'target_url', 'event');
    await h.platform.audit.record(h, 'rest_hook.created', 'webhook_subscription', row.id, ['target_url', 'event']);
    res.status(201).json(ok({ id: row.id }, 'Subscribed.'));
  },
  async deleteRestHook(c, h, _req, res) {
    await h.platform.subscriptions.remove(h.tenantId, id(c), 'rest_hook');
    await h.platform.audit.record(h, 'rest_hook.deleted', 'webhook_subscription', id(c));
    res.json(ok(null, 'Unsubscribed.'));
  },
  async sampleRestHook(c, h, _req, res) {
    const pattern = c.request.params['event'] as string;
    if (Object.keys(validateEventPatterns([pattern], 'event')).length) return res.status(404).json(fail(`Unknown event type "${pattern}".`));
    const recent = await h.platform.store.webhookDeliveries.list(h.tenantId, { page: 1, perPage: 100 });
    const real = recent.items.filter((d) => matchesPattern(pattern, d.event_type) && d.event_type !== 'webhook.test');
    const seen = new Set<string>();
    const bodies = real.filter((d) => !seen.has(d.event_id) && seen.add(d.event_id)).slice(0, 3).map((d) => JSON.parse(d.body) as Record<string, unknown>);
    if (bodies.length) return res.json(ok(bodies));
    const samples = listEventTypes()
      .filter((t) => matchesPattern(pattern, t.type) && t.type !== 'webhook.test')
      .slice(0, 3)
      .map((t) => createEnvelope({ type: t.type, id: newId(), schema_version: t.schema_version, occurred_at: new Date(), tenant_id: h.tenantId, data: t.sample }));
    res.json(ok(samples));
  },

  async receiveInboundWebhook(c, h, req, res) {
    const provider = c.request.params['provider'] as string;
    const integrationId = c.request.params['integration_id'] as string;
    const publicBase = h.platform.config.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.headers.host}`;
    const answer = await h.platform.inbound.receive({
      provider,
      integrationId,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      headers: req.headers,
      url: `${publicBase}${req.originalUrl}`,
    });
    for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
    res.status(answer.status).json(answer.body);
  },
  async listInboundEvents(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const r = await h.platform.inbound.listEvents(h.tenantId, { ...page, status: q['status'], integration_id: q['integration_id'] });
    res.json(listPage(r.items.map(({ tenant_id: _t, body: _b, locked_until: _l, next_attempt_at: _n, ...e }) => e), r.total, page, req.originalUrl));
  },
  async listInboundRejections(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const r = await h.platform.inbound.rejections.list(h.tenantId, { ...page, integration_id: q['integration_id'] });
    res.json(listPage(r.items.map(({ tenant_id: _t, ...e }) => e), r.total, page, req.originalUrl));
  },
  async reprocessInboundEvent(c, h, _req, res) {
    const ev = await h.platform.store.inboundEvents.get(h.tenantId, id(c));
    if (!ev) return res.status(404).json(fail('Inbound event not found.'));
    // Processed events already produced their normalized event (same id), and rejected ones were
    // never authenticated: only failed and ignored events (e.g. after a manifest fix) are reprocessed.
    if (ev.status !== 'failed' && ev.status !== 'ignored') {
      return res.status(409).json(fail(`A ${ev.status} event cannot be reprocessed; only failed and ignored ones can.`, undefined, 'not_reprocessable'));
    }
    if (!(await h.platform.store.inboundEvents.requeue(h.tenantId, ev.id, Date.now()))) {
      return res.status(409).json(fail('The event is being processed right now.', undefined, 'event_in_flight'));
    }
    await h.platform.audit.record(h, 'inbound_event.reprocessed', 'inbound_event', ev.id);
    h.platform.inbound.notify();
    res.status(202).json(ok(null, 'Queued for processing.'));
  },
};
