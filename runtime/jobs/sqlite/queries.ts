// Reading the jobs table (by id, filtered lists with computed state, the overview per name, the
// queue size) and the bulk changes that share its filters (remove, disable, enable, purge).
import { computeJobState } from 'agenda';
import type { JobId, JobParameters, JobsOverview, JobsQueryOptions, JobsResult, JobsSort, JobWithState, RemoveJobsOptions } from 'agenda';
import type { Connection } from './connection.ts';
import { JSON_CONTAINS_FN, rowToJob, sqlDir, type JobRow, type SqlValue } from './values.ts';

export class JobQueries {
  constructor(
    private readonly conn: Connection,
    private readonly t: string, // quoted table name
  ) {}

  private toOrderByClause(sort: JobsSort | undefined): string {
    const fallback = 'next_run_at DESC NULLS LAST, last_run_at DESC NULLS LAST';
    if (!sort) return fallback;
    const parts: string[] = [];
    if (sort.nextRunAt !== undefined) parts.push(`next_run_at ${sqlDir(sort.nextRunAt, 'DESC')} NULLS LAST`);
    if (sort.lastRunAt !== undefined) parts.push(`last_run_at ${sqlDir(sort.lastRunAt, 'DESC')} NULLS LAST`);
    if (sort.lastFinishedAt !== undefined) parts.push(`last_finished_at ${sqlDir(sort.lastFinishedAt, 'DESC')} NULLS LAST`);
    if (sort.priority !== undefined) parts.push(`priority ${sqlDir(sort.priority, 'DESC')}`);
    if (sort.name !== undefined) parts.push(`name ${sqlDir(sort.name, 'DESC')}`);
    return parts.length > 0 ? parts.join(', ') : fallback;
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

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = this.conn.stmt<JobRow>(`SELECT * FROM ${this.t} WHERE id = ?`).get(String(id));
    return row ? rowToJob(row) : null;
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
        const job = rowToJob(row);
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
      const job = rowToJob(row);
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
}
