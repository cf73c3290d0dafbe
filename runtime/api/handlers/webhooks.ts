import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';
import { listEventTypes } from '../../webhooks/catalog.ts';
import { webhookId } from '../../webhooks/dispatcher.ts';
import type { WebhookDeliveryRow, WebhookAttemptRow } from '../../store/types.ts';

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
    const r = await h.platform.webhooks.listSubscriptions(h.tenantId, page);
    res.json(listPage(r.items.map((s) => h.platform.subscriptions.view(s)), r.total, page, req.originalUrl));
  },
  async createWebhookSubscription(c, h, _req, res) {
    const { row, secret } = await h.platform.subscriptions.create(h, c.request.requestBody);
    res.status(201).json(ok({ ...h.platform.subscriptions.view(row), secret }, 'Subscription created. Store the secret now: it is not shown again.'));
  },
  async getWebhookSubscription(c, h, _req, res) {
    res.json(ok(h.platform.subscriptions.view(await h.platform.subscriptions.get(h.tenantId, id(c), 'subscription'))));
  },
  async updateWebhookSubscription(c, h, _req, res) {
    const row = await h.platform.subscriptions.update(h, id(c), c.request.requestBody);
    res.json(ok(h.platform.subscriptions.view(row), 'Subscription updated.'));
  },
  async deleteWebhookSubscription(c, h, _req, res) {
    await h.platform.subscriptions.remove(h, id(c));
    res.json(ok(null, 'Subscription deleted.'));
  },
  async rotateWebhookSecret(c, h, _req, res) {
    const { row, secret } = await h.platform.subscriptions.rotateSecret(h, id(c));
    res.json(ok({ ...h.platform.subscriptions.view(row), secret }, 'Secret rotated; the previous one also signs for 24 hours.'));
  },
  async testWebhookSubscription(c, h, _req, res) {
    const { delivery, result } = await h.platform.webhooks.test(h.tenantId, id(c));
    res.json(ok({ delivery_id: delivery.id, webhook_id: webhookId(delivery.id), delivered: result.outcome === 'delivered', status_code: result.status, duration_ms: result.duration_ms, response_excerpt: result.response_excerpt, error: result.error }));
  },
  async replayWebhookSubscription(c, h, _req, res) {
    const since = new Date(String((c.request.query as Record<string, string>)['since'])).toISOString();
    const { queued } = await h.platform.webhooks.replaySubscription(h, id(c), since);
    res.status(202).json(ok({ queued }, `${queued} deliveries queued again.`));
  },
  async listWebhookDeliveries(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const r = await h.platform.webhooks.listDeliveries(h.tenantId, { ...page, status: q['status'], subscription_id: q['subscription_id'], event_type: q['event_type'] });
    res.json(listPage(r.items.map((d) => deliveryView(d)), r.total, page, req.originalUrl));
  },
  async getWebhookDelivery(c, h, _req, res) {
    const { delivery, attempts } = await h.platform.webhooks.delivery(h.tenantId, id(c));
    res.json(ok(deliveryView(delivery, attempts)));
  },
  async replayWebhookDelivery(c, h, _req, res) {
    const d = await h.platform.webhooks.replayDelivery(h, id(c));
    res.status(202).json(ok(deliveryView(d), 'Delivery queued again with the same webhook-id.'));
  },

  async createRestHook(c, h, _req, res) {
    const body = c.request.requestBody as { target_url: string; event: string };
    const { row } = await h.platform.subscriptions.create(h, { url: body.target_url, events: [body.event] }, 'rest_hook', 'target_url', 'event');
    res.status(201).json(ok({ id: row.id }, 'Subscribed.'));
  },
  async deleteRestHook(c, h, _req, res) {
    await h.platform.subscriptions.remove(h, id(c), 'rest_hook');
    res.json(ok(null, 'Unsubscribed.'));
  },
  async sampleRestHook(c, h, _req, res) {
    res.json(ok(await h.platform.webhooks.samples(h.tenantId, c.request.params['event'] as string)));
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
    await h.platform.webhooks.reprocessInbound(h, id(c));
    res.status(202).json(ok(null, 'Queued for processing.'));
  },
};
