// SQL repositories: Webhook subscriptions and inbound events (outbound deliveries: webhook-deliveries.ts).
import { sql } from 'kysely';
import type { Store, InboundEventRow, InboundRejectionCount, ListQuery, WebhookSubscriptionRow } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import { changed, type SqlConnection } from './connection.ts';
import { json, toSubscription, equalityFilters, patchValues } from './rows.ts';

export function webhookSubscriptionsRepo(c: SqlConnection): Store['webhookSubscriptions'] {
  const { db } = c;
  const repo: Store['webhookSubscriptions'] = {
    create: async (row: WebhookSubscriptionRow) => {
      await db.insertInto('webhook_subscriptions').values({ ...row, events: json(row.events), enabled: row.enabled ? 1 : 0 }).execute();
    },
    get: async (tenantId: string, id: string) => {
      const r = await db.selectFrom('webhook_subscriptions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      return r ? toSubscription(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery & { kind?: WebhookSubscriptionRow['kind'] }) => {
      let base = db.selectFrom('webhook_subscriptions').where('tenant_id', '=', tenantId).where('deleted_at', 'is', null);
      if (q.kind) base = base.where('kind', '=', q.kind);
      return c.page(base, q, [['created_at', 'asc'], ['id', 'asc']], toSubscription);
    },
    // Every published event (one per operation): constant SQL text; `enabled` a literal for the partial index convention.
    enabled: async (tenantId: string) =>
      (await c.raw<Record<string, unknown>>(db, 'SELECT * FROM webhook_subscriptions WHERE tenant_id = ? AND enabled = 1 AND deleted_at IS NULL', [tenantId])).rows.map(toSubscription),
    update: async (tenantId: string, id: string, patch: Partial<WebhookSubscriptionRow>) => {
      const values = patchValues(patch, ['events'], ['enabled']);
      if (Object.keys(values).length) {
        await db.updateTable('webhook_subscriptions').set(values).where('tenant_id', '=', tenantId).where('id', '=', id).where('deleted_at', 'is', null).execute();
      }
      return repo.get(tenantId, id);
    },
    disable: async (tenantId: string, id: string, reason: string) =>
      changed(await db.updateTable('webhook_subscriptions').set({ enabled: 0, disabled_reason: reason, updated_at: new Date().toISOString() })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('enabled', '=', sql.lit(1)).executeTakeFirst()) === 1,
  };
  return repo;
}

// Every column of InboundEventRow, checked by the compiler (a Record of all its keys).
const INBOUND_COLUMN_SET: Record<keyof InboundEventRow, true> = {
  id: true, tenant_id: true, integration_id: true, provider: true, provider_event_id: true, provider_event_type: true, status: true, reason: true,
  content_type: true, body: true, normalized_event_id: true, next_attempt_at: true, locked_until: true, attempts: true, received_at: true, processed_at: true,
};
const INBOUND_COLUMNS = Object.keys(INBOUND_COLUMN_SET) as Array<keyof InboundEventRow>;
const INSERT_INBOUND = `INSERT INTO inbound_events (${INBOUND_COLUMNS.join(', ')}) VALUES (${INBOUND_COLUMNS.map(() => '?').join(', ')})`;

export function inboundEventsRepo(c: SqlConnection): Store['inboundEvents'] {
  const { db } = c;
  const repo: Store['inboundEvents'] = {
    create: async (row: InboundEventRow) => {
      try {
        // One row per accepted inbound webhook: constant SQL text (no builder compile per request).
        await c.raw(db, INSERT_INBOUND, INBOUND_COLUMNS.map((k) => row[k]));
      } catch (err) {
        if (c.isUnique(err)) throw new UniqueViolation('inbound event already received');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) =>
      (await db.selectFrom('inbound_events').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) as InboundEventRow | undefined,
    list: async (tenantId: string, f: ListQuery & { status?: string; integration_id?: string }) => {
      let base = db.selectFrom('inbound_events').where('tenant_id', '=', tenantId);
      for (const [col, v] of equalityFilters(f, ['status', 'integration_id'])) base = base.where(col as 'status', '=', v as string);
      return c.page(base, f, [['received_at', 'desc'], ['id', 'desc']], (r) => r as InboundEventRow);
    },
    claimDue: async (now: number, leaseMs: number, limit: number) =>
      c.write(async (trx) => {
        const rows = (await c.skipLocked(trx.selectFrom('inbound_events').selectAll()
          .where('status', '=', sql.lit('received')).where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
          .orderBy('next_attempt_at').limit(limit)).execute()) as InboundEventRow[];
        if (rows.length) await trx.updateTable('inbound_events').set({ locked_until: now + leaseMs }).where('id', 'in', rows.map((r) => r.id)).execute();
        return rows.map((r) => ({ ...r, locked_until: now + leaseMs }));
      }),
    finish: async (tenantId: string, id: string, p: Pick<InboundEventRow, 'status' | 'reason' | 'normalized_event_id' | 'processed_at' | 'next_attempt_at' | 'attempts' | 'provider_event_type'>) => {
      await db.updateTable('inbound_events')
        .set({ status: p.status, reason: p.reason, normalized_event_id: p.normalized_event_id, processed_at: p.processed_at, next_attempt_at: p.next_attempt_at, attempts: p.attempts, provider_event_type: p.provider_event_type, locked_until: null })
        .where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    },
    requeue: async (tenantId: string, id: string, now: number) =>
      changed(await db.updateTable('inbound_events').set({ status: 'received', next_attempt_at: now, locked_until: null, attempts: 0 })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '!=', sql.lit('rejected'))
        .where((eb) => eb.not(eb.and([eb('status', '=', sql.lit('received')), eb('locked_until', 'is not', null), eb('locked_until', '>', now)])))
        .executeTakeFirst()) === 1,
    addRejections: async (counts: InboundRejectionCount[], samples: InboundEventRow[], keep: number) => {
      await c.write(async (trx) => {
        for (const r of counts) {
          await trx.insertInto('inbound_rejections').values(r)
            .onConflict((oc) => oc.columns(['tenant_id', 'integration_id', 'code']).doUpdateSet((eb) => ({
              count: eb('inbound_rejections.count', '+', eb.ref('excluded.count')),
              last_at: eb.ref('excluded.last_at'),
              last_reason: eb.ref('excluded.last_reason'),
            })))
            .execute();
        }
        for (const r of samples) await trx.insertInto('inbound_events').values({ ...r, body: '' }).execute();
        // Keep only the newest `keep` rejected samples of each integration that got new ones.
        const integrations = new Map(samples.map((r) => [r.integration_id, r.tenant_id]));
        for (const [integrationId, tenantId] of integrations) {
          await trx.deleteFrom('inbound_events')
            .where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('status', '=', sql.lit('rejected'))
            .where('id', 'not in', (eb) => eb.selectFrom('inbound_events').select('id')
              .where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('status', '=', sql.lit('rejected'))
              .orderBy('received_at', 'desc').orderBy('id', 'desc').limit(keep))
            .execute();
        }
      });
    },
    rejections: async (tenantId: string, f: ListQuery & { integration_id?: string }) => {
      let base = db.selectFrom('inbound_rejections').where('tenant_id', '=', tenantId);
      if (f.integration_id) base = base.where('integration_id', '=', f.integration_id);
      return c.page(base, f, [['last_at', 'desc'], ['integration_id', 'asc'], ['code', 'asc']], (r) => r as InboundRejectionCount);
    },
    countDue: async (now: number) =>
      Number((await db.selectFrom('inbound_events').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', sql.lit('received')).where('next_attempt_at', '<=', now).executeTakeFirstOrThrow()).n),
  };
  return repo;
}
