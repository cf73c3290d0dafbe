import type { ApiHandler } from '../handler.ts';
import { list } from '../envelope.ts';

export const providerHandlers: Record<string, ApiHandler> = {
  async listProviders(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const configured = new Set(await h.platform.store.integrations.configuredProviders(h.tenantId));
    const providers = [...h.platform.connectors.values()]
      .filter((p) => !q['category'] || p.category === q['category'])
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => ({
        name: p.name,
        display_name: p.displayName,
        description: p.description,
        category: p.category,
        auth_type: p.manifest.auth.type,
        capabilities: [...p.capabilities.keys()],
        environments: Object.keys(p.environments),
        credential_schema: p.credentialSchema,
        is_configured: configured.has(p.name),
      }));
    res.json(list(providers, h.page(), req.originalUrl));
  },
};
