// Agenda's optional job event log, in a table of the same database.
import { randomUUID } from 'node:crypto';
import type { JobLogEntry, JobLogger, JobLogQuery, JobLogQueryResult } from 'agenda';
import type { Connection } from './connection.ts';
import { IDENT, toMs, type Db, type SqlValue } from './values.ts';

interface LogRow {
  id: string;
  timestamp: number;
  level: JobLogEntry['level'];
  event: JobLogEntry['event'];
  job_id: string | null;
  job_name: string;
  message: string;
  duration: number | null;
  error: string | null;
  fail_count: number | null;
  retry_delay: number | null;
  retry_attempt: number | null;
  agenda_name: string | null;
  meta: string | null;
}

/** Job lifecycle events in a table of the same database (used when Agenda's `logging` is on). */
export class SqliteJobLogger implements JobLogger {
  readonly tableName: string;
  private initialized = false;

  constructor(
    private readonly conn: Connection,
    tableName = 'agenda_logs',
  ) {
    if (!IDENT.test(tableName)) throw new Error(`SqliteBackend: invalid log table name "${tableName}"`);
    this.tableName = tableName;
  }

  private db(): Db | undefined {
    if (!this.conn.isOpen) return undefined;
    const db = this.conn.get();
    if (!this.initialized) {
      const t = this.tableName;
      db.exec(`
        CREATE TABLE IF NOT EXISTS "${t}" (
          id TEXT PRIMARY KEY, timestamp INTEGER NOT NULL, level TEXT NOT NULL, event TEXT NOT NULL,
          job_id TEXT, job_name TEXT NOT NULL, message TEXT NOT NULL, duration INTEGER, error TEXT,
          fail_count INTEGER, retry_delay INTEGER, retry_attempt INTEGER, agenda_name TEXT, meta TEXT
        );
        CREATE INDEX IF NOT EXISTS "${t}_timestamp_idx" ON "${t}" (timestamp DESC);
        CREATE INDEX IF NOT EXISTS "${t}_job_id_idx" ON "${t}" (job_id, timestamp DESC);
        CREATE INDEX IF NOT EXISTS "${t}_job_name_idx" ON "${t}" (job_name, timestamp DESC);
      `);
      this.initialized = true;
    }
    return db;
  }

  async log(entry: Omit<JobLogEntry, '_id'>): Promise<void> {
    const db = this.db();
    if (!db) return;
    db.prepare(
      `INSERT INTO "${this.tableName}" (id, timestamp, level, event, job_id, job_name, message, duration, error,
         fail_count, retry_delay, retry_attempt, agenda_name, meta)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      randomUUID(), toMs(entry.timestamp) ?? Date.now(), entry.level, entry.event, entry.jobId ?? null, entry.jobName,
      entry.message, entry.duration ?? null, entry.error ?? null, entry.failCount ?? null, entry.retryDelay ?? null,
      entry.retryAttempt ?? null, entry.agendaName ?? null, entry.meta ? JSON.stringify(entry.meta) : null,
    );
  }

  private buildWhere(query: JobLogQuery | undefined): { where: string; params: SqlValue[] } {
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    if (query?.jobId) { conditions.push('job_id = ?'); params.push(query.jobId); }
    if (query?.jobName) { conditions.push('job_name = ?'); params.push(query.jobName); }
    for (const key of ['level', 'event'] as const) {
      const v = query?.[key];
      if (v === undefined) continue;
      conditions.push(`${key} IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(Array.isArray(v) ? v : [v]));
    }
    if (query?.from) { conditions.push('timestamp >= ?'); params.push(toMs(query.from)); }
    if (query?.to) { conditions.push('timestamp <= ?'); params.push(toMs(query.to)); }
    return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
  }

  async getLogs(query?: JobLogQuery): Promise<JobLogQueryResult> {
    const db = this.db();
    if (!db) return { entries: [], total: 0 };
    const { where, params } = this.buildWhere(query);
    const sort = query?.sort === 'asc' ? 'ASC' : 'DESC';
    const rows = db
      .prepare(`SELECT * FROM "${this.tableName}" ${where} ORDER BY timestamp ${sort}, rowid ${sort} LIMIT ? OFFSET ?`)
      .all(...params, query?.limit ?? 50, query?.offset ?? 0) as LogRow[];
    const total = (db.prepare(`SELECT COUNT(*) AS total FROM "${this.tableName}" ${where}`).get(...params) as { total: number }).total;
    const entries: JobLogEntry[] = rows.map((row) => ({
      _id: row.id,
      timestamp: new Date(row.timestamp),
      level: row.level,
      event: row.event,
      jobId: row.job_id ?? undefined,
      jobName: row.job_name,
      message: row.message,
      duration: row.duration ?? undefined,
      error: row.error ?? undefined,
      failCount: row.fail_count ?? undefined,
      retryDelay: row.retry_delay ?? undefined,
      retryAttempt: row.retry_attempt ?? undefined,
      agendaName: row.agenda_name ?? undefined,
      meta: row.meta ? (JSON.parse(row.meta) as Record<string, unknown>) : undefined,
    }));
    return { entries, total };
  }

  async clearLogs(query?: JobLogQuery): Promise<number> {
    const db = this.db();
    if (!db) return 0;
    const { where, params } = this.buildWhere(query);
    return db.prepare(`DELETE FROM "${this.tableName}" ${where}`).run(...params).changes;
  }
}

// ---------------------------------------------------------------------------------------------
