// Writing jobs: Agenda's saveJob (update in place, `single` jobs one row per name, unique and
// debounced jobs) and saveJobState after a run.
import { randomUUID } from 'node:crypto';
import type { JobParameters, JobRepositoryOptions } from 'agenda';
import type { Connection } from './connection.ts';
import { COLUMN_NAMES, bool, columnValue, jsonPath, rowToJob, toJsonText, toMs, type JobRow, type SqlValue } from './values.ts';

export class JobWriter {
  constructor(
    private readonly conn: Connection,
    private readonly t: string, // quoted table name
  ) {}

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

  private insert(p: ReturnType<JobWriter['props']>, debounceStartedAt: number | null = null): JobRow {
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
  private updateById(id: string, p: ReturnType<JobWriter['props']>, nextRunAt: number | null, debounceStartedAt: number | null): JobRow {
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
      return row ? (rowToJob(row) as JobParameters<DATA>) : job;
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
      return rowToJob(row) as JobParameters<DATA>;
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
      if (row) return rowToJob(row) as JobParameters<DATA>;
    }

    const row = this.conn.write(() => this.insert(p));
    return rowToJob(row) as JobParameters<DATA>;
  }
}
