// SQLite repositories: Routing rules and reads of operation delivery attempts (operations.ts writes them).
import type { Store, DeliveryFilter, DeliveryRow, ListQuery, RoutingRuleRow } from '../types.ts';
import type { SqliteConnection } from './connection.ts';
import { json, toRule, toDelivery, equalityFilters, setClause, type Row } from './rows.ts';

export function routingRulesRepo(c: SqliteConnection): Store['routingRules'] {
  const repo: Store['routingRules'] = {
    create: async (row: RoutingRuleRow) => {
      c.sql(`INSERT INTO routing_rules (id, tenant_id, capability, integration_id, fallback_integration_id, is_default, priority, conditions, created_at, updated_at)
        VALUES (@id, @tenant_id, @capability, @integration_id, @fallback_integration_id, @is_default, @priority, @conditions, @created_at, @updated_at)`).run({ ...row, is_default: row.is_default ? 1 : 0, conditions: json(row.conditions) });
    },
    get: async (tenantId: string, id: string) => {
      const r = c.sql('SELECT * FROM routing_rules WHERE tenant_id = ? AND id = ?').get(tenantId, id) as Row | undefined;
      return r ? toRule(r) : undefined;
    },
    list: async (tenantId: string, f: ListQuery & { capability?: string }) => {
      const params: Row = { tenantId };
      let where = 'tenant_id = @tenantId';
      if (f.capability) {
        where += ' AND capability = @capability';
        params['capability'] = f.capability;
      }
      return c.page(`FROM routing_rules WHERE ${where}`, params, f, 'capability, priority, created_at', toRule);
    },
    forCapability: async (tenantId: string, capability: string) =>
      (c.sql('SELECT * FROM routing_rules WHERE tenant_id = ? AND capability = ? ORDER BY priority, created_at').all(tenantId, capability) as Row[]).map(toRule),
    update: async (tenantId: string, id: string, patch: Partial<RoutingRuleRow>) => {
      const { sql, params } = setClause(patch as Row, ['conditions'], ['is_default']);
      if (sql) c.sql(`UPDATE routing_rules SET ${sql} WHERE tenant_id = @__tenant AND id = @__id`).run({ ...params, __tenant: tenantId, __id: id });
      return repo.get(tenantId, id);
    },
    delete: async (tenantId: string, id: string) => c.sql('DELETE FROM routing_rules WHERE tenant_id = ? AND id = ?').run(tenantId, id).changes === 1,
    detachIntegration: async (tenantId: string, integrationId: string) => {
      c.db.transaction(() => {
        c.sql('DELETE FROM routing_rules WHERE tenant_id = ? AND integration_id = ?').run(tenantId, integrationId);
        c.sql('UPDATE routing_rules SET fallback_integration_id = NULL, updated_at = ? WHERE tenant_id = ? AND fallback_integration_id = ?').run(new Date().toISOString(), tenantId, integrationId);
      }).immediate();
    },
  };
  return repo;
}

export function deliveriesRepo(c: SqliteConnection): Store['deliveries'] {
  const repo: Store['deliveries'] = {
    get: async (tenantId: string, id: string) => {
      const r = c.sql('SELECT * FROM deliveries WHERE tenant_id = ? AND id = ?').get(tenantId, id) as Row | undefined;
      return r ? toDelivery(r) : undefined;
    },
    list: async (tenantId: string, f: DeliveryFilter) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['integration_id', 'capability', 'status', 'operation_id']);
      return c.page(`FROM deliveries WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', toDelivery);
    },
  };
  return repo;
}
