import type { ApiHandler } from '../handler.ts';
import { ok, listPage, fail } from '../envelope.ts';
import type { DeliveryRow } from '../../store/types.ts';

const deliveryView = ({ tenant_id: _t, ...d }: DeliveryRow) => d;

export const operationHandlers: Record<string, ApiHandler> = {
  async runOperation(c, h, _req, res) {
    const out = await h.platform.operations.run(h.tenantId, c.request.params['capability'] as string, c.request.requestBody, h.requestId);
    if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(out.httpStatus).json(out.body);
  },
  async listDeliveries(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.store.deliveries.list(h.tenantId, { ...page, integration_id: q['integration_id'], capability: q['capability'], status: q['status'], operation_id: q['operation_id'] });
    res.json(listPage(result.items.map(deliveryView), result.total, page, req.originalUrl));
  },
  async getDelivery(c, h, _req, res) {
    const d = await h.platform.store.deliveries.get(h.tenantId, c.request.params['id'] as string);
    if (!d) return res.status(404).json(fail('Delivery not found.'));
    res.json(ok(deliveryView(d)));
  },
};
