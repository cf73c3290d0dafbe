// Tenant bootstrap: `plugboard tenants create <name>` makes a tenant and its first admin key.
import type { Store } from '../store/types.ts';
import { createApiKey } from '../access/api-keys.ts';
import { newId } from '../store/ids.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export async function createTenant(store: Store, name: string, plan = 'basic'): Promise<{ tenant_id: string; api_key: string }> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) throw new PlugboardError('validation', 'tenant name must be 1 to 200 characters');
  const id = newId();
  await store.tenants.create({ id, name: trimmed, plan, created_at: new Date().toISOString() });
  const { key } = await createApiKey(store, id, { name: 'bootstrap admin key', scopes: ['admin', 'read', 'write', 'delete'] });
  return { tenant_id: id, api_key: key };
}
