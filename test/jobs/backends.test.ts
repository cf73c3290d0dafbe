// Agenda's backends chosen by PLUGBOARD_JOBS_URL: PostgreSQL (pool settings, schema, table and
// LISTEN/NOTIFY channel from the URL; a real run in its own schema when PostgreSQL answers) and
// MongoDB (no server on these machines: its wiring, URL checks and a failed connect).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Job } from 'agenda';
import { createAgenda, createJobsBackend, JobsConfigError, VERIFY_INTEGRATION, type PlugboardAgenda } from '../../runtime/jobs/agenda.ts';
import { MongoJobsBackend, PostgresJobsBackend } from '../../runtime/jobs/backends.ts';

const opened: Array<{ disconnect(): Promise<void> }> = [];
afterEach(async () => {
  for (const b of opened.splice(0)) await b.disconnect().catch(() => undefined);
});

function pgBackend(url: string, tableName?: string): PostgresJobsBackend {
  const b = createJobsBackend({ jobsUrl: url, tableName });
  opened.push(b);
  expect(b).toBeInstanceOf(PostgresBackend);
  expect(b).toBeInstanceOf(PostgresJobsBackend);
  return b as PostgresJobsBackend;
}

function configError(fn: () => unknown): JobsConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(JobsConfigError);
    return err as JobsConfigError;
  }
  throw new Error('expected a JobsConfigError');
}

describe('PLUGBOARD_JOBS_URL=postgres://', () => {
  it("takes pool_size, statement_timeout and schema from the URL, never passing them to pg, and keeps pg's own parameters", () => {
    const b = pgBackend('postgres://jobs:s3cret@127.0.0.1:1/app?pool_size=7&statement_timeout=1500&schema=jobs_x&sslmode=disable');
    expect(b.schema).toBe('jobs_x');
    expect(b.tableName).toBe('agenda_jobs');
    expect(b.poolConfig).toMatchObject({ max: 7, statement_timeout: 1500, options: '-c search_path=jobs_x' });
    const conn = new URL(b.poolConfig.connectionString!);
    expect([...conn.searchParams.keys()]).toEqual(['sslmode']);
    expect(`${conn.username}:${conn.password}@${conn.host}${conn.pathname}`).toBe('jobs:s3cret@127.0.0.1:1/app');
    // The pool the backend really uses was built from that configuration.
    expect(b.pool.options).toMatchObject({ max: 7, statement_timeout: 1500, options: '-c search_path=jobs_x' });
    expect(b.pool.options.connectionString).toBe(b.poolConfig.connectionString);
    // LISTEN/NOTIFY stays on, on a channel of its own schema (channels are per database).
    expect(b.notificationChannel).toBeDefined();
    expect(b.channelName).toBe('jobs_x.agenda_jobs');
    expect(b.ownsConnection).toBe(true);
  });

  it('defaults: public schema (no search_path), pool of 10, 30 s statement timeout; a custom table names the channel', () => {
    const b = pgBackend('postgresql://127.0.0.1:1/app');
    expect(b.schema).toBeUndefined();
    expect(b.poolConfig.options).toBeUndefined();
    expect(b.poolConfig).toMatchObject({ max: 10, statement_timeout: 30_000 });
    expect(b.channelName).toBe('agenda_jobs');
    const custom = pgBackend('postgres://127.0.0.1:1/app?schema=s1&statement_timeout=0', 'my_jobs');
    expect(custom.tableName).toBe('my_jobs');
    expect(custom.channelName).toBe('s1.my_jobs');
    expect(custom.poolConfig.statement_timeout).toBeUndefined();
    // LISTEN keeps one connection: a pool of one would leave none for the job queries.
    expect(pgBackend('postgres://127.0.0.1:1/app?pool_size=1').poolConfig.max).toBe(2);
  });

  it('a long schema name gets a hashed channel that PostgreSQL will not truncate onto its :state twin', () => {
    const schema = 's'.repeat(60);
    const a = pgBackend(`postgres://127.0.0.1:1/app?schema=${schema}`);
    const b = pgBackend(`postgres://127.0.0.1:1/app?schema=${schema.slice(0, 59)}t`);
    expect(Buffer.byteLength(`${a.channelName}:state`)).toBeLessThanOrEqual(63);
    expect(a.channelName).not.toBe(b.channelName);
  });

  it('bad parameters are configuration errors naming PLUGBOARD_JOBS_URL', () => {
    expect(configError(() => createJobsBackend({ jobsUrl: 'postgres://127.0.0.1/app?pool_size=0' })).message).toMatch(/^PLUGBOARD_JOBS_URL: pool_size must be an integer/);
    expect(configError(() => createJobsBackend({ jobsUrl: 'postgres://127.0.0.1/app?statement_timeout=soon' })).message).toMatch(/^PLUGBOARD_JOBS_URL: statement_timeout/);
    expect(configError(() => createJobsBackend({ jobsUrl: 'postgres://127.0.0.1/app?schema=Bad-Name' })).message).toMatch(/^PLUGBOARD_JOBS_URL: schema must be/);
    const bad = configError(() => createJobsBackend({ jobsUrl: 'postgres://u:hunter2@[nope/app' }));
    expect(bad.message).toMatch(/PLUGBOARD_JOBS_URL/);
    expect(bad.message).not.toContain('hunter2');
    expect(configError(() => createJobsBackend({ jobsUrl: 'redis://127.0.0.1:6379' })).message).toMatch(/PLUGBOARD_JOBS_URL must be/);
  });
});

describe('PLUGBOARD_JOBS_URL=mongodb:// (wiring only: no MongoDB server on these machines)', () => {
  it('mongodb:// and mongodb+srv:// give a MongoBackend with that address and the collection', () => {
    const plain = createJobsBackend({ jobsUrl: 'mongodb://127.0.0.1:27017,10.0.0.2:27018/agenda?replicaSet=rs0' });
    expect(plain).toBeInstanceOf(MongoBackend);
    expect(plain).toMatchObject({ name: 'MongoDB', address: 'mongodb://127.0.0.1:27017,10.0.0.2:27018/agenda?replicaSet=rs0', collection: 'agendaJobs', ownsConnection: true });
    const srv = createJobsBackend({ jobsUrl: 'mongodb+srv://app:pw@cluster0.example.net/agenda?retryWrites=true', tableName: 'jobs' }) as MongoJobsBackend;
    expect(srv).toBeInstanceOf(MongoBackend);
    expect(srv).toMatchObject({ address: 'mongodb+srv://app:pw@cluster0.example.net/agenda?retryWrites=true', collection: 'jobs' });
    expect(srv.notificationChannel).toBeUndefined(); // Agenda polls MongoDB (processEvery)
  });

  it('malformed MongoDB URLs are configuration errors naming PLUGBOARD_JOBS_URL, without the password', () => {
    for (const url of ['mongodb://', 'mongodb:///agenda', 'mongodb://u:hunter2@/agenda', 'mongodb://a b/agenda', 'mongodb+srv://cluster0.example.net:27017/agenda', 'mongodb+srv://a.example.net,b.example.net/agenda']) {
      const err = configError(() => createJobsBackend({ jobsUrl: url }));
      expect(err.message, url).toMatch(/^PLUGBOARD_JOBS_URL: .* is not a MongoDB URL/);
      expect(err.message).not.toContain('hunter2');
    }
  });

  it('a MongoDB that does not answer is a JobsConfigError from start() and connectError, never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const agenda = createAgenda({ jobsUrl: 'mongodb://127.0.0.1:1/agenda?serverSelectionTimeoutMS=300&connectTimeoutMS=300', processEvery: 100 });
    try {
      await agenda.ready;
      expect(agenda.connectError).toBeInstanceOf(Error);
      const started = agenda.start();
      await expect(started).rejects.toBeInstanceOf(JobsConfigError);
      await expect(started).rejects.toThrow(/^PLUGBOARD_JOBS_URL: cannot connect the MongoDB jobs backend: /);
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await agenda.close().catch(() => undefined);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL for real: when a server answers on 127.0.0.1:5432; in CI a missing server fails.

const PG_URL = process.env.PLUGBOARD_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const inCI = !!process.env.CI;

async function postgresAnswers(): Promise<boolean> {
  const u = new URL(PG_URL);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const pgUp = await postgresAnswers();
if (!pgUp && !inCI) console.warn(`[test/jobs/backends] skipping the PostgreSQL runs: nothing answers at ${new URL(PG_URL).host}`);

describe.skipIf(!pgUp && !inCI)('PLUGBOARD_JOBS_URL=postgres://...?schema= on a real server', () => {
  const schema = `t_jobs_${randomBytes(5).toString('hex')}`;
  const url = (() => {
    const u = new URL(PG_URL);
    u.searchParams.set('schema', schema);
    u.searchParams.set('pool_size', '3');
    return u.toString();
  })();
  const agendas: PlugboardAgenda[] = [];
  let admin: pg.Client | undefined;

  const client = async () => {
    if (!pgUp) throw new Error(`CI is set but PostgreSQL does not answer at ${new URL(PG_URL).host}`);
    if (!admin) {
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
    }
    return admin;
  };

  afterAll(async () => {
    for (const a of agendas) await a.close().catch(() => undefined);
    if (admin) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });

  it('creates the schema, keeps the jobs table in it, and wakes a polling-idle worker by NOTIFY', async () => {
    const c = await client();
    expect((await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
    // Both poll once a minute: a job added by one reaches the other within seconds only by LISTEN/NOTIFY.
    const worker = createAgenda({ jobsUrl: url, processEvery: 60_000 });
    const producer = createAgenda({ jobsUrl: url, processEvery: 60_000 });
    agendas.push(worker, producer);
    const ran: unknown[] = [];
    worker.define(VERIFY_INTEGRATION, async (job: Job) => {
      ran.push(job.attrs.data);
    });
    await worker.start();
    await producer.start();
    expect((await c.query(`SELECT to_regclass($1) AS t`, [`${schema}.agenda_jobs`])).rows[0].t).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300)); // the worker's first poll is over
    await producer.now(VERIFY_INTEGRATION, { integrationId: 'int_notify' });
    const deadline = Date.now() + 10_000;
    while (!ran.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(ran).toEqual([{ integrationId: 'int_notify' }]);
    const rows = await c.query(`SELECT name, data FROM "${schema}".agenda_jobs`);
    expect(rows.rows).toEqual([{ name: VERIFY_INTEGRATION, data: { integrationId: 'int_notify' } }]);
    // The worker listens on its schema's channel.
    const listening = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${schema}.agenda_jobs:state"`]);
    expect(listening.rows[0].n).toBeGreaterThanOrEqual(1);
  });
});
