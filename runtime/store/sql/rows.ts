// Row mapping shared by the SQL repositories: JSON columns (TEXT), booleans (0/1), patches.
import type { IntegrationRow, RoutingRuleRow, DeliveryRow, OperationRow, WebhookSubscriptionRow, ApiKeyRow } from '../types.ts';
import { PlugboardError } from '../../errors/plugboard-error.ts';

export type Row = Record<string, unknown>;

export const json = (v: unknown) => JSON.stringify(v ?? null);
export const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);

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

/** The set filters among `columns` as column = value pairs (unset, null and '' filters are skipped). */
export function equalityFilters<F extends object>(filter: F, columns: Array<keyof F & string>): Array<[string, unknown]> {
  return columns.filter((k) => filter[k] !== undefined && filter[k] !== null && filter[k] !== '').map((k) => [k, filter[k]]);
}

/** A patch as column values for UPDATE ... SET: JSON columns serialised, booleans as 0/1, undefined dropped. */
export function patchValues(patch: object, jsonCols: string[], boolCols: string[] = []): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (!/^[a-z_]+$/.test(k)) throw new PlugboardError('internal', `bad column ${k}`);
    out[k] = jsonCols.includes(k) ? json(v) : boolCols.includes(k) ? (v ? 1 : 0) : v;
  }
  return out;
}
