// Agenda v6 storage backend over better-sqlite3 (DESIGN.md §6: the default jobs backend, sharing
// the application's SQLite file).
//
// It mirrors @agendajs/postgres-backend's PostgresJobRepository: the same table layout (dates
// stored as epoch milliseconds, job data as JSON text), the same query shapes and the same
// semantics for locking (a due, unlocked job or one whose lock is older than the lock lifetime),
// ordering (nextRunAt ascending, then priority descending), `single` jobs (one row per name,
// nextRunAt protected when already due), unique/debounced jobs and queue size.
//
// Every write runs inside a synchronous `BEGIN IMMEDIATE` transaction
// (db.transaction(...).immediate()), so the select-then-update of a lock is atomic across
// connections and processes sharing the file: two workers never lock one job twice. The file is
// put in WAL mode and given a busy timeout, so a second process waits for the write lock rather
// than failing with SQLITE_BUSY. There is no notification channel: Agenda polls every
// `processEvery`.
//
// One part per file under ./sqlite/: values.ts (table layout and value conversion), connection.ts,
// repository.ts (Agenda's JobRepository) composed of queries.ts, locking.ts and saving.ts, and
// logger.ts (the optional job event log).
import type { AgendaBackend, SortDirection } from 'agenda';
import { Connection } from './sqlite/connection.ts';
import { SqliteJobRepository } from './sqlite/repository.ts';
import { SqliteJobLogger } from './sqlite/logger.ts';
import type { Db } from './sqlite/values.ts';

export interface SqliteBackendConfig {
  /** An open better-sqlite3 database (shared with the application, not closed by the backend), or a file path (opened and owned by the backend). */
  database: Db | string;
  /** Table for jobs (default 'agenda_jobs'). */
  tableName?: string;
  /** Table for the optional job event log (default 'agenda_logs'; only created when Agenda's `logging` is enabled). */
  logTableName?: string;
  /** Create the table and indexes if absent (default true). */
  ensureSchema?: boolean;
  /** Milliseconds a connection waits for another connection's write lock (default 15000). Never lowers a larger value already set. */
  busyTimeoutMs?: number;
  /** Sort order used when picking the next job (default { nextRunAt: 'asc', priority: 'desc' }). */
  sort?: { nextRunAt?: SortDirection; priority?: SortDirection };
}


export class SqliteBackend implements AgendaBackend {
  readonly name = 'SQLite';
  readonly repository: SqliteJobRepository;
  readonly logger: SqliteJobLogger;
  readonly notificationChannel = undefined;
  private readonly conn: Connection;

  constructor(config: SqliteBackendConfig) {
    if (config.database === undefined || config.database === null) throw new Error('SqliteBackend requires a database (a better-sqlite3 Database or a file path)');
    this.conn = new Connection(config.database, config.busyTimeoutMs ?? 15_000);
    this.repository = new SqliteJobRepository(this.conn, { tableName: config.tableName, ensureSchema: config.ensureSchema, sort: config.sort });
    this.logger = new SqliteJobLogger(this.conn, config.logTableName);
  }

  /** True when the backend opened the file itself (closed on agenda.stop()); false for a Database passed in. */
  get ownsConnection(): boolean {
    return this.conn.owns;
  }

  /** The underlying connection (opened on first use). */
  get database(): Db {
    return this.conn.get();
  }

  async connect(): Promise<void> {
    await this.repository.connect();
  }

  async disconnect(): Promise<void> {
    await this.repository.disconnect();
  }
}

