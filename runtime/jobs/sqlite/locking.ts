// Claiming jobs: find-and-lock in one IMMEDIATE transaction, so a job is handed to exactly one
// worker across connections and processes; unlocking on stop.
import type { JobId, JobParameters, JobRepositoryOptions, SortDirection } from 'agenda';
import type { Connection } from './connection.ts';
import { rowToJob, sqlDir, toMs, type JobRow } from './values.ts';

export class JobLocks {
  constructor(
    private readonly conn: Connection,
    private readonly t: string, // quoted table name
    private readonly sort: { nextRunAt?: SortDirection; priority?: SortDirection },
  ) {}

  private lockOrderBy(): string {
    return `next_run_at ${sqlDir(this.sort.nextRunAt, 'ASC')} NULLS LAST, priority ${sqlDir(this.sort.priority, 'DESC')}`;
  }

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
    return row ? rowToJob(row) : undefined;
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
    return row ? rowToJob(row) : undefined;
  }
}
