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
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { computeJobState, toJobId } from 'agenda';
import type {
  AgendaBackend,
  JobId,
  JobLogEntry,
  JobLogger,
  JobLogQuery,
  JobLogQueryResult,
  JobParameters,
  JobRepository,
  JobRepositoryOptions,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
  JobsSort,
  JobWithState,
  RemoveJobsOptions,
  SortDirection,
} from 'agenda';

type Db = Database.Database;
type SqlValue = string | number | bigint | Buffer | null;

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

/** A row of the jobs table as better-sqlite3 returns it. */
interface JobRow {
  id: string;
  name: string;
  priority: number;
  next_run_at: number | null;
  type: 'normal' | 'single';
  locked_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  repeat_timezone: string | null;
  last_run_at: number | null;
  repeat_interval: string | number | null;
  data: string | null;
  repeat_at: string | null;
  disabled: number;
  progress: number | null;
  fork: number;
  last_modified_by: string | null;
  debounce_started_at: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
  created_at: number;
  updated_at: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const JSON_CONTAINS_FN = 'agenda_json_contains';

/** Columns, in order, with their declared SQLite types (a column without a type keeps whatever type is bound). */
const JOB_COLUMNS: Array<[string, string]> = [
  ['id', 'TEXT PRIMARY KEY'],
  ['name', 'TEXT NOT NULL'],
  ['priority', 'INTEGER NOT NULL DEFAULT 0'],
  ['next_run_at', 'INTEGER'],
  ['type', "TEXT NOT NULL DEFAULT 'normal' CHECK (type IN ('normal', 'single'))"],
  ['locked_at', 'INTEGER'],
  ['last_finished_at', 'INTEGER'],
  ['failed_at', 'INTEGER'],
  ['fail_count', 'INTEGER'],
  ['fail_reason', 'TEXT'],
  ['repeat_timezone', 'TEXT'],
  ['last_run_at', 'INTEGER'],
  ['repeat_interval', ''], // string (cron / human interval) or number (ms): keep the bound type
  ['data', 'TEXT'], // JSON text; NULL means undefined
  ['repeat_at', 'TEXT'],
  ['disabled', 'INTEGER NOT NULL DEFAULT 0'],
  ['progress', 'REAL'],
  ['fork', 'INTEGER NOT NULL DEFAULT 0'],
  ['last_modified_by', 'TEXT'],
  ['debounce_started_at', 'INTEGER'],
  ['start_date', 'INTEGER'],
  ['end_date', 'INTEGER'],
  ['skip_days', 'TEXT'], // JSON array
  ['created_at', 'INTEGER NOT NULL DEFAULT 0'],
  ['updated_at', 'INTEGER NOT NULL DEFAULT 0'],
];
const COLUMN_NAMES = new Set(JOB_COLUMNS.map(([c]) => c));
const DATE_COLUMNS = new Set([
  'next_run_at', 'locked_at', 'last_finished_at', 'failed_at', 'last_run_at',
  'debounce_started_at', 'start_date', 'end_date', 'created_at', 'updated_at',
]);
const BOOLEAN_COLUMNS = new Set(['disabled', 'fork']);

// ---------------------------------------------------------------------------------------------
// value conversion

function toMs(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function toDate(ms: number | null): Date | null {
  return ms === null || ms === undefined ? null : new Date(ms);
}

function toJsonText(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value) ?? null;
}

function fromJsonText(text: string | null): unknown {
  if (text === null || text === undefined) return undefined;
  return JSON.parse(text);
}

function bool(v: unknown): number {
  return v ? 1 : 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** PostgreSQL `jsonb @>` containment: objects contain sub-objects, arrays contain each wanted element somewhere, scalars are equal. */
export function jsonContains(have: unknown, want: unknown): boolean {
  if (isPlainObject(want)) {
    if (!isPlainObject(have)) return false;
    return Object.keys(want).every((k) => Object.prototype.hasOwnProperty.call(have, k) && jsonContains(have[k], want[k]));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return false;
    return want.every((w) => have.some((h) => jsonContains(h, w)));
  }
  return have === want;
}

/** 'a.b' → the SQLite JSON path '$."a"."b"'. */
function jsonPath(dotted: string): string {
  const parts = dotted.split('.');
  for (const p of parts) {
    if (p === '' || p.includes('"')) throw new Error(`Invalid unique constraint field: "data.${dotted}"`);
  }
  return '$' + parts.map((p) => `."${p}"`).join('');
}

/** A value for a direct-column comparison in a unique constraint. */
function columnValue(column: string, value: unknown): SqlValue {
  if (DATE_COLUMNS.has(column)) return toMs(value);
  if (BOOLEAN_COLUMNS.has(column)) return bool(value);
  if (column === 'data' || column === 'skip_days') return toJsonText(value);
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return value;
  if (value instanceof Date) return value.getTime();
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// connection

/** Opens (creating the directory of) a SQLite file for the jobs table. */
function openDatabase(file: string): Db {
  if (file !== ':memory:' && file !== '' && !file.startsWith('file:')) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  }
  return new Database(file);
}

/**
 * WAL mode and a busy timeout, so concurrent processes on one file wait for each other's write
 * lock instead of failing. Only ever raises an existing busy timeout.
 */
function configureConnection(db: Db, busyTimeoutMs: number): void {
  const current = Number(db.pragma('busy_timeout', { simple: true }));
  if (!(current >= busyTimeoutMs)) db.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  if (!db.memory && !db.readonly) {
    const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
    if (mode !== 'wal') db.pragma('journal_mode = WAL');
  }
  db.function(JSON_CONTAINS_FN, { deterministic: true }, (have: unknown, want: unknown) => {
    if (typeof want !== 'string') return 0;
    const h = typeof have === 'string' ? JSON.parse(have) : undefined;
    return jsonContains(h, JSON.parse(want)) ? 1 : 0;
  });
}

/** Shared by the repository and the logger: one connection, opened lazily, reopened by connect(). */
class Connection {
  private db: Db | undefined;
  private closed = false;
  private configured = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly setups: Array<(db: Db) => void> = [];

  constructor(
    private readonly source: Db | string,
    private readonly busyTimeoutMs: number,
  ) {
    if (typeof source !== 'string') this.db = source;
  }

  get owns(): boolean {
    return typeof this.source === 'string';
  }

  /** Registers schema set-up run once per opened connection. */
  onOpen(setup: (db: Db) => void): void {
    this.setups.push(setup);
  }

  reopen(): void {
    if (this.closed && this.owns) {
      this.closed = false;
      this.db = undefined;
      this.configured = false;
      this.statements.clear();
    }
  }

  get(): Db {
    if (this.closed) throw new Error('SqliteBackend: the jobs database connection is closed (agenda was stopped)');
    if (!this.db) this.db = openDatabase(this.source as string);
    if (!this.configured) {
      configureConnection(this.db, this.busyTimeoutMs);
      for (const setup of this.setups) setup(this.db);
      this.configured = true;
    }
    return this.db;
  }

  get isOpen(): boolean {
    return !this.closed && (this.db?.open ?? typeof this.source === 'string');
  }

  stmt<R = unknown>(sql: string): Database.Statement<unknown[], R> {
    const db = this.get();
    let s = this.statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s as Database.Statement<unknown[], R>;
  }

  /** Runs fn in a `BEGIN IMMEDIATE` transaction (a savepoint when already inside one). */
  write<T>(fn: () => T): T {
    return this.get().transaction(fn).immediate();
  }

  close(): void {
    if (this.owns && this.db && this.db.open) this.db.close();
    if (this.owns) {
      this.closed = true;
      this.db = undefined;
      this.statements.clear();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// repository

export class SqliteJobRepository implements JobRepository {
  readonly tableName: string;
  private readonly sort: { nextRunAt?: SortDirection; priority?: SortDirection };
  private readonly t: string; // quoted table name

  constructor(
    private readonly conn: Connection,
    options: { tableName?: string; ensureSchema?: boolean; sort?: SqliteBackendConfig['sort'] } = {},
  ) {
    this.tableName = options.tableName ?? 'agenda_jobs';
    if (!IDENT.test(this.tableName)) throw new Error(`SqliteBackend: invalid table name "${this.tableName}"`);
    this.t = `"${this.tableName}"`;
    this.sort = options.sort ?? { nextRunAt: 'asc', priority: 'desc' };
    if (options.ensureSchema ?? true) conn.onOpen((db) => this.createSchema(db));
  }

  private createSchema(db: Db): void {
    const t = this.tableName;
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS "${t}" (\n  ${JOB_COLUMNS.map(([c, type]) => `${c} ${type}`.trim()).join(',\n  ')}\n)`);
      // Columns added by later versions of this schema.
      const have = new Set((db.prepare(`PRAGMA table_info("${t}")`).all() as Array<{ name: string }>).map((r) => r.name));
      for (const [c, type] of JOB_COLUMNS) {
        if (!have.has(c)) db.exec(`ALTER TABLE "${t}" ADD COLUMN ${c} ${type.replace(/PRIMARY KEY|NOT NULL/g, '')}`.trim());
      }
      db.exec(`
        CREATE INDEX IF NOT EXISTS "${t}_find_and_lock_idx" ON "${t}" (name, next_run_at, priority DESC, locked_at, disabled) WHERE disabled = 0;
        CREATE UNIQUE INDEX IF NOT EXISTS "${t}_single_job_idx" ON "${t}" (name) WHERE type = 'single';
        CREATE INDEX IF NOT EXISTS "${t}_locked_at_idx" ON "${t}" (locked_at) WHERE locked_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS "${t}_next_run_at_idx" ON "${t}" (next_run_at) WHERE next_run_at IS NOT NULL;
      `);
    }).immediate();
  }

  async connect(): Promise<void> {
    this.conn.reopen();
    this.conn.get();
  }

  async disconnect(): Promise<void> {
    this.conn.close();
  }

  // -- row mapping ---------------------------------------------------------------------------

  private rowToJob(row: JobRow): JobParameters {
    return {
      _id: toJobId(row.id),
      name: row.name,
      priority: row.priority,
      nextRunAt: toDate(row.next_run_at),
      type: row.type,
      lockedAt: toDate(row.locked_at) ?? undefined,
      lastFinishedAt: toDate(row.last_finished_at) ?? undefined,
      failedAt: toDate(row.failed_at) ?? undefined,
      failCount: row.fail_count ?? undefined,
      failReason: row.fail_reason ?? undefined,
      repeatTimezone: row.repeat_timezone ?? undefined,
      lastRunAt: toDate(row.last_run_at) ?? undefined,
      repeatInterval: row.repeat_interval ?? undefined,
      data: fromJsonText(row.data),
      repeatAt: row.repeat_at ?? undefined,
      disabled: row.disabled === 1,
      progress: row.progress ?? undefined,
      fork: row.fork === 1,
      lastModifiedBy: row.last_modified_by ?? undefined,
      debounceStartedAt: toDate(row.debounce_started_at) ?? undefined,
      startDate: toDate(row.start_date) ?? undefined,
      endDate: toDate(row.end_date) ?? undefined,
      skipDays: (fromJsonText(row.skip_days) as number[] | undefined) ?? undefined,
    };
  }

  private dir(d: SortDirection | undefined, fallback: 'ASC' | 'DESC'): 'ASC' | 'DESC' {
    if (d === undefined) return fallback;
    return d === 'asc' ? 'ASC' : 'DESC';
  }

  private toOrderByClause(sort: JobsSort | undefined): string {
    const fallback = 'next_run_at DESC NULLS LAST, last_run_at DESC NULLS LAST';
    if (!sort) return fallback;
    const parts: string[] = [];
    if (sort.nextRunAt !== undefined) parts.push(`next_run_at ${this.dir(sort.nextRunAt, 'DESC')} NULLS LAST`);
    if (sort.lastRunAt !== undefined) parts.push(`last_run_at ${this.dir(sort.lastRunAt, 'DESC')} NULLS LAST`);
    if (sort.lastFinishedAt !== undefined) parts.push(`last_finished_at ${this.dir(sort.lastFinishedAt, 'DESC')} NULLS LAST`);
    if (sort.priority !== undefined) parts.push(`priority ${this.dir(sort.priority, 'DESC')}`);
    if (sort.name !== undefined) parts.push(`name ${this.dir(sort.name, 'DESC')}`);
    return parts.length > 0 ? parts.join(', ') : fallback;
  }

  private lockOrderBy(): string {
    return `next_run_at ${this.dir(this.sort.nextRunAt, 'ASC')} NULLS LAST, priority ${this.dir(this.sort.priority, 'DESC')}`;
  }

  /** WHERE conditions for remove/disable/enable; null when no criteria are given (then nothing is touched). */
  private buildFilter(options: RemoveJobsOptions): { where: string; params: SqlValue[] } | null {
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    if (options.id) {
      conditions.push('id = ?');
      params.push(options.id.toString());
    } else if (options.ids && options.ids.length > 0) {
      conditions.push('id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(options.ids.map((id) => id.toString())));
    }
    if (options.name) {
      conditions.push('name = ?');
      params.push(options.name);
    } else if (options.names && options.names.length > 0) {
      conditions.push('name IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(options.names));
    } else if (options.notNames && options.notNames.length > 0) {
      conditions.push('name NOT IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(options.notNames));
    }
    if (options.data !== undefined) {
      conditions.push(`${JSON_CONTAINS_FN}(data, ?)`);
      params.push(JSON.stringify(options.data));
    }
    if (conditions.length === 0) return null;
    return { where: conditions.join(' AND '), params };
  }

  // -- queries -------------------------------------------------------------------------------

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = this.conn.stmt<JobRow>(`SELECT * FROM ${this.t} WHERE id = ?`).get(String(id));
    return row ? this.rowToJob(row) : null;
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const { name, names, state, id, ids, search, data, includeDisabled = true, sort, skip = 0, limit = 0 } = options;
    const now = new Date();
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    if (name) {
      conditions.push('name = ?');
      params.push(name);
    } else if (names && names.length > 0) {
      conditions.push('name IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(names));
    }
    if (id) {
      conditions.push('id = ?');
      params.push(id);
    } else if (ids && ids.length > 0) {
      conditions.push('id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(ids));
    }
    if (search) {
      conditions.push("name LIKE ? ESCAPE '\\'");
      params.push(`%${search.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
    }
    if (data !== undefined) {
      conditions.push(`${JSON_CONTAINS_FN}(data, ?)`);
      params.push(JSON.stringify(data));
    }
    if (!includeDisabled) conditions.push('disabled = 0');
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = this.conn.get().prepare(`SELECT * FROM ${this.t} ${where} ORDER BY ${this.toOrderByClause(sort)}`).all(...params) as JobRow[];
    let jobs: JobWithState[] = rows
      .map((row) => {
        const job = this.rowToJob(row);
        return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
      })
      .filter((job) => {
        if (!state) return true;
        if (state === 'paused') return job.disabled === true;
        return job.state === state;
      });
    const total = jobs.length;
    if (limit > 0) jobs = jobs.slice(skip, skip + limit);
    else if (skip > 0) jobs = jobs.slice(skip);
    return { jobs, total };
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    const rows = this.conn.stmt<JobRow>(`SELECT * FROM ${this.t} ORDER BY name`).all();
    const byName = new Map<string, JobsOverview>();
    for (const row of rows) {
      let o = byName.get(row.name);
      if (!o) {
        o = { name: row.name, total: 0, running: 0, scheduled: 0, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0 };
        byName.set(row.name, o);
      }
      const job = this.rowToJob(row);
      o.total++;
      o[computeJobState(job, now)]++;
      if (job.disabled === true) o.paused++;
    }
    return [...byName.values()];
  }

  async getDistinctJobNames(): Promise<string[]> {
    return this.conn.stmt<{ name: string }>(`SELECT DISTINCT name FROM ${this.t} ORDER BY name`).all().map((r) => r.name);
  }

  /** Jobs whose nextRunAt has passed (due, whether or not a worker has locked them yet). */
  async getQueueSize(): Promise<number> {
    const row = this.conn.stmt<{ count: number }>(`SELECT COUNT(*) AS count FROM ${this.t} WHERE next_run_at < ?`).get(Date.now());
    return row?.count ?? 0;
  }

  // -- bulk changes --------------------------------------------------------------------------

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    const filter = this.buildFilter(options);
    if (!filter) return 0;
    return this.conn.write(() => this.conn.get().prepare(`DELETE FROM ${this.t} WHERE ${filter.where}`).run(...filter.params).changes);
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    const filter = this.buildFilter(options);
    if (!filter) return 0;
    return this.conn.write(() =>
      this.conn.get().prepare(`UPDATE ${this.t} SET disabled = 1, updated_at = ? WHERE ${filter.where}`).run(Date.now(), ...filter.params).changes,
    );
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    const filter = this.buildFilter(options);
    if (!filter) return 0;
    return this.conn.write(() =>
      this.conn.get().prepare(`UPDATE ${this.t} SET disabled = 0, updated_at = ? WHERE ${filter.where}`).run(Date.now(), ...filter.params).changes,
    );
  }

  async purgeAllJobs(): Promise<number> {
    return this.conn.write(() => this.conn.stmt(`DELETE FROM ${this.t}`).run().changes);
  }

  // -- locking -------------------------------------------------------------------------------

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    // Only jobs not being processed (a running one-time job has nextRunAt = null).
    this.conn.write(() => this.conn.stmt(`UPDATE ${this.t} SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL`).run(job._id!.toString()));
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    const ids = JSON.stringify(jobIds.map((id) => id.toString()));
    this.conn.write(() => this.conn.stmt(`UPDATE ${this.t} SET locked_at = NULL WHERE id IN (SELECT value FROM json_each(?))`).run(ids));
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const nextRunAt = toMs(job.nextRunAt);
    const now = Date.now();
    const row = this.conn.write(() =>
      this.conn
        .stmt<JobRow>(
          `UPDATE ${this.t} SET locked_at = @now, last_modified_by = @by, updated_at = @now
           WHERE id = (
             SELECT id FROM ${this.t}
             WHERE id = @id AND name = @name AND locked_at IS NULL AND next_run_at = @nextRunAt AND disabled = 0
             ORDER BY ${this.lockOrderBy()} LIMIT 1
           )
           RETURNING *`,
        )
        .get({ now, by: options?.lastModifiedBy ?? null, id: job._id!.toString(), name: job.name, nextRunAt }),
    );
    return row ? this.rowToJob(row) : undefined;
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const lockTime = (now ?? new Date()).getTime();
    // Find and lock in one IMMEDIATE transaction: no other connection can write between the
    // search and the update, so a job is handed to exactly one worker.
    const row = this.conn.write(() =>
      this.conn
        .stmt<JobRow>(
          `UPDATE ${this.t} SET locked_at = @lockTime, last_modified_by = @by, updated_at = @lockTime
           WHERE id = (
             SELECT id FROM ${this.t}
             WHERE name = @name
               AND disabled = 0
               AND ((locked_at IS NULL AND next_run_at <= @nextScanAt) OR locked_at <= @lockDeadline)
             ORDER BY ${this.lockOrderBy()} LIMIT 1
           )
           RETURNING *`,
        )
        .get({
          lockTime,
          by: options?.lastModifiedBy ?? null,
          name: jobName,
          nextScanAt: nextScanAt.getTime(),
          lockDeadline: lockDeadline.getTime(),
        }),
    );
    return row ? this.rowToJob(row) : undefined;
  }

  // -- saving --------------------------------------------------------------------------------

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const changes = this.conn.write(
      () =>
        this.conn
          .stmt(
            `UPDATE ${this.t}
             SET locked_at = @lockedAt, next_run_at = @nextRunAt, last_run_at = @lastRunAt, progress = @progress,
                 fail_reason = @failReason, fail_count = @failCount, failed_at = @failedAt,
                 last_finished_at = @lastFinishedAt, last_modified_by = @by, updated_at = @now
             WHERE id = @id AND name = @name`,
          )
          .run({
            id: job._id!.toString(),
            name: job.name,
            lockedAt: toMs(job.lockedAt),
            nextRunAt: toMs(job.nextRunAt),
            lastRunAt: toMs(job.lastRunAt),
            progress: job.progress ?? null,
            failReason: job.failReason ?? null,
            failCount: job.failCount ?? null,
            failedAt: toMs(job.failedAt),
            lastFinishedAt: toMs(job.lastFinishedAt),
            by: options?.lastModifiedBy ?? null,
            now: Date.now(),
          }).changes,
    );
    if (changes !== 1) {
      throw new Error(`job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`);
    }
  }

  /** The user-settable columns of a job, as bind parameters. */
  private props(job: JobParameters, options: JobRepositoryOptions | undefined) {
    return {
      name: job.name,
      priority: job.priority ?? 0,
      nextRunAt: toMs(job.nextRunAt),
      type: job.type ?? 'normal',
      repeatTimezone: job.repeatTimezone || null,
      repeatInterval: job.repeatInterval || null,
      data: toJsonText(job.data),
      repeatAt: job.repeatAt || null,
      disabled: bool(job.disabled),
      fork: bool(job.fork),
      by: options?.lastModifiedBy ?? null,
      startDate: toMs(job.startDate),
      endDate: toMs(job.endDate),
      skipDays: job.skipDays ? JSON.stringify(job.skipDays) : null,
    };
  }

  private insert(p: ReturnType<SqliteJobRepository['props']>, debounceStartedAt: number | null = null): JobRow {
    const now = Date.now();
    return this.conn
      .stmt<JobRow>(
        `INSERT INTO ${this.t} (
           id, name, priority, next_run_at, type, repeat_timezone, repeat_interval, data, repeat_at,
           disabled, fork, last_modified_by, debounce_started_at, start_date, end_date, skip_days, created_at, updated_at
         ) VALUES (
           @id, @name, @priority, @nextRunAt, @type, @repeatTimezone, @repeatInterval, @data, @repeatAt,
           @disabled, @fork, @by, @debounceStartedAt, @startDate, @endDate, @skipDays, @now, @now
         ) RETURNING *`,
      )
      .get({ ...p, id: randomUUID(), debounceStartedAt, now })!;
  }

  /** Overwrites the user-settable columns of row `id` (not name, type or the processor-managed state). */
  private updateById(id: string, p: ReturnType<SqliteJobRepository['props']>, nextRunAt: number | null, debounceStartedAt: number | null): JobRow {
    return this.conn
      .stmt<JobRow>(
        `UPDATE ${this.t}
         SET priority = @priority, next_run_at = @nextRunAt, repeat_timezone = @repeatTimezone,
             repeat_interval = @repeatInterval, data = @data, repeat_at = @repeatAt, disabled = @disabled,
             fork = @fork, last_modified_by = @by, debounce_started_at = @debounceStartedAt,
             start_date = @startDate, end_date = @endDate, skip_days = @skipDays, updated_at = @now
         WHERE id = @id
         RETURNING *`,
      )
      .get({ ...p, id, nextRunAt, debounceStartedAt, now: Date.now() })!;
  }

  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): Promise<JobParameters<DATA>> {
    const { _id, unique, uniqueOpts } = job;
    const p = this.props(job as JobParameters, options);

    // An existing job: update it in place (a removed job is returned unchanged).
    if (_id) {
      const row = this.conn.write(() =>
        this.conn
          .stmt<JobRow>(
            `UPDATE ${this.t}
             SET name = @name, priority = @priority, next_run_at = @nextRunAt, type = @type,
                 repeat_timezone = @repeatTimezone, repeat_interval = @repeatInterval, data = @data,
                 repeat_at = @repeatAt, disabled = @disabled, fork = @fork, fail_reason = @failReason,
                 fail_count = @failCount, failed_at = @failedAt, last_modified_by = @by,
                 start_date = @startDate, end_date = @endDate, skip_days = @skipDays, updated_at = @now
             WHERE id = @id AND name = @name
             RETURNING *`,
          )
          .get({
            ...p,
            id: _id.toString(),
            failReason: job.failReason ?? null,
            failCount: job.failCount ?? null,
            failedAt: toMs(job.failedAt),
            now: Date.now(),
          }),
      );
      return row ? (this.rowToJob(row) as JobParameters<DATA>) : job;
    }

    // 'single' jobs (every()): one row per name. A nextRunAt already due does not override the
    // stored one, so restarting a process does not make a repeating job run early.
    if (p.type === 'single') {
      const row = this.conn.write(() => {
        const existing = this.conn.stmt<JobRow>(`SELECT * FROM ${this.t} WHERE name = ? AND type = 'single'`).get(p.name);
        if (!existing) return this.insert(p);
        const protect = p.nextRunAt !== null && p.nextRunAt <= Date.now();
        const nextRunAt = protect ? (existing.next_run_at ?? p.nextRunAt) : p.nextRunAt;
        return this.updateById(existing.id, p, nextRunAt, existing.debounce_started_at);
      });
      return this.rowToJob(row) as JobParameters<DATA>;
    }

    if (unique) {
      const conditions = ['name = ?'];
      const params: SqlValue[] = [p.name];
      for (const [key, value] of Object.entries(unique)) {
        if (key.startsWith('data.')) {
          conditions.push('(data -> ?) = json(?)');
          params.push(jsonPath(key.substring(5)), JSON.stringify(value ?? null));
        } else {
          const column = key === '_id' ? 'id' : key.replace(/([A-Z])/g, '_$1').toLowerCase();
          if (!COLUMN_NAMES.has(column)) throw new Error(`Invalid unique constraint field: "${key}"`);
          const v = columnValue(column, value);
          if (v === null) conditions.push(`"${column}" IS NULL`);
          else {
            conditions.push(column === 'data' ? `"${column}" = json(?)` : `"${column}" = ?`);
            params.push(v);
          }
        }
      }
      const debounce = uniqueOpts?.debounce;
      const row = this.conn.write((): JobRow | undefined => {
        const existing = this.conn.get().prepare(`SELECT * FROM ${this.t} WHERE ${conditions.join(' AND ')} LIMIT 1`).get(...params) as JobRow | undefined;
        const now = Date.now();
        if (existing) {
          if (uniqueOpts?.insertOnly && !debounce) return existing;
          let nextRunAt = p.nextRunAt;
          let debounceStartedAt: number | null = null;
          if (debounce) {
            const startedAt = existing.debounce_started_at ?? now;
            if (debounce.strategy === 'leading') {
              nextRunAt = existing.next_run_at;
              debounceStartedAt = startedAt;
            } else if (debounce.maxWait && now - startedAt >= debounce.maxWait) {
              nextRunAt = now;
              debounceStartedAt = null;
            } else {
              nextRunAt = now + debounce.delay;
              debounceStartedAt = startedAt;
            }
          }
          return this.updateById(existing.id, p, nextRunAt, debounceStartedAt);
        }
        if (debounce) {
          const nextRunAt = debounce.strategy === 'leading' ? p.nextRunAt : now + debounce.delay;
          return this.insert({ ...p, nextRunAt }, now);
        }
        return undefined; // no match: a plain insert below
      });
      if (row) return this.rowToJob(row) as JobParameters<DATA>;
    }

    const row = this.conn.write(() => this.insert(p));
    return this.rowToJob(row) as JobParameters<DATA>;
  }
}

// ---------------------------------------------------------------------------------------------
// logger

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
// backend

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
