// SQL repository: Operations (recorded before their provider call, leased), their idempotency
// keys, and the lifecycle of their provider attempts (rows of `deliveries`).
import { sql, type ExpressionBuilder } from 'kysely';
import type { Store, OperationRow, DeliveryRow, AttemptResult } from '../types.ts';
import { UniqueViolation, UNKNOWN_ATTEMPT_ERROR } from '../types.ts';
import { changed, type Db, type SqlConnection } from './connection.ts';
import type { Tables } from './tables.ts';
import { json, toOperation } from './rows.ts';

const SETTLE_BATCH = 500;

type Scope = { tenantId: string; id?: string };

/** In-progress operations whose lease expired by `now` (all, one tenant's, or one). */
function expired(now: number, scope?: Scope) {
  return (eb: ExpressionBuilder<Tables, 'operations'>) => eb.and([
    eb('status', '=', sql.lit('in_progress')),
    eb('lease_expires_at', '<=', now),
    ...(scope ? [eb('tenant_id', '=', scope.tenantId)] : []),
    ...(scope?.id ? [eb('id', '=', scope.id)] : []),
  ]);
}

/** Attempts still in progress whose operation is not (settled, or gone): nothing will finish them. */
function strayAttempts(scope?: Scope) {
  return (eb: ExpressionBuilder<Tables, 'deliveries'>) => eb.and([
    eb('status', '=', sql.lit('in_progress')),
    ...(scope ? [eb('tenant_id', '=', scope.tenantId)] : []),
    ...(scope?.id ? [eb('operation_id', '=', scope.id)] : []),
    eb.not(eb.exists(eb.selectFrom('operations as o').select('o.id').whereRef('o.id', '=', 'deliveries.operation_id').where('o.status', '=', 'in_progress'))),
  ]);
}

export function operationsRepo(c: SqlConnection): Store['operations'] {
  const { db } = c;
  const unknownError = json(UNKNOWN_ATTEMPT_ERROR);
  const settleAttempts = (trx: Db, tenantId: string, operationIds: string[]) =>
    trx.updateTable('deliveries').set({ status: 'unknown', error: unknownError })
      .where('tenant_id', '=', tenantId).where('operation_id', 'in', operationIds).where('status', '=', sql.lit('in_progress'));
  const attemptUpdate = (tenantId: string, deliveryId: string, r: AttemptResult) =>
    db.updateTable('deliveries')
      .set({ status: r.status, provider_status_code: r.provider_status_code, duration_ms: Math.round(r.duration_ms), error: r.error ? json(r.error) : null, provider_request_id: r.provider_request_id })
      .where('tenant_id', '=', tenantId).where('id', '=', deliveryId);

  const settle = (now: number, scope?: Scope) =>
    c.write(async (trx) => {
      const due = await trx.selectFrom('operations').select('id').where(expired(now, scope)).limit(SETTLE_BATCH).execute();
      let settled = 0;
      if (due.length) {
        const done = await trx.updateTable('operations').set({ status: 'unknown', lease_expires_at: null, updated_at: new Date(now).toISOString() })
          // The expiry is checked again here, not only in the read above: on PostgreSQL (READ
          // COMMITTED) a renew or startAttempt may commit in between, and the UPDATE re-checks its
          // own conditions against the newest row version.
          .where('id', 'in', due.map((r) => r.id)).where(expired(now, scope))
          .returning(['id', 'tenant_id']).execute();
        const byTenant = new Map<string, string[]>();
        for (const op of done) byTenant.set(op.tenant_id, [...(byTenant.get(op.tenant_id) ?? []), op.id]);
        for (const [tenantId, ids] of byTenant) await settleAttempts(trx, tenantId, ids).execute();
        settled = done.length;
      }
      return settled + changed(await trx.updateTable('deliveries').set({ status: 'unknown', error: unknownError }).where(strayAttempts(scope)).executeTakeFirst());
    });

  const repo: Store['operations'] = {
    begin: async (row: OperationRow) => {
      try {
        await db.insertInto('operations').values({ ...row, response: row.response === null ? null : json(row.response) }).execute();
      } catch (err) {
        if (c.isUnique(err)) throw new UniqueViolation('idempotency key in use');
        throw err;
      }
    },
    findByKey: async (tenantId: string, key: string) => {
      const r = await db.selectFrom('operations').selectAll().where('tenant_id', '=', tenantId).where('idempotency_key', '=', key).executeTakeFirst();
      return r ? toOperation(r) : undefined;
    },
    renew: async (tenantId: string, id: string, leaseExpiresAt: number) =>
      changed(await db.updateTable('operations').set({ lease_expires_at: leaseExpiresAt })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', sql.lit('in_progress')).executeTakeFirst()) > 0,
    startAttempt: async (row: DeliveryRow, leaseExpiresAt: number, now: number) =>
      c.write(async (trx) => {
        // The lease check and its extension are one statement: nothing can settle the operation between them.
        const held = changed(await trx.updateTable('operations').set({ lease_expires_at: leaseExpiresAt })
          .where('tenant_id', '=', row.tenant_id).where('id', '=', row.operation_id).where('status', '=', sql.lit('in_progress')).where('lease_expires_at', '>', now)
          .executeTakeFirst()) > 0;
        if (!held) return false;
        await trx.insertInto('deliveries').values({ ...row, duration_ms: Math.round(row.duration_ms), error: row.error ? json(row.error) : null }).execute();
        return true;
      }),
    finishAttempt: async (tenantId: string, deliveryId: string, r: AttemptResult) => {
      await attemptUpdate(tenantId, deliveryId, r).execute();
    },
    finish: async (tenantId: string, id: string, status: Exclude<OperationRow['status'], 'in_progress'>, result: unknown, lastAttempt?: { deliveryId: string; result: AttemptResult }) => {
      // Only from in_progress: once settled as unknown a client may have been told so; it stays.
      const settled = db.updateTable('operations')
        .set({ status, response: result === null || result === undefined ? null : json(result), lease_expires_at: null, updated_at: new Date().toISOString() })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', sql.lit('in_progress'));
      const statements = [
        ...(lastAttempt ? [attemptUpdate(tenantId, lastAttempt.deliveryId, lastAttempt.result)] : []),
        settled,
        ...(status === 'unknown' ? [settleAttempts(db, tenantId, [id])] : []),
      ];
      const changes = await c.writeAll(statements);
      return changes[lastAttempt ? 1 : 0]! > 0;
    },
    remove: async (tenantId: string, id: string) => {
      await db.deleteFrom('operations').where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', sql.lit('in_progress')).execute();
    },
    settleExpired: async (now: number, scope?: Scope) => {
      // A read first: most calls find nothing, and a plain SELECT takes no write lock.
      const op = await db.selectFrom('operations').select('id').where(expired(now, scope)).limit(1).executeTakeFirst();
      const stray = op ? undefined : await db.selectFrom('deliveries').select('id').where(strayAttempts(scope)).limit(1).executeTakeFirst();
      if (!op && !stray) return 0;
      return settle(now, scope);
    },
  };
  return repo;
}
