// SQLite repositories: Operations (recorded before their provider call, leased), their idempotency
// keys, and the lifecycle of their provider attempts (rows of `deliveries`).
import type { Store, OperationRow, DeliveryRow, AttemptResult } from '../types.ts';
import { UniqueViolation, UNKNOWN_ATTEMPT_ERROR } from '../types.ts';
import type { SqliteConnection } from './connection.ts';
import { json, isUnique, toOperation, type Row } from './rows.ts';

const SETTLE_BATCH = 500;

/** In-progress operations whose lease expired by @now (all, one tenant's, or one). */
function expired(scope?: { tenantId: string; id?: string }): string {
  return [`status = 'in_progress'`, 'lease_expires_at <= @now', ...(scope ? ['tenant_id = @tenantId'] : []), ...(scope?.id ? ['id = @id'] : [])].join(' AND ');
}

/** Attempts still in progress whose operation is not (settled, or gone): nothing will finish them. */
function strayAttempts(scope?: { tenantId: string; id?: string }): string {
  return [`status = 'in_progress'`, ...(scope ? ['tenant_id = @tenantId'] : []), ...(scope?.id ? ['operation_id = @id'] : []),
    `NOT EXISTS (SELECT 1 FROM operations o WHERE o.id = deliveries.operation_id AND o.status = 'in_progress')`].join(' AND ');
}

export function operationsRepo(c: SqliteConnection): Store['operations'] {
  const unknownError = json(UNKNOWN_ATTEMPT_ERROR);
  const settleAttempts = (tenantId: string, operationId: string) =>
    c.sql(`UPDATE deliveries SET status = 'unknown', error = ? WHERE tenant_id = ? AND operation_id = ? AND status = 'in_progress'`).run(unknownError, tenantId, operationId);

  const settle = c.db.transaction((now: number, scope?: { tenantId: string; id?: string }) => {
    const due = c.sql(`SELECT id, tenant_id FROM operations WHERE ${expired(scope)} LIMIT ${SETTLE_BATCH}`).all({ now, tenantId: scope?.tenantId, id: scope?.id }) as Array<{ id: string; tenant_id: string }>;
    const at = new Date(now).toISOString();
    for (const op of due) {
      c.sql(`UPDATE operations SET status = 'unknown', lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status = 'in_progress'`).run(at, op.id);
      settleAttempts(op.tenant_id, op.id);
    }
    return due.length + c.sql(`UPDATE deliveries SET status = 'unknown', error = @error WHERE ${strayAttempts(scope)}`).run({ error: unknownError, tenantId: scope?.tenantId, id: scope?.id }).changes;
  });

  const repo: Store['operations'] = {
    begin: async (row: OperationRow) => {
      try {
        c.sql(`INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, lease_expires_at, created_at, updated_at)
          VALUES (@id, @tenant_id, @capability, @idempotency_key, @request_hash, @status, @http_status, @response, @lease_expires_at, @created_at, @updated_at)`).run({ ...row, response: row.response === null ? null : json(row.response) });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('idempotency key in use');
        throw err;
      }
    },
    findByKey: async (tenantId: string, key: string) => {
      const r = c.sql('SELECT * FROM operations WHERE tenant_id = ? AND idempotency_key = ?').get(tenantId, key) as Row | undefined;
      return r ? toOperation(r) : undefined;
    },
    renew: async (tenantId: string, id: string, leaseExpiresAt: number) =>
      c.sql(`UPDATE operations SET lease_expires_at = ? WHERE tenant_id = ? AND id = ? AND status = 'in_progress'`).run(leaseExpiresAt, tenantId, id).changes > 0,
    startAttempt: async (row: DeliveryRow, leaseExpiresAt: number, now: number) =>
      c.db.transaction(() => {
        // The lease check and its extension are one statement: nothing can settle the operation between them.
        const held = c.sql(`UPDATE operations SET lease_expires_at = @leaseExpiresAt WHERE tenant_id = @tenantId AND id = @id AND status = 'in_progress' AND lease_expires_at > @now`)
          .run({ leaseExpiresAt, tenantId: row.tenant_id, id: row.operation_id, now }).changes > 0;
        if (!held) return false;
        c.sql(`INSERT INTO deliveries (id, tenant_id, operation_id, capability, integration_id, provider, attempt, status, provider_status_code, duration_ms, error, request_id, provider_request_id, created_at)
          VALUES (@id, @tenant_id, @operation_id, @capability, @integration_id, @provider, @attempt, @status, @provider_status_code, @duration_ms, @error, @request_id, @provider_request_id, @created_at)`).run({ ...row, error: row.error ? json(row.error) : null });
        return true;
      }).immediate(),
    finishAttempt: async (tenantId: string, deliveryId: string, r: AttemptResult) => {
      c.sql(`UPDATE deliveries SET status = @status, provider_status_code = @provider_status_code, duration_ms = @duration_ms, error = @error, provider_request_id = @provider_request_id
        WHERE tenant_id = @tenantId AND id = @deliveryId`).run({ ...r, error: r.error ? json(r.error) : null, tenantId, deliveryId });
    },
    finish: async (tenantId: string, id: string, status: Exclude<OperationRow['status'], 'in_progress'>, result: unknown) =>
      c.db.transaction(() => {
        // Only from in_progress: once settled as unknown a client may have been told so; it stays.
        const applied = c.sql(`UPDATE operations SET status = ?, response = ?, lease_expires_at = NULL, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = 'in_progress'`)
          .run(status, result === null || result === undefined ? null : json(result), new Date().toISOString(), tenantId, id).changes > 0;
        if (status === 'unknown') settleAttempts(tenantId, id);
        return applied;
      }).immediate(),
    remove: async (tenantId: string, id: string) => {
      c.sql(`DELETE FROM operations WHERE tenant_id = ? AND id = ? AND status = 'in_progress'`).run(tenantId, id);
    },
    settleExpired: async (now: number, scope?: { tenantId: string; id?: string }) => {
      // A read first: most calls find nothing, and a plain SELECT takes no write lock.
      const params = { now, tenantId: scope?.tenantId, id: scope?.id };
      if (!c.sql(`SELECT 1 FROM operations WHERE ${expired(scope)} LIMIT 1`).get(params) && !c.sql(`SELECT 1 FROM deliveries WHERE ${strayAttempts(scope)} LIMIT 1`).get(params)) return 0;
      return settle.immediate(now, scope);
    },
  };
  return repo;
}
