import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';
import type { IntegrationStatus } from '../../store/types.ts';

export const integrationHandlers: Record<string, ApiHandler> = {
  async listIntegrations(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.integrations.list(h.tenantId, { ...page, status: q['status'] as IntegrationStatus | undefined, category: q['category'] });
    res.json(listPage(result.items, result.total, page, req.originalUrl));
  },
  async createIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.create(h, c.request.requestBody);
    res.status(201).json(ok(view, 'Integration created; verification queued.'));
  },
  async getIntegration(c, h, _req, res) {
    const row = await h.platform.integrations.get(h.tenantId, c.request.params['id'] as string);
    res.json(ok(h.platform.integrations.view(row)));
  },
  async updateIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.update(h, c.request.params['id'] as string, c.request.requestBody);
    res.json(ok(view, view.status === 'pending_verify' ? 'Integration updated; verification queued.' : 'Integration updated.'));
  },
  async deleteIntegration(c, h, _req, res) {
    await h.platform.integrations.remove(h, c.request.params['id'] as string);
    res.json(ok(null, 'Integration deleted.'));
  },
  async activateIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.activate(h, c.request.params['id'] as string);
    res.json(ok(view, 'Integration activated.'));
  },
  async disableIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.disable(h, c.request.params['id'] as string);
    res.json(ok(view, 'Integration disabled.'));
  },
  async verifyIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.requestVerification(h, c.request.params['id'] as string);
    res.status(202).json(ok(view, 'Verification queued.'));
  },
};
