// SQL repositories: Routing rules and reads of operation delivery attempts (operations.ts writes them).
import type { Store, DeliveryFilter, ListQuery, RoutingRuleRow } from '../types.ts';
import type { SqlConnection } from './connection.ts';
import { json, toRule, toDelivery, equalityFilters, patchValues } from './rows.ts';

export function routingRulesRepo(c: SqlConnection): Store['routingRules'] {
  const { db } = c;
  const repo: Store['routingRules'] = {
    create: async (row: RoutingRuleRow) => {
      await db.insertInto('routing_rules').values({ ...row, is_default: row.is_default ? 1 : 0, conditions: json(row.conditions) }).execute();
    },
    get: async (tenantId: string, id: string) => {
      const r = await db.selectFrom('routing_rules').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return r ? toRule(r) : undefined;
    },
    list: async (tenantId: string, f: ListQuery & { capability?: string }) => {
      let base = db.selectFrom('routing_rules').where('tenant_id', '=', tenantId);
      if (f.capability) base = base.where('capability', '=', f.capability);
      return c.page(base, f, [['capability', 'asc'], ['priority', 'asc'], ['created_at', 'asc']], toRule);
    },
    // Every operation: constant SQL text (no query-builder compile per request).
    forCapability: async (tenantId: string, capability: string) =>
      (await c.raw<Record<string, unknown>>(db, 'SELECT * FROM routing_rules WHERE tenant_id = ? AND capability = ? ORDER BY priority, created_at', [tenantId, capability])).rows.map(toRule),
    update: async (tenantId: string, id: string, patch: Partial<RoutingRuleRow>) => {
      const values = patchValues(patch, ['conditions'], ['is_default']);
      if (Object.keys(values).length) await db.updateTable('routing_rules').set(values).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
      return repo.get(tenantId, id);
    },
    delete: async (tenantId: string, id: string) =>
      Number((await db.deleteFrom('routing_rules').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1,
    detachIntegration: async (tenantId: string, integrationId: string) => {
      await c.write(async (trx) => {
        await trx.deleteFrom('routing_rules').where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).execute();
        await trx.updateTable('routing_rules').set({ fallback_integration_id: null, updated_at: new Date().toISOString() })
          .where('tenant_id', '=', tenantId).where('fallback_integration_id', '=', integrationId).execute();
      });
    },
  };
  return repo;
}

export function deliveriesRepo(c: SqlConnection): Store['deliveries'] {
  const { db } = c;
  return {
    get: async (tenantId: string, id: string) => {
      const r = await db.selectFrom('deliveries').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return r ? toDelivery(r) : undefined;
    },
    list: async (tenantId: string, f: DeliveryFilter) => {
      let base = db.selectFrom('deliveries').where('tenant_id', '=', tenantId);
      for (const [col, v] of equalityFilters(f, ['integration_id', 'capability', 'status', 'operation_id'])) base = base.where(col as 'status', '=', v as string);
      return c.page(base, f, [['created_at', 'desc'], ['id', 'desc']], toDelivery);
    },
  };
}
