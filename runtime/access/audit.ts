// The audit log: who changed what, when, with which request. Field names only, never values.
// The services record every change they make (after making it); handlers never do.
import type { Logger } from 'pino';
import type { Store, AuditEntry } from '../store/types.ts';
import { type Principal } from './api-keys.ts';
import { newId } from '../store/ids.ts';

/** Who asks for a change and in which request: an API handler's context, or actingAs() elsewhere. */
export interface AuditContext {
  principal: Pick<Principal, 'tenantId' | 'actor'>;
  requestId: string;
}

/** The context of a change no API request asked for: the OAuth callback, a CLI command, a benchmark. */
export function actingAs(tenantId: string, actor: string, requestId = ''): AuditContext {
  return { principal: { tenantId, actor }, requestId };
}

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly logger?: Pick<Logger, 'error'>,
  ) {}

  /**
   * Appends the entry of a change that was already made. The change and its entry are two writes
   * (the store has no transaction across repositories), so when the entry cannot be written the
   * change still stands: this never throws, the caller is answered success (a 500 would make a
   * client retry a change that happened), and the failure is logged at error level with the whole
   * entry (field names only, never values) so an operator can restore it from the log.
   */
  async record(ctx: AuditContext, action: string, targetType: string, targetId: string | null, changedFields: string[] = []): Promise<void> {
    const entry: AuditEntry = {
      id: newId(),
      tenant_id: ctx.principal.tenantId,
      actor: ctx.principal.actor,
      action,
      target_type: targetType,
      target_id: targetId,
      request_id: ctx.requestId,
      changed_fields: [...new Set(changedFields)].sort(),
      created_at: new Date().toISOString(),
    };
    try {
      await this.store.audit.append(entry);
    } catch (err) {
      this.logger?.error({ err: (err as Error)?.message ?? String(err), audit: entry }, 'audit entry not recorded; the change itself was made');
    }
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
