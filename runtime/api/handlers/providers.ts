import type { ApiHandler } from '../handler.ts';
import { list } from '../envelope.ts';

export const providerHandlers: Record<string, ApiHandler> = {
  async listProviders(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const providers = await h.platform.integrations.providers(h.tenantId, q['category']);
    res.json(list(providers, h.page(), req.originalUrl));
  },
};
