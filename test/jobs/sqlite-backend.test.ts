// The SQLite jobs backend, exercised through a real Agenda instance with a short processEvery,
// against the behaviours Agenda's own backends promise; plus backend selection by
// PLUGBOARD_JOBS_URL (including a real PostgreSQL run).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Agenda, Job } from 'agenda';
import { SqliteBackend } from '../../runtime/jobs/sqlite-backend.ts';
import {
  createAgenda,
  createJobsBackend,
  queueDepth,
  REFRESH_OAUTH_TOKEN,
  SYNC_STREAM,
  VERIFY_INTEGRATION,
} from '../../runtime/jobs/agenda.ts';
// Job names the backend's own tests use; production leases webhook rows instead of scheduling these.
const DELIVER_WEBHOOK = 'deliver-webhook';
const PROCESS_INBOUND_WEBHOOK = 'process-inbound-webhook';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const workerScript = path.join(here, 'worker.fixture.ts');

const POLL_MS = 50;

// ---------------------------------------------------------------------------------------------
// helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until cond() is truthy (generous default timeout: the machine may be loaded). */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;
async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

let tmpDir: string;
let openDbs: Database.Database[] = [];
let agendas: Agenda[] = [];
let children: ChildProcess[] = [];

beforeEach(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugboard-jobs-'));
});

afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
  for (const a of agendas) await a.stop().catch(() => {});
  agendas = [];
  for (const db of openDbs) if (db.open) db.close();
  openDbs = [];
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

/** The application's database: a better-sqlite3 connection to a temp file. */
function appDb(file = path.join(tmpDir, 'plugboard.db')): Database.Database {
  const db = new Database(file);
  openDbs.push(db);
  return db;
}

function newAgenda(db: Database.Database | string, extra: Partial<Parameters<typeof createAgenda>[0]> = {}): Agenda {
  const agenda = typeof db === 'string' ? createAgenda({ jobsUrl: `sqlite:${db}`, processEvery: POLL_MS, ...extra }) : createAgenda({ sqlite: db, processEvery: POLL_MS, ...extra });
  agendas.push(agenda);
  return agenda;
}

interface JobRowLite {
  id: string;
  name: string;
  next_run_at: number | null;
  locked_at: number | null;
  last_run_at: number | null;
  last_finished_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  failed_at: number | null;
  data: string | null;
  type: string;
}
const rows = (db: Database.Database, name?: string): JobRowLite[] =>
  (name ? db.prepare('SELECT * FROM agenda_jobs WHERE name = ? ORDER BY created_at').all(name) : db.prepare('SELECT * FROM agenda_jobs ORDER BY created_at').all()) as JobRowLite[];

function spawnWorker(mode: 'multi' | 'hang', dbPath: string): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', tsxLoader, workerScript, mode, dbPath], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  child.stdout!.on('data', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'ready' && resolve());
    child.on('exit', (code, sig) => reject(new Error(`worker exited before ready (code ${code}, signal ${sig}): ${err}`)));
  });
  return { child, ready, exited, stderr: () => err };
}

// ---------------------------------------------------------------------------------------------

describe('SqliteBackend through Agenda', () => {
  it('creates its table and indexes in the shared database, in WAL mode with a busy timeout', async () => {
    const db = appDb();
    db.exec('CREATE TABLE app_things (id INTEGER PRIMARY KEY)'); // the application's own table
    const agenda = newAgenda(db);
    await agenda.ready;
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name LIKE 'agenda_jobs%'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['agenda_jobs', 'agenda_jobs_find_and_lock_idx', 'agenda_jobs_single_job_idx', 'agenda_jobs_locked_at_idx', 'agenda_jobs_next_run_at_idx']));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(Number(db.pragma('busy_timeout', { simple: true }))).toBeGreaterThanOrEqual(10_000);
    // A second backend on the same file is fine (CREATE ... IF NOT EXISTS).
    const again = new SqliteBackend({ database: path.join(tmpDir, 'plugboard.db') });
    await again.connect();
    await again.disconnect();
  });

  it('now() runs a job exactly once, and stop() leaves the application database open', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    const runs: string[] = [];
    agenda.define(VERIFY_INTEGRATION, async (job: Job) => {
      runs.push(String(job.attrs._id));
    });
    await agenda.start();
    const job = await agenda.now(VERIFY_INTEGRATION, { integrationId: 'int_1' });
    await waitFor(() => rows(db, VERIFY_INTEGRATION)[0]?.last_finished_at, 'the job to finish');
    await sleep(5 * POLL_MS); // a few more polls: it must not run again
    expect(runs).toEqual([String(job.attrs._id)]);
    const [row] = rows(db, VERIFY_INTEGRATION);
    expect(row.next_run_at).toBeNull();
    expect(row.locked_at).toBeNull();
    expect(row.last_run_at).not.toBeNull();
    await agenda.stop();
    expect(db.open).toBe(true); // the app's connection is not the backend's to close
  });

  it('schedule() in the future runs at (not before) the scheduled time', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    let ranAt = 0;
    agenda.define(SYNC_STREAM, async () => {
      ranAt = Date.now();
    });
    await agenda.start();
    const when = new Date(Date.now() + 700);
    await agenda.schedule(when, SYNC_STREAM, { stream: 'contacts' });
    expect(rows(db, SYNC_STREAM)[0].next_run_at).toBe(when.getTime());
    await waitFor(() => ranAt, 'the scheduled job to run');
    expect(ranAt).toBeGreaterThanOrEqual(when.getTime());
  });

  it('every() keeps one row, repeats, and computes nextRunAt = lastRunAt + interval', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    const seen: Array<{ lastRunAt: number; nextRunAt: number }> = [];
    agenda.define(REFRESH_OAUTH_TOKEN, async (job: Job) => {
      seen.push({ lastRunAt: job.attrs.lastRunAt!.getTime(), nextRunAt: job.attrs.nextRunAt!.getTime() });
    });
    await agenda.every(300, REFRESH_OAUTH_TOKEN, { integrationId: 'int_1' });
    const firstNextRunAt = rows(db, REFRESH_OAUTH_TOKEN)[0].next_run_at;
    await sleep(5);
    await agenda.every(300, REFRESH_OAUTH_TOKEN, { integrationId: 'int_1' }); // idempotent: still one 'single' job
    expect(rows(db, REFRESH_OAUTH_TOKEN)).toHaveLength(1);
    expect(rows(db, REFRESH_OAUTH_TOKEN)[0].next_run_at).toBe(firstNextRunAt); // a due nextRunAt is not overwritten
    await agenda.start();
    await waitFor(() => seen.length >= 3, 'three runs of the repeating job');
    for (const s of seen) expect(s.nextRunAt - s.lastRunAt).toBe(300);
    for (let i = 1; i < seen.length; i++) expect(seen[i].lastRunAt - seen[i - 1].lastRunAt).toBeGreaterThanOrEqual(300);
    const [row] = rows(db, REFRESH_OAUTH_TOKEN);
    expect(row.type).toBe('single');
    expect(row.next_run_at).not.toBeNull();
    expect(row.next_run_at! - row.last_run_at!).toBe(300);
    expect(rows(db, REFRESH_OAUTH_TOKEN)).toHaveLength(1);
  });

  it('unique() jobs are stored once per key; insertOnly keeps the first', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    const ran: unknown[] = [];
    agenda.define(DELIVER_WEBHOOK, async (job: Job) => {
      ran.push(job.attrs.data);
    });
    await agenda.ready;
    for (let i = 0; i < 3; i++) {
      await agenda.create(DELIVER_WEBHOOK, { eventId: 'evt_1', attempt: i }).unique({ 'data.eventId': 'evt_1' }).schedule(new Date()).save();
    }
    await agenda.create(DELIVER_WEBHOOK, { eventId: 'evt_2', attempt: 0 }).unique({ 'data.eventId': 'evt_2' }, { insertOnly: true }).schedule(new Date()).save();
    await agenda.create(DELIVER_WEBHOOK, { eventId: 'evt_2', attempt: 9 }).unique({ 'data.eventId': 'evt_2' }, { insertOnly: true }).schedule(new Date()).save();
    const stored = rows(db, DELIVER_WEBHOOK).map((r) => JSON.parse(r.data!));
    expect(stored).toEqual([
      { eventId: 'evt_1', attempt: 2 }, // updated in place
      { eventId: 'evt_2', attempt: 0 }, // insertOnly: first one kept
    ]);
    await agenda.start();
    await waitFor(() => ran.length >= 2, 'both unique jobs to run');
    await sleep(5 * POLL_MS);
    expect(ran).toHaveLength(2);
  });

  it('debounced unique jobs collapse into one run after the quiet period', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    const ran: unknown[] = [];
    agenda.define(SYNC_STREAM, async (job: Job) => {
      ran.push(job.attrs.data);
    });
    await agenda.start();
    let lastSave = 0;
    for (let i = 0; i < 3; i++) {
      await agenda.nowDebounced(SYNC_STREAM, { stream: 'contacts', i }, { 'data.stream': 'contacts' }, 250);
      lastSave = Date.now();
    }
    expect(rows(db, SYNC_STREAM)).toHaveLength(1);
    expect(rows(db, SYNC_STREAM)[0].next_run_at!).toBeGreaterThanOrEqual(lastSave + 250 - 50);
    await waitFor(() => ran.length === 1, 'the debounced job to run');
    expect(ran).toEqual([{ stream: 'contacts', i: 2 }]);
  });

  it('job data round-trips as JSON and can be queried by containment', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    const data = {
      tenantId: 'ten_1',
      nested: { list: [1, 2.5, 'three', null, true], deep: { ok: false } },
      text: 'ünïcødé ✓ "quotes" \\ back',
      big: Number.MAX_SAFE_INTEGER,
      empty: {},
    };
    const received = new Map<string, unknown>();
    agenda.define(PROCESS_INBOUND_WEBHOOK, async (job: Job) => {
      received.set((job.attrs.data as { tenantId: string }).tenantId, job.attrs.data);
    });
    await agenda.ready;
    const job = await agenda.now(PROCESS_INBOUND_WEBHOOK, data);
    await agenda.now(PROCESS_INBOUND_WEBHOOK, { tenantId: 'ten_2' });
    const byId = await agenda.db.getJobById(String(job.attrs._id));
    expect(byId?.data).toEqual(data);
    const found = await agenda.queryJobs({ data: { tenantId: 'ten_1', nested: { list: ['three'] } } });
    expect(found.jobs.map((j) => String(j._id))).toEqual([String(job.attrs._id)]);
    await agenda.start();
    await waitFor(() => received.size === 2, 'both jobs to run');
    expect(received.get('ten_1')).toEqual(data);
    expect(received.get('ten_2')).toEqual({ tenantId: 'ten_2' });
  });

  it('a failed job records failReason, failCount and failedAt, and can be retried', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    let calls = 0;
    agenda.define(SYNC_STREAM, async () => {
      calls++;
      if (calls === 1) throw new Error('upstream returned 503');
    });
    await agenda.start();
    const job = await agenda.now(SYNC_STREAM, { stream: 'orders' });
    const failed = await waitFor(() => rows(db, SYNC_STREAM).find((r) => r.failed_at && r.locked_at === null), 'the failure to be recorded');
    expect(failed.fail_reason).toBe('upstream returned 503');
    expect(failed.fail_count).toBe(1);
    const listed = await agenda.queryJobs({ name: SYNC_STREAM, state: 'failed' });
    expect(listed.total).toBe(1);

    // Retry: schedule the same job again.
    await job.schedule(new Date()).save();
    await waitFor(() => calls === 2 && rows(db, SYNC_STREAM)[0].locked_at === null && rows(db, SYNC_STREAM)[0].last_finished_at! > failed.failed_at!, 'the retry to succeed');
    expect(rows(db, SYNC_STREAM)).toHaveLength(1);
    expect((await agenda.queryJobs({ name: SYNC_STREAM })).jobs[0].state).toBe('completed');
  });

  it('a job with a backoff strategy is retried automatically until it succeeds', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    const failCounts: number[] = [];
    let calls = 0;
    agenda.define(
      DELIVER_WEBHOOK,
      async (job: Job) => {
        calls++;
        failCounts.push(job.attrs.failCount ?? 0);
        if (calls < 3) throw new Error(`attempt ${calls} failed`);
      },
      { backoff: (ctx) => (ctx.attempt <= 5 ? 50 : null) },
    );
    await agenda.start();
    await agenda.now(DELIVER_WEBHOOK, { url: 'http://127.0.0.1:9/hook' });
    await waitFor(() => calls === 3 && rows(db, DELIVER_WEBHOOK)[0].locked_at === null && rows(db, DELIVER_WEBHOOK)[0].fail_count === 0, 'the third attempt to succeed');
    expect(failCounts).toEqual([0, 1, 2]);
    const [row] = rows(db, DELIVER_WEBHOOK);
    expect(row.fail_reason).toBe('attempt 2 failed'); // the last failure stays visible
    expect(row.next_run_at).toBeNull();
  });

  it('picks up a job whose lock expired (crashed worker), but not one whose lock is fresh', async () => {
    const file = path.join(tmpDir, 'plugboard.db');
    const db = appDb(file);
    const seeder = newAgenda(db);
    await seeder.ready;
    const crashed = await seeder.now(SYNC_STREAM, { which: 'crashed' });
    const busy = await seeder.now(SYNC_STREAM, { which: 'busy' });
    const t0 = Date.now();
    // What a worker leaves behind when it dies mid-run: locked, lastRunAt set, nextRunAt cleared.
    db.prepare('UPDATE agenda_jobs SET locked_at = ?, last_run_at = ?, next_run_at = NULL WHERE id = ?').run(t0 - 60_000, t0 - 60_000, String(crashed.attrs._id));
    // Held by a live worker right now (lock fresh), though due.
    db.prepare('UPDATE agenda_jobs SET locked_at = ?, next_run_at = ? WHERE id = ?').run(t0, t0 - 1000, String(busy.attrs._id));

    const worker = newAgenda(file, { name: 'worker-b' });
    const ranAt = new Map<string, number>();
    worker.define(
      SYNC_STREAM,
      async (job: Job) => {
        ranAt.set((job.attrs.data as { which: string }).which, Date.now());
      },
      { lockLifetime: 1500 },
    );
    await worker.start();
    await waitFor(() => ranAt.has('crashed'), 'the crashed job to be picked up');
    await waitFor(() => ranAt.has('busy'), 'the busy job to be picked up after its lock expired');
    expect(ranAt.get('busy')!).toBeGreaterThanOrEqual(t0 + 1500);
    await waitFor(() => rows(db, SYNC_STREAM).every((r) => r.locked_at === null && r.last_finished_at !== null), 'both jobs to be unlocked');
    expect(rows(db, SYNC_STREAM).map((r) => r.next_run_at)).toEqual([null, null]);
  });

  it('a job locked by a worker process killed with SIGKILL mid-job runs again elsewhere', async () => {
    const file = path.join(tmpDir, 'plugboard.db');
    const db = appDb(file);
    db.exec('CREATE TABLE runs (job_id TEXT NOT NULL, pid INTEGER NOT NULL, at INTEGER NOT NULL)');
    const seeder = newAgenda(db);
    await seeder.ready;
    const job = await seeder.now('crash-job', { n: 1 });

    const w = spawnWorker('hang', file);
    await w.ready;
    await waitFor(() => db.prepare('SELECT COUNT(*) FROM runs').pluck().get() === 1, 'the child to start the job', 20_000);
    const locked = rows(db, 'crash-job')[0];
    expect(locked.locked_at).not.toBeNull();
    w.child.kill('SIGKILL');
    await w.exited;

    const survivor = newAgenda(file, { name: 'survivor' });
    let recoveredId = '';
    survivor.define('crash-job', async (j: Job) => {
      recoveredId = String(j.attrs._id);
    }, { lockLifetime: 1000 });
    await survivor.start();
    await waitFor(() => recoveredId, 'the surviving worker to run the job');
    expect(recoveredId).toBe(String(job.attrs._id));
    await waitFor(() => rows(db, 'crash-job')[0].last_finished_at !== null, 'the job to be finished');
    expect(rows(db, 'crash-job')[0].locked_at).toBeNull();
  }, 40_000);

  it('respects concurrency per job definition', async () => {
    const db = appDb();
    const agenda = newAgenda(db);
    let running = 0;
    let peak = 0;
    let done = 0;
    agenda.define(
      SYNC_STREAM,
      async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(150);
        running--;
        done++;
      },
      { concurrency: 2 },
    );
    for (let i = 0; i < 6; i++) await agenda.now(SYNC_STREAM, { i });
    await agenda.start();
    await waitFor(() => done === 6, 'all six jobs');
    expect(peak).toBe(2);
  });

  it('respects maxConcurrency across job definitions', async () => {
    const db = appDb();
    const agenda = newAgenda(db, { maxConcurrency: 3 });
    let running = 0;
    let peak = 0;
    let done = 0;
    const body = async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(150);
      running--;
      done++;
    };
    agenda.define(VERIFY_INTEGRATION, body, { concurrency: 5 });
    agenda.define(DELIVER_WEBHOOK, body, { concurrency: 5 });
    for (let i = 0; i < 5; i++) {
      await agenda.now(VERIFY_INTEGRATION, { i });
      await agenda.now(DELIVER_WEBHOOK, { i });
    }
    await agenda.start();
    await waitFor(() => done === 10, 'all ten jobs');
    expect(peak).toBe(3);
  });

  it('two OS processes on one database file run each of 50 jobs exactly once', async () => {
    const file = path.join(tmpDir, 'plugboard.db');
    const db = appDb(file);
    db.pragma('busy_timeout = 15000');
    db.exec('CREATE TABLE runs (job_id TEXT NOT NULL, pid INTEGER NOT NULL, at INTEGER NOT NULL)');
    const seeder = newAgenda(db);
    await seeder.ready;

    const workers = [spawnWorker('multi', file), spawnWorker('multi', file)];
    await Promise.all(workers.map((w) => w.ready));

    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add(String((await seeder.now('mp-job', { i })).attrs._id));
    expect(ids.size).toBe(50);

    await waitFor(
      () => db.prepare("SELECT COUNT(*) FROM agenda_jobs WHERE name = 'mp-job' AND (last_finished_at IS NULL OR locked_at IS NOT NULL)").pluck().get() === 0,
      'all 50 jobs to finish',
      30_000,
    );
    await sleep(6 * POLL_MS); // further polls by both workers: nothing may run again
    for (const w of workers) w.child.send('stop');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);

    const runs = db.prepare('SELECT job_id, pid FROM runs').all() as Array<{ job_id: string; pid: number }>;
    const perJob = new Map<string, number>();
    for (const r of runs) perJob.set(r.job_id, (perJob.get(r.job_id) ?? 0) + 1);
    const duplicates = [...perJob].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    expect(new Set(perJob.keys())).toEqual(ids);
    expect(runs).toHaveLength(50);
    const pids = new Set(runs.map((r) => r.pid));
    expect(pids.size, 'both processes took part').toBe(2);
  }, 45_000);

  it('supports the rest of the repository contract: queue depth, disable/enable, cancel, overview, logs', async () => {
    const db = appDb();
    const agenda = newAgenda(db, { logging: true });
    await agenda.ready;
    const past = new Date(Date.now() - 1000);
    await agenda.schedule(past, SYNC_STREAM, { stream: 'a' });
    await agenda.schedule(past, SYNC_STREAM, { stream: 'b' });
    await agenda.schedule(past, DELIVER_WEBHOOK, { eventId: 'e' });
    await agenda.schedule(new Date(Date.now() + 60_000), DELIVER_WEBHOOK, { eventId: 'later' });
    expect(await queueDepth(agenda)).toBe(3);

    expect(await agenda.disable({ name: DELIVER_WEBHOOK })).toBe(2);
    const overview = await agenda.getJobsOverview();
    expect(overview.find((o) => o.name === DELIVER_WEBHOOK)).toMatchObject({ total: 2, paused: 2 });
    expect(overview.find((o) => o.name === SYNC_STREAM)).toMatchObject({ total: 2, queued: 2 });
    expect((await agenda.queryJobs({ includeDisabled: false })).total).toBe(2);
    expect(await agenda.enable({ name: DELIVER_WEBHOOK })).toBe(2);

    expect(await agenda.cancel({ name: SYNC_STREAM, data: { stream: 'b' } })).toBe(1);
    expect(await agenda.cancel({})).toBe(0); // no criteria: nothing removed
    expect((await agenda.queryJobs({ search: 'sync' })).total).toBe(1);

    const ran: string[] = [];
    agenda.define(SYNC_STREAM, async (job: Job) => {
      ran.push((job.attrs.data as { stream: string }).stream);
    });
    await agenda.start();
    await waitFor(() => ran.length === 1, 'the remaining sync job');
    const logs = await waitFor(async () => {
      const r = await agenda.getLogs({ jobName: SYNC_STREAM, event: 'success' });
      return r.total > 0 ? r : undefined;
    }, 'a success log entry');
    expect(logs.entries[0]).toMatchObject({ jobName: SYNC_STREAM, event: 'success', level: 'info' });
    expect(await agenda.cancelAll()).toBe(3);

    // lockJob(): only an unlocked job with the expected nextRunAt can be locked, once.
    const j = await agenda.schedule(new Date(Date.now() - 10), VERIFY_INTEGRATION, { x: 1 });
    await agenda.disable({ name: VERIFY_INTEGRATION }); // keep the running processor away from it
    expect(await agenda.db.lockJob(j.attrs, undefined)).toBeUndefined(); // disabled
    await agenda.enable({ name: VERIFY_INTEGRATION }); // no definition for this name here: the processor ignores it
    const locked = await agenda.db.lockJob(j.attrs, { lastModifiedBy: 'me' });
    expect(locked?.lockedAt).toBeInstanceOf(Date);
    expect(locked?.lastModifiedBy).toBe('me');
    expect(await agenda.db.lockJob(j.attrs, undefined)).toBeUndefined(); // already locked
    await agenda.db.unlockJob(j.attrs);
    expect((await agenda.db.getJobById(String(j.attrs._id)))?.lockedAt).toBeUndefined();
  });

  it('close() releases a connection the backend opened, even if never started', async () => {
    const file = path.join(tmpDir, 'jobs.db');
    const agenda = createAgenda({ jobsUrl: `sqlite:${file}`, processEvery: POLL_MS });
    await agenda.ready;
    expect(agenda.connectError).toBeUndefined();
    await agenda.now(SYNC_STREAM, { a: 1 });
    await agenda.close();
    await expect(agenda.now(SYNC_STREAM, { a: 2 })).rejects.toThrow(/closed/);
    fs.rmSync(file); // nothing holds the file open
  });
});

// ---------------------------------------------------------------------------------------------

describe('createAgenda / PLUGBOARD_JOBS_URL', () => {
  it('selects the backend by URL and rejects anything else naming PLUGBOARD_JOBS_URL', async () => {
    const db = appDb();
    const shared = createJobsBackend({ jobsUrl: '', sqlite: db });
    expect(shared).toBeInstanceOf(SqliteBackend);
    expect(shared.ownsConnection).toBe(false);
    expect(createJobsBackend({ sqlite: db }).name).toBe('SQLite');

    const own = createJobsBackend({ jobsUrl: `sqlite:${path.join(tmpDir, 'sub', 'jobs.db')}` }) as SqliteBackend;
    expect(own.ownsConnection).toBe(true);
    await own.connect();
    expect(fs.existsSync(path.join(tmpDir, 'sub', 'jobs.db'))).toBe(true);
    await own.disconnect();

    const pgBackend = createJobsBackend({ jobsUrl: 'postgres://user:secret@127.0.0.1:1/none' });
    expect(pgBackend.name).toBe('PostgreSQL');
    await pgBackend.disconnect(); // the pool never connected
    expect(createJobsBackend({ jobsUrl: 'postgresql://127.0.0.1/x' }).name).toBe('PostgreSQL');
    expect(createJobsBackend({ jobsUrl: 'mongodb://127.0.0.1:1/agenda' }).name).toBe('MongoDB'); // lazy: connects on connect()

    expect(() => createJobsBackend({ jobsUrl: 'redis://127.0.0.1:6379' })).toThrow(/PLUGBOARD_JOBS_URL/);
    expect(() => createJobsBackend({ jobsUrl: 'mysql://u:hunter2@127.0.0.1/x' })).toThrow(/PLUGBOARD_JOBS_URL.*\*\*\*@/);
    expect(() => createJobsBackend({ jobsUrl: '' })).toThrow(/PLUGBOARD_JOBS_URL/);
  });

  it('start() rejects (instead of crashing the process) when the backend cannot connect', async () => {
    const agenda = createAgenda({ jobsUrl: 'postgres://nobody@127.0.0.1:1/none', processEvery: POLL_MS });
    await expect(agenda.start()).rejects.toThrow(/PLUGBOARD_JOBS_URL: cannot connect the PostgreSQL jobs backend/);
    await agenda.jobsBackend.disconnect();
  });
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL: required in CI; elsewhere used when a server answers on 127.0.0.1:5432.

async function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function probePostgres(): Promise<{ url?: string; reason?: string }> {
  if (!(await portOpen('127.0.0.1', 5432))) return { reason: 'nothing answers on 127.0.0.1:5432' };
  const users = [...new Set([process.env.PGUSER, 'root', 'postgres'].filter((u): u is string => !!u))];
  const errors: string[] = [];
  for (const user of users) {
    const url = `postgres://${user}@127.0.0.1:5432/test`;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url };
    } catch (err) {
      errors.push(`${user}: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  return { reason: `cannot log in to postgres://127.0.0.1:5432/test (${errors.join('; ')})` };
}

const inCI = !!process.env.CI;
const pgProbe = await probePostgres();
if (!pgProbe.url && !inCI) console.warn(`[test/jobs] skipping the PostgreSQL backend test: ${pgProbe.reason}`);

describe.skipIf(!pgProbe.url && !inCI)('createAgenda with PostgreSQL', () => {
  it('postgres:// selects @agendajs/postgres-backend and runs a job', async () => {
    if (!pgProbe.url) throw new Error(`CI is set but PostgreSQL is not usable: ${pgProbe.reason}`);
    const table = `agenda_jobs_test_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: pgProbe.url });
    await admin.connect();
    const logsExisted = (await admin.query("SELECT to_regclass('public.agenda_logs') AS t")).rows[0].t !== null;
    const agenda = createAgenda({ jobsUrl: pgProbe.url, tableName: table, processEvery: 100 });
    try {
      let received: unknown;
      agenda.define(VERIFY_INTEGRATION, async (job: Job) => {
        received = job.attrs.data;
      });
      await agenda.start();
      expect(agenda.jobsBackend.name).toBe('PostgreSQL');
      await agenda.now(VERIFY_INTEGRATION, { integrationId: 'int_pg' });
      await waitFor(() => received, 'the PostgreSQL job to run');
      expect(received).toEqual({ integrationId: 'int_pg' });
      const { rows: pgRows } = await admin.query(`SELECT last_finished_at, locked_at FROM "${table}"`);
      await waitFor(async () => (await admin.query(`SELECT 1 FROM "${table}" WHERE last_finished_at IS NOT NULL AND locked_at IS NULL`)).rowCount === 1, 'the PostgreSQL row to be finished');
      expect(pgRows).toHaveLength(1);
    } finally {
      await agenda.stop().catch(() => {});
      await admin.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
      await admin.query(`DROP FUNCTION IF EXISTS "update_${table}_updated_at"() CASCADE`);
      if (!logsExisted) await admin.query('DROP TABLE IF EXISTS agenda_logs');
      await admin.end();
    }
  });
});
