// Row mapping shared by the SQLite repositories: JSON columns, booleans, filters, SET clauses.
import type {
  Store, TenantRow, ApiKeyRow, OAuthClientRow, AuditEntry, AuditFilter, UsageRow, SealedKeyRef,
  WebhookSubscriptionRow, EventRow, WebhookDeliveryRow, WebhookAttemptRow, InboundEventRow, IntegrationRow, RoutingRuleRow, DeliveryRow, OperationRow,
  IntegrationFilter, DeliveryFilter, ListQuery, ListResult, IntegrationStatus,
} from '../types.ts';
import { PlugboardError } from '../../errors/plugboard-error.ts';

export type Row = Record<string, unknown>;

export const json = (v: unknown) => JSON.stringify(v ?? null);
export const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);

export function isUnique(err: unknown): boolean {
  return (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function toIntegration(r: Row): IntegrationRow {
  return {
    ...(r as unknown as IntegrationRow),
    enabled_capabilities: parse(r['enabled_capabilities'], []),
    environment: (r['environment'] as string | null | undefined) ?? null,
    metadata: parse(r['metadata'], {}),
    system_metadata: parse(r['system_metadata'], {}),
    credentials_public: parse(r['credentials_public'], {}),
    connection: parse(r['connection'], {}),
  };
}

export function toRule(r: Row): RoutingRuleRow {
  return { ...(r as unknown as RoutingRuleRow), is_default: r['is_default'] === 1, conditions: parse(r['conditions'], {}) };
}

export function toDelivery(r: Row): DeliveryRow {
  return { ...(r as unknown as DeliveryRow), error: parse(r['error'], null) };
}

export function toSubscription(r: Row): WebhookSubscriptionRow {
  return { ...(r as unknown as WebhookSubscriptionRow), events: parse(r['events'], []), enabled: r['enabled'] === 1 };
}

export function toApiKey(r: Row): ApiKeyRow {
  return { ...(r as unknown as ApiKeyRow), scopes: parse(r['scopes'], []) };
}

export function toOperation(r: Row): OperationRow {
  return { ...(r as unknown as OperationRow), response: parse(r['response'], null) };
}

/** Adds `col = @col` to `where` for each listed filter that is set. */
export function equalityFilters<F extends object>(where: string[], params: Row, filter: F, columns: Array<keyof F & string>): void {
  for (const k of columns) {
    const v = filter[k];
    if (v === undefined || v === null || v === '') continue;
    where.push(`${k} = @${k}`);
    params[k] = v;
  }
}

/** Builds "SET a = @a, b = @b" from a patch, serialising JSON columns. */
export function setClause(patch: Row, jsonCols: string[], boolCols: string[] = []): { sql: string; params: Row } {
  const params: Row = {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (!/^[a-z_]+$/.test(k)) throw new PlugboardError('internal', `bad column ${k}`);
    parts.push(`${k} = @${k}`);
    params[k] = jsonCols.includes(k) ? json(v) : boolCols.includes(k) ? (v ? 1 : 0) : v;
  }
  return { sql: parts.join(', '), params };
}
