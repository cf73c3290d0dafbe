// SQL repository: outbound webhook deliveries, the leased outbox. A delivery is in flight while it is
// pending with an unexpired lease (locked_until > now); per-endpoint concurrency is counted from
// those rows, so it holds across every worker process on the database.
import { sql } from 'kysely';
import type { Store, EventRow, ListQuery, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow, ClaimedDelivery, ClaimQuery, AttemptBatch } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import { changed, marks, type Db, type SqlConnection } from './connection.ts';
import { equalityFilters, toSubscription } from './rows.ts';
import { outboxInsertsCompiled, chunks, insertText } from './outbox.ts';

/** Rows per multi-row INSERT (well under SQLite's bound-parameter limit). */
const INSERT_CHUNK = 100;

type Due = Pick<WebhookDeliveryRow, 'id' | 'subscription_id' | 'next_attempt_at'>;

// An attempt's delivery update, fenced by the lease (constant text: no builder compile per attempt).
const RECORD_SET = 'UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, locked_until = NULL, last_status_code = ?, last_error = ?, delivered_at = COALESCE(?, delivered_at), updated_at = ? WHERE tenant_id = ? AND id = ? AND locked_until';
const RECORD_LEASED = `${RECORD_SET} = ?`;
const RECORD_UNLEASED = `${RECORD_SET} IS NULL`;
// Pending, due at the first parameter and not leased at the second (`status` a literal: DESIGN's partial-index convention).
const DUE = "status = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)";
const IN_FLIGHT = "SELECT subscription_id, count(*) AS n FROM webhook_deliveries WHERE status = 'pending' AND locked_until > ?";
const SKIP_LOCKED = ' FOR UPDATE SKIP LOCKED';
const ATTEMPT_COLUMN_SET: Record<keyof WebhookAttemptRow, true> = { id: true, tenant_id: true, delivery_id: true, attempt: true, status_code: true, response_excerpt: true, duration_ms: true, error: true, created_at: true };
const ATTEMPT_COLUMNS = Object.keys(ATTEMPT_COLUMN_SET) as Array<keyof WebhookAttemptRow>;

export function webhookDeliveriesRepo(c: SqlConnection): Store['webhookDeliveries'] {
  const { db } = c;

  // The claim's statements are constant SQL per shape (no builder compile per claim; it cost more
  // than the statements). `?` placeholders; c.raw numbers them for PostgreSQL.
  const run = async <R>(trx: Db, text: string, params: readonly unknown[]) => (await c.raw<R>(trx, text, params)).rows;

  /** Due, unleased pending deliveries at `now`, oldest due first (of some subscriptions only, or not of some). */
  const due = (now: number, scan: number, only?: string[], except: string[] = []) => ({
    text: `SELECT id, subscription_id, next_attempt_at FROM webhook_deliveries WHERE ${DUE}${only ? ` AND subscription_id IN (${marks(only.length)})` : ''}${except.length ? ` AND subscription_id NOT IN (${marks(except.length)})` : ''} ORDER BY next_attempt_at LIMIT ?`,
    params: [now, now, ...(only ?? []), ...except, scan],
  });

  /** Deliveries in flight (pending, lease unexpired at `now`) per subscription (of some subscriptions only). */
  const inFlight = async (trx: Db, now: number, only?: string[]) => {
    const rows = await run<{ subscription_id: string; n: number | string }>(trx, `${IN_FLIGHT}${only ? ` AND subscription_id IN (${marks(only.length)})` : ''} GROUP BY subscription_id`, only ? [now, ...only] : [now]);
    return new Map(rows.map((r) => [r.subscription_id, Number(r.n)]));
  };

  /** Leases due deliveries inside `trx` (see Store.claimDue). */
  const claimIn = async (trx: Db, { now, leaseMs, limit, perSubscription }: ClaimQuery): Promise<ClaimedDelivery[]> => {
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
    const head = due(now, scan, undefined, full);
    const scanned = await run<Due>(trx, `SELECT id, subscription_id, next_attempt_at FROM (SELECT d.id, d.subscription_id, d.next_attempt_at, row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.next_attempt_at) AS rank FROM (${head.text}) AS d) AS r WHERE rank <= ? ORDER BY next_attempt_at`, [...head.params, perSubscription]);
    if (!scanned.length) return [];
    const wanted = [...new Set(scanned.map((r) => r.subscription_id))];
    // The whole rows: the dispatcher signs and sends with them (no lookup per delivery).
    const heldRows = await run<Record<string, unknown>>(trx, `SELECT * FROM webhook_subscriptions WHERE id IN (${marks(wanted.length)})${c.postgres ? SKIP_LOCKED : ''}`, wanted);
    const held = heldRows.map((r) => r['id'] as string);
    // Deliveries of a subscription row that no longer exists are leased too (the dispatcher
    // cancels them), so they never sit pending at the head of the queue.
    // (On SQLite nothing is skipped, so what was not found does not exist.)
    const existing = c.postgres ? new Set((await run<{ id: string }>(trx, `SELECT id FROM webhook_subscriptions WHERE id IN (${marks(wanted.length)})`, wanted)).map((r) => r.id)) : new Set(held);
    const locked = [...held, ...wanted.filter((id) => !existing.has(id))];
    if (!locked.length) return [];
    // PostgreSQL counts again under the subscription locks (another claimer may have leased since).
    const counts = c.postgres ? await inFlight(trx, now, locked) : before;
    const free = new Map<string, number>(locked.map((id) => [id, perSubscription - (counts.get(id) ?? 0)]));
    const open = locked.filter((id) => free.get(id)! > 0);
    if (!open.length) return [];
    // PostgreSQL reads the candidates again under their row locks; under SQLite's write lock the scan is current.
    const again = c.postgres ? due(now, scan, open) : undefined;
    const candidates = again ? await run<Due>(trx, again.text + SKIP_LOCKED, again.params) : scanned;
    const picked: string[] = [];
    for (const r of candidates) {
      if (picked.length >= limit) break;
      const room = free.get(r.subscription_id) ?? 0;
      if (room <= 0) continue;
      free.set(r.subscription_id, room - 1);
      picked.push(r.id);
    }
    if (!picked.length) return [];
    // SQLite: an UPDATE and a SELECT of the same rows (its UPDATE ... RETURNING of an IN list
    // cost about ten times as much after the claim's scan).
    const lease = `UPDATE webhook_deliveries SET locked_until = ? WHERE id IN (${marks(picked.length)})`;
    const leased = c.postgres
      ? await run<WebhookDeliveryRow>(trx, `${lease} RETURNING *`, [now + leaseMs, ...picked])
      : (await c.raw(trx, lease, [now + leaseMs, ...picked]), await run<WebhookDeliveryRow>(trx, `SELECT * FROM webhook_deliveries WHERE id IN (${marks(picked.length)})`, picked));
    const subs = new Map<string, WebhookSubscriptionRow>();
    for (const r of heldRows) if (r['deleted_at'] === null) subs.set(r['id'] as string, toSubscription(r));
    return leased
      .sort((a, b) => (a.next_attempt_at ?? 0) - (b.next_attempt_at ?? 0))
      .map((d): ClaimedDelivery => {
        const sub = subs.get(d.subscription_id);
        // Another tenant's subscription is never a delivery's (ids are unique; checked anyway).
        return { ...d, subscription: sub && sub.tenant_id === d.tenant_id ? sub : null };
      });
  };

  /** Records attempts inside `trx`, each fenced by its lease (see Store.recordAttempts). */
  const recordIn = async (trx: Db, batch: AttemptBatch): Promise<boolean[]> => {
    // Fenced by the lease: a worker whose lease expired (and was maybe taken by another) records nothing.
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
    for (const part of chunks(attempts, INSERT_CHUNK)) await c.raw(trx, insertText('webhook_attempts', ATTEMPT_COLUMNS, part.length), part.flatMap((r) => ATTEMPT_COLUMNS.map((col) => r[col])));
    return done;
  };

  const repo: Store['webhookDeliveries'] = {
    createWithEvent: async (event: EventRow, deliveries: WebhookDeliveryRow[]) => repo.createWithEvents([{ event, deliveries }]),
    createWithEvents: async (items) => {
      if (!items.length) return;
      try {
        await c.writeAll(outboxInsertsCompiled(c, items));
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
    claimDue: async (q) =>
      // SQLite: BEGIN IMMEDIATE admits one claimer at a time. PostgreSQL: each claimer locks the
      // subscriptions it counts (SKIP LOCKED: one held by another claimer waits for the next round),
      // so two claimers never count and lease for one endpoint at once.
      c.write((trx) => claimIn(trx, q)),
    recordAttempt: async (a, u, lease) => (await repo.recordAttempts([{ attempt: a, update: u, lease }]))[0]!,
    recordAttempts: async (batch) => (batch.length === 0 ? [] : c.write((trx) => recordIn(trx, batch))),
    recordAttemptsAndClaim: async (batch, q) =>
      // One commit for a finished batch and the deliveries that take its places (the claim sees
      // the recorded rows' leases released).
      c.write(async (trx) => {
        const recorded = batch.length ? await recordIn(trx, batch) : [];
        return { recorded, claimed: q.limit > 0 ? await claimIn(trx, q) : [] };
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
