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

// Every operation writes these rows: constant SQL text (no builder compile per request). The column
// sets are Records of all keys, so a column added to the row type fails to compile here.
const OPERATION_COLUMN_SET: Record<keyof OperationRow, true> = {
  id: true, tenant_id: true, capability: true, idempotency_key: true, request_hash: true, status: true, http_status: true, response: true, lease_expires_at: true, created_at: true, updated_at: true,
};
const OPERATION_COLUMNS = Object.keys(OPERATION_COLUMN_SET) as Array<keyof OperationRow>;
const INSERT_OPERATION = `INSERT INTO operations (${OPERATION_COLUMNS.join(', ')}) VALUES (${OPERATION_COLUMNS.map(() => '?').join(', ')})`;
const ATTEMPT_COLUMN_SET: Record<keyof DeliveryRow, true> = {
  id: true, tenant_id: true, operation_id: true, capability: true, integration_id: true, provider: true, attempt: true, status: true, provider_status_code: true, duration_ms: true, error: true, request_id: true, provider_request_id: true, created_at: true,
};
const ATTEMPT_COLUMNS = Object.keys(ATTEMPT_COLUMN_SET) as Array<keyof DeliveryRow>;
const INSERT_ATTEMPT = `INSERT INTO deliveries (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${ATTEMPT_COLUMNS.map(() => '?').join(', ')})`;
const EXTEND_LEASE = "UPDATE operations SET lease_expires_at = ? WHERE tenant_id = ? AND id = ? AND status = 'in_progress' AND lease_expires_at > ?";
const FIND_BY_KEY = 'SELECT * FROM operations WHERE tenant_id = ? AND idempotency_key = ?';
const FINISH_ATTEMPT = 'UPDATE deliveries SET status = ?, provider_status_code = ?, duration_ms = ?, error = ?, provider_request_id = ? WHERE tenant_id = ? AND id = ?';
// Only from in_progress: once settled as unknown a client may have been told so; it stays.
const FINISH_OPERATION = "UPDATE operations SET status = ?, response = ?, lease_expires_at = NULL, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = 'in_progress'";

const operationValues = (row: OperationRow) => {
  const values: OperationRow = { ...row, response: row.response === null ? null : json(row.response) };
  return OPERATION_COLUMNS.map((k) => values[k]);
};
const attemptValues = (row: DeliveryRow) => {
  const values: DeliveryRow = { ...row, duration_ms: Math.round(row.duration_ms), error: row.error ? (json(row.error) as unknown as DeliveryRow['error']) : null };
  return ATTEMPT_COLUMNS.map((k) => values[k]);
};

export function operationsRepo(c: SqlConnection): Store['operations'] {
  const { db } = c;
  const unknownError = json(UNKNOWN_ATTEMPT_ERROR);
  const settleAttempts = (trx: Db, tenantId: string, operationIds: string[]) =>
    trx.updateTable('deliveries').set({ status: 'unknown', error: unknownError })
      .where('tenant_id', '=', tenantId).where('operation_id', 'in', operationIds).where('status', '=', sql.lit('in_progress'));
  const attemptUpdate = (tenantId: string, deliveryId: string, r: AttemptResult) =>
    c.statement(FINISH_ATTEMPT, [r.status, r.provider_status_code, Math.round(r.duration_ms), r.error ? json(r.error) : null, r.provider_request_id, tenantId, deliveryId]);

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
    begin: async (row: OperationRow, firstAttempt?: DeliveryRow) => {
      try {
        if (firstAttempt) await c.writeAll([c.statement(INSERT_OPERATION, operationValues(row)), c.statement(INSERT_ATTEMPT, attemptValues(firstAttempt))]);
        else await c.raw(db, INSERT_OPERATION, operationValues(row));
      } catch (err) {
        if (c.isUnique(err)) throw new UniqueViolation('idempotency key in use');
        throw err;
      }
    },
    findByKey: async (tenantId: string, key: string) => {
      const r = (await c.raw<Record<string, unknown>>(db, FIND_BY_KEY, [tenantId, key])).rows[0];
      return r ? toOperation(r) : undefined;
    },
    renew: async (tenantId: string, id: string, leaseExpiresAt: number) =>
      changed(await db.updateTable('operations').set({ lease_expires_at: leaseExpiresAt })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', sql.lit('in_progress')).executeTakeFirst()) > 0,
    startAttempt: async (row: DeliveryRow, leaseExpiresAt: number, now: number) =>
      c.write(async (trx) => {
        // The lease check and its extension are one statement: nothing can settle the operation between them.
        const held = Number((await c.raw(trx, EXTEND_LEASE, [leaseExpiresAt, row.tenant_id, row.operation_id, now])).numAffectedRows ?? 0n) > 0;
        if (!held) return false;
        await c.raw(trx, INSERT_ATTEMPT, attemptValues(row));
        return true;
      }),
    finishAttempt: async (tenantId: string, deliveryId: string, r: AttemptResult) => {
      await c.writeAll([attemptUpdate(tenantId, deliveryId, r)]);
    },
    finish: async (tenantId: string, id: string, status: Exclude<OperationRow['status'], 'in_progress'>, result: unknown, lastAttempt?: { deliveryId: string; result: AttemptResult }) => {
      const settled = c.statement(FINISH_OPERATION, [status, result === null || result === undefined ? null : json(result), new Date().toISOString(), tenantId, id]);
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
