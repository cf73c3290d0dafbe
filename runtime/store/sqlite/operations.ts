// SQLite repositories: Operations and their idempotency keys.
import type { Store, OperationRow } from '../types.ts';
import { UniqueViolation } from '../types.ts';
import type { SqliteConnection } from './connection.ts';
import { json, isUnique, toOperation, type Row } from './rows.ts';

export function operationsRepo(c: SqliteConnection): Store['operations'] {
  const repo: Store['operations'] = {
    begin: async (row: OperationRow) => {
      try {
        c.sql(`INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, created_at, updated_at)
          VALUES (@id, @tenant_id, @capability, @idempotency_key, @request_hash, @status, @http_status, @response, @created_at, @updated_at)`).run({ ...row, response: row.response === null ? null : json(row.response) });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('idempotency key in use');
        throw err;
      }
    },
    findByKey: async (tenantId: string, key: string) => {
      const r = c.sql('SELECT * FROM operations WHERE tenant_id = ? AND idempotency_key = ?').get(tenantId, key) as Row | undefined;
      return r ? toOperation(r) : undefined;
    },
    finish: async (tenantId: string, id: string, status: OperationRow['status'], httpStatus: number, response: unknown) => {
      c.sql('UPDATE operations SET status = ?, http_status = ?, response = ?, updated_at = ? WHERE tenant_id = ? AND id = ?').run(status, httpStatus, json(response), new Date().toISOString(), tenantId, id);
    },
    remove: async (tenantId: string, id: string) => {
      c.sql(`DELETE FROM operations WHERE tenant_id = ? AND id = ? AND status = 'in_progress'`).run(tenantId, id);
    },
  };
  return repo;
}
