import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';
import type { DeliveryRow } from '../../store/types.ts';
import type { OperationResult } from '../../operations/service.ts';

/** A delivery as the API shows it (also the MCP server's list_deliveries). */
export const deliveryView = ({ tenant_id: _t, ...d }: DeliveryRow) => d;

/** The HTTP answer of an operation's result (also of a replayed one: the same bytes; the MCP server's tool result). */
export function operationResponse(r: OperationResult): { status: number; body: Record<string, unknown> } {
  if (r.status === 'succeeded') {
    const data = { operation_id: r.operation_id, capability: r.capability, integration_id: r.integration_id, provider: r.provider, output: r.output, fallback_used: r.fallback_used, deliveries: r.deliveries };
    return { status: 200, body: ok(data, 'Operation succeeded.') };
  }
  if (r.status === 'unknown') {
    return {
      status: 502,
      body: {
        success: false,
        message: 'The operation was interrupted while a provider was handling it: whether the provider acted is unknown. Check GET /deliveries (and the provider) before retrying with a new idempotency key.',
        code: 'outcome_unknown',
        errors: { provider: ['the outcome of the provider call is unknown'] },
        operation_id: r.operation_id,
        deliveries: r.deliveries,
      },
    };
  }
  const e = r.error;
  return {
    status: e.type === 'invalid_input' ? 422 : e.type === 'timeout' ? 504 : 502,
    body: { success: false, message: `The operation failed: ${e.message}`, code: e.type, errors: { provider: [e.provider_message ?? e.message] }, operation_id: r.operation_id, deliveries: r.deliveries },
  };
}

export const operationHandlers: Record<string, ApiHandler> = {
  async runOperation(c, h, _req, res) {
    const out = await h.platform.operations.run(h.tenantId, c.request.params['capability'] as string, c.request.requestBody, h.requestId);
    if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const { status, body } = operationResponse(out);
    res.status(status).json(body);
  },
  async listDeliveries(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.operations.deliveries(h.tenantId, { ...page, integration_id: q['integration_id'], capability: q['capability'], status: q['status'], operation_id: q['operation_id'] });
    res.json(listPage(result.items.map(deliveryView), result.total, page, req.originalUrl));
  },
  async getDelivery(c, h, _req, res) {
    res.json(ok(deliveryView(await h.platform.operations.delivery(h.tenantId, c.request.params['id'] as string))));
  },
};
