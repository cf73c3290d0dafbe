// The Agenda job scheduler and its storage backend (DESIGN.md §6).
//
// PLUGBOARD_JOBS_URL picks the backend:
//   unset / ''                  → SqliteBackend on the application's own database (opts.sqlite)
//   sqlite:<path>               → SqliteBackend on that file (opened and closed by the backend)
//   postgres:// postgresql://   → @agendajs/postgres-backend (LISTEN/NOTIFY), with the URL's pool_size,
//                                 statement_timeout and schema read as for PLUGBOARD_DATABASE_URL
//   mongodb:// mongodb+srv://   → @agendajs/mongo-backend
// Anything else is a configuration error naming PLUGBOARD_JOBS_URL.
import { Agenda } from 'agenda';
import type { AgendaBackend, AgendaOptions } from 'agenda';
import type Database from 'better-sqlite3';
import { SqliteBackend } from './sqlite-backend.ts';
import { JobsConfigError, mongoJobsBackend, postgresJobsBackend, redact } from './backends.ts';

export { JobsConfigError };

export const VERIFY_INTEGRATION = 'verify-integration';
// Scheduled by the sync and OAuth token-refresh services (DESIGN §6); webhook deliveries and inbound
// events are leased rows, not Agenda jobs.
export const SYNC_STREAM = 'sync-stream';
export const REFRESH_OAUTH_TOKEN = 'refresh-oauth-token';

export interface JobsBackendOptions {
  /** The value of PLUGBOARD_JOBS_URL (not read from the environment here). */
  jobsUrl?: string;
  /** The application's database (an open better-sqlite3 Database, or its file path), used when jobsUrl is unset or ''. */
  sqlite?: Database.Database | string;
  /** Jobs table (SQLite, PostgreSQL) or collection (MongoDB). Defaults: 'agenda_jobs' / 'agendaJobs'. */
  tableName?: string;
}

export interface CreateAgendaOptions extends JobsBackendOptions, Omit<AgendaOptions, 'backend'> {}

/** Builds the storage backend for a PLUGBOARD_JOBS_URL value (connects nothing). */
export function createJobsBackend(opts: JobsBackendOptions): AgendaBackend {
  const url = (opts.jobsUrl ?? '').trim();
  if (url === '') {
    if (opts.sqlite === undefined || opts.sqlite === '') {
      throw new JobsConfigError('PLUGBOARD_JOBS_URL is not set and no application SQLite database was given for the jobs');
    }
    return new SqliteBackend({ database: opts.sqlite, tableName: opts.tableName });
  }
  if (/^sqlite:/i.test(url)) {
    // sqlite:./data/jobs.db, sqlite:/abs/jobs.db, sqlite:///abs/jobs.db, sqlite::memory:
    const file = url.replace(/^sqlite:(\/\/)?/i, '');
    if (file === '') throw new JobsConfigError(`PLUGBOARD_JOBS_URL: "${url}" names no SQLite file (use sqlite:<path>)`);
    return new SqliteBackend({ database: file, tableName: opts.tableName });
  }
  if (/^postgres(ql)?:\/\//i.test(url)) return postgresJobsBackend(url, opts.tableName);
  if (/^mongodb(\+srv)?:\/\//i.test(url)) return mongoJobsBackend(url, opts.tableName);
  throw new JobsConfigError(
    `PLUGBOARD_JOBS_URL must be empty (the application's SQLite database), sqlite:<path>, postgres://..., postgresql://... or mongodb://..., got "${redact(url)}"`,
  );
}

/**
 * Delegates to a backend but never rejects from connect(): Agenda calls backend.connect() from
 * its constructor without handling a rejection, which would crash the process with an
 * unhandled rejection. The failure is kept and reported by PlugboardAgenda.start().
 */
class GuardedBackend implements AgendaBackend {
  connectError: Error | undefined;
  constructor(readonly inner: AgendaBackend) {}
  get name() { return this.inner.name; }
  get repository() { return this.inner.repository; }
  get notificationChannel() { return this.inner.notificationChannel; }
  get logger() { return this.inner.logger; }
  get ownsConnection() { return this.inner.ownsConnection; }
  async connect(): Promise<void> {
    try {
      await this.inner.connect();
      this.connectError = undefined;
    } catch (err) {
      this.connectError = err instanceof Error ? err : new Error(String(err));
    }
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }
}

/** An Agenda whose start() rejects when the jobs backend could not connect. */
export class PlugboardAgenda extends Agenda {
  readonly jobsBackend: AgendaBackend;
  private readonly guard: GuardedBackend;

  constructor(options: AgendaOptions) {
    const guard = new GuardedBackend(options.backend);
    super({ ...options, backend: guard });
    this.guard = guard;
    this.jobsBackend = options.backend;
  }

  /** The error from connecting the backend, if it failed (after `ready`). */
  get connectError(): Error | undefined {
    return this.guard.connectError;
  }

  override async start(): Promise<void> {
    await this.ready;
    const err = this.guard.connectError;
    if (err) {
      throw new JobsConfigError(`PLUGBOARD_JOBS_URL: cannot connect the ${this.guard.name} jobs backend: ${err.message}`, { cause: err });
    }
    return super.start();
  }

  /**
   * stop() (unlocking jobs held but not started), then closes the backend's connection if the
   * backend opened it, even when start() was never called (Agenda's stop() only disconnects a
   * started instance). A database passed in by the application is left open.
   */
  async close(): Promise<void> {
    await this.stop();
    if (this.jobsBackend.ownsConnection ?? true) await this.jobsBackend.disconnect();
  }
}

/** A configured Agenda (not started): call define(...) for the job names, then start(). */
export function createAgenda(opts: CreateAgendaOptions): PlugboardAgenda {
  const { jobsUrl, sqlite, tableName, ...agendaOptions } = opts;
  const backend = createJobsBackend({ jobsUrl, sqlite, tableName });
  return new PlugboardAgenda({ ...agendaOptions, backend });
}

/**
 * Jobs whose run time has passed but that have not run yet (for /metrics): the backend's
 * queue size, i.e. jobs with nextRunAt < now, including ones a worker has locked but not started.
 */
export async function queueDepth(agenda: Agenda): Promise<number> {
  return agenda.db.getQueueSize();
}
