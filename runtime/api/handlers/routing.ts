import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';

export const routingHandlers: Record<string, ApiHandler> = {
  async listRoutingRules(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.routing.list(h.tenantId, { ...page, capability: q['capability'] });
    res.json(listPage(result.items, result.total, page, req.originalUrl));
  },
  async createRoutingRule(c, h, _req, res) {
    const rule = await h.platform.routing.create(h, c.request.requestBody);
    res.status(201).json(ok(rule, 'Routing rule created.'));
  },
  async resolveRoutingRule(c, h, _req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    res.json(ok(await h.platform.routing.resolve(h.tenantId, q['capability'] ?? '')));
  },
  async getRoutingRule(c, h, _req, res) {
    res.json(ok(h.platform.routing.view(await h.platform.routing.get(h.tenantId, c.request.params['id'] as string))));
  },
  async updateRoutingRule(c, h, _req, res) {
    const rule = await h.platform.routing.update(h, c.request.params['id'] as string, c.request.requestBody);
    res.json(ok(rule, 'Routing rule updated.'));
  },
  async deleteRoutingRule(c, h, _req, res) {
    await h.platform.routing.remove(h, c.request.params['id'] as string);
    res.json(ok(null, 'Routing rule deleted.'));
  },
};
