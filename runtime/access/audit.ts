// The audit log: who changed what, when, with which request. Field names only, never values.
import type { Store } from '../store/types.ts';
import { type Principal } from './api-keys.ts';
import { newId } from '../store/ids.ts';

export interface AuditContext {
  principal: Principal;
  requestId: string;
}

export class AuditLog {
  constructor(private readonly store: Store) {}

  async record(ctx: AuditContext, action: string, targetType: string, targetId: string | null, changedFields: string[] = []): Promise<void> {
    await this.store.audit.append({
      id: newId(),
      tenant_id: ctx.principal.tenantId,
      actor: ctx.principal.actor,
      action,
      target_type: targetType,
      target_id: targetId,
      request_id: ctx.requestId,
      changed_fields: [...new Set(changedFields)].sort(),
      created_at: new Date().toISOString(),
    });
  }
}

/** Dotted names of the fields a request body sets, e.g. credentials.auth_token, metadata.label. */
export function changedFieldNames(body: unknown, prefix = '', depth = 0): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return prefix ? [prefix] : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(body)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (depth < 1 && v && typeof v === 'object' && !Array.isArray(v)) out.push(...changedFieldNames(v, name, depth + 1));
    else out.push(name);
  }
  return out;
}
