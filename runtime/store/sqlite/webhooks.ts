// SQLite repositories: Webhook subscriptions, outbound deliveries (the leased outbox) and inbound events.
import type { Store, EventRow, InboundEventRow, InboundRejectionCount, ListQuery, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import type { SqliteConnection } from './connection.ts';
import { json, isUnique, toSubscription, equalityFilters, setClause, type Row } from './rows.ts';

export function webhookSubscriptionsRepo(c: SqliteConnection): Store['webhookSubscriptions'] {
  const repo: Store['webhookSubscriptions'] = {
    create: async (row: WebhookSubscriptionRow) => {
      c.sql(`INSERT INTO webhook_subscriptions (id, tenant_id, kind, url, events, description, enabled, secret_sealed, data_key_wrapped, master_key_id, previous_secret_expires_at, failing_since, disabled_reason, created_at, updated_at, deleted_at)
        VALUES (@id, @tenant_id, @kind, @url, @events, @description, @enabled, @secret_sealed, @data_key_wrapped, @master_key_id, @previous_secret_expires_at, @failing_since, @disabled_reason, @created_at, @updated_at, @deleted_at)`).run({ ...row, events: json(row.events), enabled: row.enabled ? 1 : 0 });
    },
    get: async (tenantId: string, id: string) => {
      const r = c.sql('SELECT * FROM webhook_subscriptions WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toSubscription(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery & { kind?: WebhookSubscriptionRow['kind'] }) =>
      c.page(`FROM webhook_subscriptions WHERE tenant_id = @tenantId AND deleted_at IS NULL${q.kind ? ' AND kind = @kind' : ''}`, { tenantId, ...(q.kind ? { kind: q.kind } : {}) }, q, 'created_at, id', toSubscription),
    enabled: async (tenantId: string) =>
      (c.sql('SELECT * FROM webhook_subscriptions WHERE tenant_id = ? AND enabled = 1 AND deleted_at IS NULL').all(tenantId) as Row[]).map(toSubscription),
    update: async (tenantId: string, id: string, patch: Partial<WebhookSubscriptionRow>) => {
      const { sql, params } = setClause(patch as Row, ['events'], ['enabled']);
      if (sql) c.sql(`UPDATE webhook_subscriptions SET ${sql} WHERE tenant_id = @__tenant AND id = @__id AND deleted_at IS NULL`).run({ ...params, __tenant: tenantId, __id: id });
      return repo.get(tenantId, id);
    },
    disable: async (tenantId: string, id: string, reason: string) =>
      c.sql('UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND enabled = 1').run(reason, new Date().toISOString(), tenantId, id).changes === 1,
  };
  return repo;
}

export function webhookDeliveriesRepo(c: SqliteConnection): Store['webhookDeliveries'] {
  const repo: Store['webhookDeliveries'] = {
    createWithEvent: async (event: EventRow, deliveries: WebhookDeliveryRow[]) => {
      const ev = c.sql(`INSERT INTO events (id, tenant_id, type, schema_version, occurred_at, data, source, created_at)
        VALUES (@id, @tenant_id, @type, @schema_version, @occurred_at, @data, @source, @created_at)`);
      const d = c.sql(`INSERT INTO webhook_deliveries (id, tenant_id, event_id, event_type, subscription_id, body, status, attempts, next_attempt_at, locked_until, last_status_code, last_error, created_at, updated_at, delivered_at)
        VALUES (@id, @tenant_id, @event_id, @event_type, @subscription_id, @body, @status, @attempts, @next_attempt_at, @locked_until, @last_status_code, @last_error, @created_at, @updated_at, @delivered_at)`);
      try {
        c.db.transaction(() => {
          ev.run({ ...event, data: json(event.data) });
          for (const row of deliveries) d.run(row);
        }).immediate();
      } catch (err) {
        if (isUnique(err) || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new UniqueViolation('event already stored');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => c.sql('SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND id = ?').get(tenantId, id) as WebhookDeliveryRow | undefined,
    list: async (tenantId: string, f: ListQuery & { status?: string; subscription_id?: string; event_type?: string }) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['status', 'subscription_id', 'event_type']);
      return c.page(`FROM webhook_deliveries WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', (r) => r as unknown as WebhookDeliveryRow);
    },
    claimDue: async ({ now, leaseMs, limit, perSubscription, inFlight }) => {
      // One IMMEDIATE transaction: two workers on the same file never lease the same delivery.
      // Busy endpoints are excluded in SQL, so a backlog for one slow receiver never hides the others.
      const free = (subscriptionId: string) => perSubscription - (inFlight[subscriptionId] ?? 0);
      const excluded = Object.keys(inFlight).filter((id) => free(id) <= 0).slice(0, 500);
      const notIn = excluded.length ? `AND subscription_id NOT IN (${excluded.map((_, i) => `@s${i}`).join(', ')})` : '';
      return c.db.transaction(() => {
        const rows = c.db.prepare(`SELECT id, subscription_id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now) ${notIn}
          ORDER BY next_attempt_at LIMIT @scan`).all({ now, scan: Math.min(limit * 4, 256), ...Object.fromEntries(excluded.map((id, i) => [`s${i}`, id])) }) as Array<Pick<WebhookDeliveryRow, 'id' | 'subscription_id'>>;
        const taken = new Map<string, number>();
        const picked: Array<Pick<WebhookDeliveryRow, 'id' | 'subscription_id'>> = [];
        for (const r of rows) {
          if (picked.length >= limit) break;
          const n = taken.get(r.subscription_id) ?? 0;
          if (n >= free(r.subscription_id)) continue;
          taken.set(r.subscription_id, n + 1);
          picked.push(r);
        }
        const lock = c.sql('UPDATE webhook_deliveries SET locked_until = ? WHERE id = ?');
        const get = c.sql('SELECT * FROM webhook_deliveries WHERE id = ?');
        return picked.map((r) => {
          lock.run(now + leaseMs, r.id);
          return get.get(r.id) as WebhookDeliveryRow;
        });
      }).immediate();
    },
    recordAttempt: async (a: WebhookAttemptRow, u: Pick<WebhookDeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'delivered_at'>) => {
      const ins = c.sql(`INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempt, status_code, response_excerpt, duration_ms, error, created_at)
        VALUES (@id, @tenant_id, @delivery_id, @attempt, @status_code, @response_excerpt, @duration_ms, @error, @created_at)`);
      const upd = c.sql(`UPDATE webhook_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next_attempt_at, locked_until = NULL,
        last_status_code = @last_status_code, last_error = @last_error, delivered_at = COALESCE(@delivered_at, delivered_at), updated_at = @now WHERE tenant_id = @tenant_id AND id = @id`);
      c.db.transaction(() => {
        ins.run(a);
        upd.run({ ...u, now: new Date().toISOString(), tenant_id: a.tenant_id, id: a.delivery_id });
      }).immediate();
    },
    attempts: async (tenantId: string, deliveryId: string) => c.sql('SELECT * FROM webhook_attempts WHERE tenant_id = ? AND delivery_id = ? ORDER BY attempt').all(tenantId, deliveryId) as WebhookAttemptRow[],
    requeue: async (tenantId: string, ids: string[], now: number) => {
      const st = c.sql(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @now, locked_until = NULL, attempts = 0, updated_at = @iso
        WHERE tenant_id = @tenantId AND id = @id AND NOT (status = 'pending' AND locked_until IS NOT NULL AND locked_until > @now)`);
      return c.db.transaction(() => ids.reduce((n, id) => n + st.run({ now, iso: new Date(now).toISOString(), tenantId, id }).changes, 0)).immediate();
    },
    idsForSubscription: async (tenantId: string, subscriptionId: string, since: string) =>
      (c.sql('SELECT id FROM webhook_deliveries WHERE tenant_id = ? AND subscription_id = ? AND created_at >= ? ORDER BY created_at').all(tenantId, subscriptionId, since) as Array<{ id: string }>).map((r) => r.id),
    cancelPending: async (tenantId: string, subscriptionId: string) =>
      c.sql(`UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE tenant_id = ? AND subscription_id = ? AND status = 'pending'`).run(new Date().toISOString(), tenantId, subscriptionId).changes,
    countDue: async (now: number) => (c.sql(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?`).get(now) as { n: number }).n,
  };
  return repo;
}

const insertInbound = (c: SqliteConnection) =>
  c.sql(`INSERT INTO inbound_events (id, tenant_id, integration_id, provider, provider_event_id, provider_event_type, status, reason, content_type, body, normalized_event_id, next_attempt_at, locked_until, attempts, received_at, processed_at)
    VALUES (@id, @tenant_id, @integration_id, @provider, @provider_event_id, @provider_event_type, @status, @reason, @content_type, @body, @normalized_event_id, @next_attempt_at, @locked_until, @attempts, @received_at, @processed_at)`);

export function inboundEventsRepo(c: SqliteConnection): Store['inboundEvents'] {
  const repo: Store['inboundEvents'] = {
    create: async (row: InboundEventRow) => {
      try {
        insertInbound(c).run(row);
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('inbound event already received');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => c.sql('SELECT * FROM inbound_events WHERE tenant_id = ? AND id = ?').get(tenantId, id) as InboundEventRow | undefined,
    list: async (tenantId: string, f: ListQuery & { status?: string; integration_id?: string }) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['status', 'integration_id']);
      return c.page(`FROM inbound_events WHERE ${where.join(' AND ')}`, params, f, 'received_at DESC, id DESC', (r) => r as unknown as InboundEventRow);
    },
    claimDue: async (now: number, leaseMs: number, limit: number) =>
      c.db.transaction(() => {
        const rows = c.sql(`SELECT * FROM inbound_events WHERE status = 'received' AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now) ORDER BY next_attempt_at LIMIT @limit`).all({ now, limit }) as InboundEventRow[];
        const lock = c.sql('UPDATE inbound_events SET locked_until = ? WHERE id = ?');
        for (const r of rows) lock.run(now + leaseMs, r.id);
        return rows;
      }).immediate(),
    finish: async (tenantId: string, id: string, p: Pick<InboundEventRow, 'status' | 'reason' | 'normalized_event_id' | 'processed_at' | 'next_attempt_at' | 'attempts' | 'provider_event_type'>) => {
      c.sql(`UPDATE inbound_events SET status = @status, reason = @reason, normalized_event_id = @normalized_event_id, processed_at = @processed_at, next_attempt_at = @next_attempt_at, attempts = @attempts, provider_event_type = @provider_event_type, locked_until = NULL WHERE tenant_id = @tenantId AND id = @id`).run({ ...p, tenantId, id });
    },
    requeue: async (tenantId: string, id: string, now: number) =>
      c.sql(`UPDATE inbound_events SET status = 'received', next_attempt_at = ?, locked_until = NULL, attempts = 0 WHERE tenant_id = ? AND id = ? AND status != 'rejected'
        AND NOT (status = 'received' AND locked_until IS NOT NULL AND locked_until > ?)`).run(now, tenantId, id, now).changes === 1,
    addRejections: async (counts: InboundRejectionCount[], samples: InboundEventRow[], keep: number) => {
      const upsert = c.sql(`INSERT INTO inbound_rejections (tenant_id, integration_id, provider, code, count, first_at, last_at, last_reason)
        VALUES (@tenant_id, @integration_id, @provider, @code, @count, @first_at, @last_at, @last_reason)
        ON CONFLICT (tenant_id, integration_id, code) DO UPDATE SET count = count + excluded.count, last_at = excluded.last_at, last_reason = excluded.last_reason`);
      const trim = c.sql(`DELETE FROM inbound_events WHERE integration_id = @integration_id AND status = 'rejected' AND id NOT IN
        (SELECT id FROM inbound_events WHERE integration_id = @integration_id AND status = 'rejected' ORDER BY received_at DESC, id DESC LIMIT @keep)`);
      c.db.transaction(() => {
        for (const r of counts) upsert.run(r);
        for (const r of samples) insertInbound(c).run({ ...r, body: '' });
        for (const integration_id of new Set(samples.map((r) => r.integration_id))) trim.run({ integration_id, keep });
      }).immediate();
    },
    rejections: async (tenantId: string, f: ListQuery & { integration_id?: string }) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['integration_id']);
      return c.page(`FROM inbound_rejections WHERE ${where.join(' AND ')}`, params, f, 'last_at DESC, integration_id, code', (r) => r as unknown as InboundRejectionCount);
    },
    countDue: async (now: number) => (c.sql(`SELECT COUNT(*) AS n FROM inbound_events WHERE status = 'received' AND next_attempt_at <= ?`).get(now) as { n: number }).n,
  };
  return repo;
}
