// Agenda's JobRepository over one SQLite table, composed of one part per concern: reading
// (queries.ts), claiming (locking.ts) and writing (saving.ts) jobs.
import type { JobId, JobParameters, JobRepository, JobRepositoryOptions, JobsQueryOptions, RemoveJobsOptions, SortDirection } from 'agenda';
import type { Connection } from './connection.ts';
import { JobQueries } from './queries.ts';
import { JobLocks } from './locking.ts';
import { JobWriter } from './saving.ts';
import { IDENT, JOB_COLUMNS, type Db } from './values.ts';

export class SqliteJobRepository implements JobRepository {
  readonly tableName: string;
  private readonly queries: JobQueries;
  private readonly locks: JobLocks;
  private readonly writer: JobWriter;

  constructor(
    private readonly conn: Connection,
    options: { tableName?: string; ensureSchema?: boolean; sort?: { nextRunAt?: SortDirection; priority?: SortDirection } } = {},
  ) {
    this.tableName = options.tableName ?? 'agenda_jobs';
    if (!IDENT.test(this.tableName)) throw new Error(`SqliteBackend: invalid table name "${this.tableName}"`);
    const t = `"${this.tableName}"`;
    this.queries = new JobQueries(conn, t);
    this.locks = new JobLocks(conn, t, options.sort ?? { nextRunAt: 'asc', priority: 'desc' });
    this.writer = new JobWriter(conn, t);
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

  // -- queries and bulk changes --------------------------------------------------------------

  getJobById(id: string) { return this.queries.getJobById(id); }
  queryJobs(options: JobsQueryOptions = {}) { return this.queries.queryJobs(options); }
  getJobsOverview() { return this.queries.getJobsOverview(); }
  getDistinctJobNames() { return this.queries.getDistinctJobNames(); }
  getQueueSize() { return this.queries.getQueueSize(); }
  removeJobs(options: RemoveJobsOptions) { return this.queries.removeJobs(options); }
  disableJobs(options: RemoveJobsOptions) { return this.queries.disableJobs(options); }
  enableJobs(options: RemoveJobsOptions) { return this.queries.enableJobs(options); }
  purgeAllJobs() { return this.queries.purgeAllJobs(); }

  // -- locking -------------------------------------------------------------------------------

  unlockJob(job: JobParameters) { return this.locks.unlockJob(job); }
  unlockJobs(jobIds: (JobId | string)[]) { return this.locks.unlockJobs(jobIds); }
  lockJob(job: JobParameters, options: JobRepositoryOptions | undefined) { return this.locks.lockJob(job, options); }
  getNextJobToRun(jobName: string, nextScanAt: Date, lockDeadline: Date, now: Date | undefined, options: JobRepositoryOptions | undefined) {
    return this.locks.getNextJobToRun(jobName, nextScanAt, lockDeadline, now, options);
  }

  // -- saving --------------------------------------------------------------------------------

  saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined) { return this.writer.saveJobState(job, options); }
  saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined) { return this.writer.saveJob(job, options); }
}
