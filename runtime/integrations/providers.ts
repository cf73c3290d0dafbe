// The provider catalogue a tenant sees: every installed connector, and whether the tenant has
// configured an integration for it.
import type { Connector } from '../manifest/connector.ts';
import type { Store } from '../store/types.ts';

export async function listProviders(store: Store, connectors: Map<string, Connector>, tenantId: string, category: string | undefined, oauthAppConfigured: (c: Connector) => boolean | null) {
  const configured = new Set(await store.integrations.configuredProviders(tenantId));
  return [...connectors.values()]
    .filter((p) => !category || p.category === category)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      display_name: p.displayName,
      description: p.description,
      category: p.category,
      auth_type: p.manifest.auth.type,
      capabilities: [...p.capabilities.keys()],
      environments: Object.keys(p.environments),
      // Sync streams: name, model and schedule (null: runs on request or when a webhook triggers it).
      streams: [...p.streams.values()].map((s) => ({ name: s.name, model: s.model, schedule: s.schedule ?? null })),
      credential_schema: p.credentialSchema,
      is_configured: configured.has(p.name),
      // OAuth providers: whether connecting is available (the operator's app is set, or the tenant brings its own).
      oauth_app_configured: oauthAppConfigured(p),
    }));
}
