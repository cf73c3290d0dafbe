// SQL repository: outbound webhook deliveries, the leased outbox. A delivery is in flight while it is
// pending with an unexpired lease (locked_until > now); per-endpoint concurrency is counted from
// those rows, so it holds across every worker process on the database.
import { sql } from 'kysely';
import type { Store, EventRow, ListQuery, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow, ClaimedDelivery } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import { changed, type Db, type SqlConnection } from './connection.ts';
import { equalityFilters, toSubscription } from './rows.ts';
import { outboxInsertsCompiled, chunks } from './outbox.ts';

/** Rows per multi-row INSERT (well under SQLite's bound-parameter limit). */
const INSERT_CHUNK = 100;

type Due = Pick<WebhookDeliveryRow, 'id' | 'subscription_id' | 'next_attempt_at'>;

// An attempt's delivery update, fenced by the lease (constant text: no builder compile per attempt).
const RECORD_SET = 'UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, locked_until = NULL, last_status_code = ?, last_error = ?, delivered_at = COALESCE(?, delivered_at), updated_at = ? WHERE tenant_id = ? AND id = ? AND locked_until';
const RECORD_LEASED = `${RECORD_SET} = ?`;
const RECORD_UNLEASED = `${RECORD_SET} IS NULL`;

export function webhookDeliveriesRepo(c: SqlConnection): Store['webhookDeliveries'] {
  const { db } = c;

  /** Due, unleased pending deliveries at `now`, oldest due first (of some subscriptions only, or not of some). */
  const due = (trx: Db, now: number, scan: number, only?: string[], except: string[] = []) => {
    let qb = trx.selectFrom('webhook_deliveries').select(['id', 'subscription_id', 'next_attempt_at'])
      .where('status', '=', sql.lit('pending')).where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]));
    if (only) qb = qb.where('subscription_id', 'in', only);
    if (except.length) qb = qb.where('subscription_id', 'not in', except);
    return qb.orderBy('next_attempt_at').limit(scan);
  };

  /** Deliveries in flight (pending, lease unexpired at `now`) per subscription (of some subscriptions only). */
  const inFlight = async (trx: Db, now: number, only?: string[]) => {
    let qb = trx.selectFrom('webhook_deliveries').select(['subscription_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', sql.lit('pending')).where('locked_until', '>', now);
    if (only) qb = qb.where('subscription_id', 'in', only);
    return new Map((await qb.groupBy('subscription_id').execute()).map((r) => [r.subscription_id, Number(r.n)]));
  };

  const repo: Store['webhookDeliveries'] = {
    createWithEvent: async (event: EventRow, deliveries: WebhookDeliveryRow[]) => repo.createWithEvents([{ event, deliveries }]),
    createWithEvents: async (items) => {
      if (!items.length) return;
      try {
        await c.writeAll(outboxInsertsCompiled(items, c.postgres));
      } catch (err) {
        if (c.isUnique(err)) throw new UniqueViolation('event already stored');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) =>
      (await db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) as WebhookDeliveryRow | undefined,
    list: async (tenantId: string, f: ListQuery & { status?: string; subscription_id?: string; event_type?: string }) => {
      let base = db.selectFrom('webhook_deliveries').where('tenant_id', '=', tenantId);
      for (const [col, v] of equalityFilters(f, ['status', 'subscription_id', 'event_type'])) base = base.where(col as 'status', '=', v as string);
      return c.page(base, f, [['created_at', 'desc'], ['id', 'desc']], (r) => r as WebhookDeliveryRow);
    },
    claimDue: async ({ now, leaseMs, limit, perSubscription }) =>
      // SQLite: BEGIN IMMEDIATE admits one claimer at a time. PostgreSQL: each claimer locks the
      // subscriptions it counts (SKIP LOCKED: one held by another claimer waits for the next round),
      // so two claimers never count and lease for one endpoint at once.
      c.write(async (trx) => {
        // The scan reads what one claim can fill, and at least four endpoints' worth past the head
        // of the queue (it is ranked per endpoint below, which costs per row scanned: a scan of
        // 4 × limit rows cost more than the rest of the claim together).
        const scan = Math.min(Math.max(limit, perSubscription * 4), 256);
        // Endpoints already at their limit are left out of the scan, so a backlog for one slow
        // receiver never hides the others.
        const before = await inFlight(trx, now);
        const full = [...before].filter(([, n]) => n >= perSubscription).map(([id]) => id).slice(0, 500);
        // At most perSubscription rows of one endpoint come back (ranked inside the database), so a
        // backlog for one endpoint costs a few rows, not the whole scan, on every claim.
        const ranked = trx.selectFrom(due(trx, now, scan, undefined, full).as('d'))
          .select(['d.id', 'd.subscription_id', 'd.next_attempt_at', sql<number>`row_number() over (partition by ${sql.ref('d.subscription_id')} order by ${sql.ref('d.next_attempt_at')})`.as('rank')]);
        const scanned: Due[] = await trx.selectFrom(ranked.as('r')).select(['r.id', 'r.subscription_id', 'r.next_attempt_at'])
          .where('r.rank', '<=', perSubscription).orderBy('r.next_attempt_at').execute();
        if (!scanned.length) return [];
        const wanted = [...new Set(scanned.map((r) => r.subscription_id))];
        // The whole rows: the dispatcher signs and sends with them (no lookup per delivery).
        const heldRows = await c.skipLocked(trx.selectFrom('webhook_subscriptions').selectAll().where('id', 'in', wanted)).execute();
        const held = heldRows.map((r) => r.id);
        // Deliveries of a subscription row that no longer exists are leased too (the dispatcher
        // cancels them), so they never sit pending at the head of the queue.
        // (On SQLite nothing is skipped, so what was not found does not exist.)
        const existing = c.postgres ? new Set((await trx.selectFrom('webhook_subscriptions').select('id').where('id', 'in', wanted).execute()).map((r) => r.id)) : new Set(held);
        const locked = [...held, ...wanted.filter((id) => !existing.has(id))];
        if (!locked.length) return [];
        // PostgreSQL counts again under the subscription locks (another claimer may have leased since).
        const counts = c.postgres ? await inFlight(trx, now, locked) : before;
        const free = new Map<string, number>(locked.map((id) => [id, perSubscription - (counts.get(id) ?? 0)]));
        const open = locked.filter((id) => free.get(id)! > 0);
        if (!open.length) return [];
        // PostgreSQL reads the candidates again under their row locks; under SQLite's write lock the scan is current.
        const candidates: Due[] = c.postgres ? await c.skipLocked(due(trx, now, scan, open)).execute() : scanned;
        const picked: string[] = [];
        for (const r of candidates) {
          if (picked.length >= limit) break;
          const room = free.get(r.subscription_id) ?? 0;
          if (room <= 0) continue;
          free.set(r.subscription_id, room - 1);
          picked.push(r.id);
        }
        if (!picked.length) return [];
        const leased = (await trx.updateTable('webhook_deliveries').set({ locked_until: now + leaseMs }).where('id', 'in', picked).returningAll().execute()) as WebhookDeliveryRow[];
        const subs = new Map<string, WebhookSubscriptionRow>();
        for (const r of heldRows) if (r.deleted_at === null) subs.set(r.id, toSubscription(r));
        return leased
          .sort((a, b) => (a.next_attempt_at ?? 0) - (b.next_attempt_at ?? 0))
          .map((d): ClaimedDelivery => {
            const sub = subs.get(d.subscription_id);
            // Another tenant's subscription is never a delivery's (ids are unique; checked anyway).
            return { ...d, subscription: sub && sub.tenant_id === d.tenant_id ? sub : null };
          });
      }),
    recordAttempt: async (a, u, lease) => (await repo.recordAttempts([{ attempt: a, update: u, lease }]))[0]!,
    recordAttempts: async (batch) =>
      // Fenced by the lease: a worker whose lease expired (and was maybe taken by another) records nothing.
      batch.length === 0 ? [] : c.write(async (trx) => {
        const done: boolean[] = [];
        const attempts: WebhookAttemptRow[] = [];
        const at = new Date().toISOString();
        for (const { attempt: a, update: u, lease } of batch) {
          const params = [u.status, u.attempts, u.next_attempt_at, u.last_status_code, u.last_error, u.delivered_at, at, a.tenant_id, a.delivery_id];
          const updated = await c.raw(trx, lease === null ? RECORD_UNLEASED : RECORD_LEASED, lease === null ? params : [...params, lease]);
          const ok = Number(updated.numAffectedRows ?? 0n) === 1;
          done.push(ok);
          // duration_ms is an INTEGER column (PostgreSQL refuses a fraction; timers measure them).
          if (ok) attempts.push({ ...a, duration_ms: Math.round(a.duration_ms) });
        }
        for (const part of chunks(attempts, INSERT_CHUNK)) await trx.insertInto('webhook_attempts').values(part).execute();
        return done;
      }),
    attempts: async (tenantId: string, deliveryId: string) =>
      (await db.selectFrom('webhook_attempts').selectAll().where('tenant_id', '=', tenantId).where('delivery_id', '=', deliveryId).orderBy('attempt').execute()) as WebhookAttemptRow[],
    requeue: async (tenantId: string, ids: string[], now: number) => {
      if (!ids.length) return 0;
      return c.write(async (trx) => {
        let n = 0;
        for (const part of chunks(ids, 500)) {
          n += changed(await trx.updateTable('webhook_deliveries')
            .set({ status: 'pending', next_attempt_at: now, locked_until: null, attempts: 0, updated_at: new Date(now).toISOString() })
            .where('tenant_id', '=', tenantId).where('id', 'in', part)
            .where((eb) => eb.not(eb.and([eb('status', '=', sql.lit('pending')), eb('locked_until', 'is not', null), eb('locked_until', '>', now)])))
            .executeTakeFirst());
        }
        return n;
      });
    },
    idsForSubscription: async (tenantId: string, subscriptionId: string, since: string) =>
      (await db.selectFrom('webhook_deliveries').select('id').where('tenant_id', '=', tenantId).where('subscription_id', '=', subscriptionId).where('created_at', '>=', since).orderBy('created_at').execute()).map((r) => r.id),
    cancelPending: async (tenantId: string, subscriptionId: string) =>
      changed(await db.updateTable('webhook_deliveries').set({ status: 'cancelled', next_attempt_at: null, updated_at: new Date().toISOString() })
        .where('tenant_id', '=', tenantId).where('subscription_id', '=', subscriptionId).where('status', '=', sql.lit('pending')).executeTakeFirst()),
    countDue: async (now: number) =>
      Number((await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', sql.lit('pending')).where('next_attempt_at', '<=', now).executeTakeFirstOrThrow()).n),
  };
  return repo;
}
