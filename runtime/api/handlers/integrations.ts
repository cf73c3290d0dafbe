import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';
import type { IntegrationStatus } from '../../store/types.ts';
import { changedFieldNames } from '../../access/audit.ts';

export const integrationHandlers: Record<string, ApiHandler> = {
  async listIntegrations(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.integrations.list(h.tenantId, { ...page, status: q['status'] as IntegrationStatus | undefined, category: q['category'] });
    res.json(listPage(result.items, result.total, page, req.originalUrl));
  },
  async createIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.create(h.tenantId, c.request.requestBody);
    await h.platform.audit.record(h, 'integration.created', 'integration', view.id, changedFieldNames(c.request.requestBody));
    res.status(201).json(ok(view, 'Integration created; verification queued.'));
  },
  async getIntegration(c, h, _req, res) {
    const row = await h.platform.integrations.get(h.tenantId, c.request.params['id'] as string);
    res.json(ok(h.platform.integrations.view(row)));
  },
  async updateIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.update(h.tenantId, c.request.params['id'] as string, c.request.requestBody);
    await h.platform.audit.record(h, 'integration.updated', 'integration', view.id, changedFieldNames(c.request.requestBody));
    res.json(ok(view, view.status === 'pending_verify' ? 'Integration updated; verification queued.' : 'Integration updated.'));
  },
  async deleteIntegration(c, h, _req, res) {
    await h.platform.integrations.remove(h.tenantId, c.request.params['id'] as string);
    await h.platform.audit.record(h, 'integration.deleted', 'integration', c.request.params['id'] as string);
    res.json(ok(null, 'Integration deleted.'));
  },
  async activateIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.activate(h.tenantId, c.request.params['id'] as string);
    await h.platform.audit.record(h, 'integration.activated', 'integration', view.id, ['status']);
    res.json(ok(view, 'Integration activated.'));
  },
  async disableIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.disable(h.tenantId, c.request.params['id'] as string);
    await h.platform.audit.record(h, 'integration.disabled', 'integration', view.id, ['status']);
    res.json(ok(view, 'Integration disabled.'));
  },
  async verifyIntegration(c, h, _req, res) {
    const view = await h.platform.integrations.requestVerification(h.tenantId, c.request.params['id'] as string);
    await h.platform.audit.record(h, 'integration.verification_requested', 'integration', view.id, ['status']);
    res.status(202).json(ok(view, 'Verification queued.'));
  },
};
