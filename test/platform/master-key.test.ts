// Keys across machines (DESIGN §10): the database records the fingerprint of its master key and a
// process holding other keys refuses to start; with PostgreSQL PLUGBOARD_MASTER_KEY is required;
// `keys rotate-master` moves the recorded fingerprint to the new key; and on PostgreSQL the
// verification jobs run on Agenda's PostgreSQL backend in the store's own schema.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { readConfig } from '../../runtime/config/env.ts';
import { createPlatform } from '../../runtime/platform/platform.ts';
import { MASTER_KEY_FINGERPRINT } from '../../runtime/platform/master-key.ts';
import { keyId } from '../../runtime/crypto/keyring.ts';
import { ConfigError } from '../../runtime/errors/plugboard-error.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { sqlOne } from '../helpers/store.ts';

const run = promisify(execFile);
const newKey = () => randomBytes(32).toString('base64');
const fingerprint = (base64: string) => keyId(Buffer.from(base64, 'base64'));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pb-mk-'));

/** Starts and closes a platform; resolves to the fingerprint recorded, or rejects with the start-up error. */
async function startOnce(env: Record<string, string>): Promise<string | undefined> {
  const fullEnv = { PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors'), PLUGBOARD_JOBS_POLL_MS: '50', ...env };
  const platform = await createPlatform(readConfig(fullEnv), { logger: pino({ level: 'silent' }), env: fullEnv });
  try {
    return await platform.store.settings.get(MASTER_KEY_FINGERPRINT);
  } finally {
    await platform.close();
  }
}

async function refusal(env: Record<string, string>): Promise<ConfigError> {
  const err = await startOnce(env).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

/** `./bin/plugboard keys rotate-master` as an operator runs it. */
async function rotateMaster(env: Record<string, string>): Promise<{ master_key_id: string; rewrapped: number; still_on_old_keys: number }> {
  const { stdout } = await run(path.join(PROJECT_ROOT, 'bin/plugboard'), ['keys', 'rotate-master'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors'), ...env },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('master key fingerprint on SQLite', () => {
  it('PLUGBOARD_MASTER_KEY: recorded on first start, a different key refused, the same key and "NEW,OLD" accepted', async () => {
    const dir = tmp();
    const db = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}` };
    const a = newKey();
    expect(await startOnce({ ...db, PLUGBOARD_MASTER_KEY: a })).toBe(fingerprint(a));
    const other = await refusal({ ...db, PLUGBOARD_MASTER_KEY: newKey() });
    expect(other.message).toMatch(/^PLUGBOARD_MASTER_KEY: /);
    expect(other.message).toContain(fingerprint(a));
    expect(other.message).not.toContain(a);
    expect(other.message).not.toContain('\n');
    expect(await startOnce({ ...db, PLUGBOARD_MASTER_KEY: a })).toBe(fingerprint(a));
    expect(await startOnce({ ...db, PLUGBOARD_MASTER_KEY: `${newKey()},${a}` })).toBe(fingerprint(a));
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
  });

  it('a database from before fingerprints: a key that cannot open its sealed credentials is refused and records nothing', async () => {
    const dir = tmp();
    const db = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}`, PLUGBOARD_MASTER_KEY: newKey() };
    const pb = await startTestPlatform(db);
    const t = await pb.tenant();
    const created = await pb.api(t.key, 'POST', '/api/v1/integrations', { provider: 'twilio', credentials: { account_sid: 'AC' + 'a'.repeat(32), auth_token: 'f'.repeat(32), from_number: '+15005550006' } });
    expect(created.status).toBe(201);
    // As written by a version that recorded no fingerprint.
    await sqlOne(pb.platform.store, 'DELETE FROM plugboard_settings WHERE key = ?', MASTER_KEY_FINGERPRINT);
    await pb.close();
    const wrong = await refusal({ ...db, PLUGBOARD_MASTER_KEY: newKey() });
    expect(wrong.message).toMatch(/^PLUGBOARD_MASTER_KEY: .*sealed with .*mk_/);
    // The right key still starts, and is the one recorded.
    expect(await startOnce(db)).toBe(fingerprint(db.PLUGBOARD_MASTER_KEY));
  });

  it('key file: a replaced key file is refused; rotate-master records the new key and the stale file is refused', async () => {
    const dir = tmp();
    const env = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}` };
    const keyFile = path.join(dir, 'master.key');
    const first = await startOnce(env);
    const created = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as { keys: string[] };
    expect(first).toBe(fingerprint(created.keys[0]!));
    const stale = fs.readFileSync(keyFile);

    fs.writeFileSync(keyFile, JSON.stringify({ keys: [newKey()] }), { mode: 0o600 });
    const refused = await refusal(env);
    expect(refused.message).toContain(keyFile);
    expect(refused.message).toContain('PLUGBOARD_MASTER_KEY');
    fs.writeFileSync(keyFile, stale, { mode: 0o600 });

    const rotated = await rotateMaster(env);
    const now = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as { keys: string[] };
    expect(rotated.master_key_id).toBe(fingerprint(now.keys[0]!));
    expect(await startOnce(env)).toBe(rotated.master_key_id);
    fs.writeFileSync(keyFile, stale, { mode: 0o600 }); // a machine still holding the pre-rotation file
    expect((await refusal(env)).message).toContain(rotated.master_key_id);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL: when a server answers on 127.0.0.1:5432; in CI a missing server fails the tests.

const PG_URL = process.env.PLUGBOARD_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const inCI = !!process.env.CI;
const pgUp = await new Promise<boolean>((resolve) => {
  const u = new URL(PG_URL);
  const s = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
  const done = (ok: boolean) => (s.destroy(), resolve(ok));
  s.setTimeout(1000, () => done(false));
  s.once('connect', () => done(true));
  s.once('error', () => done(false));
});
if (!pgUp && !inCI) console.warn(`[test/platform/master-key] skipping the PostgreSQL tests: nothing answers at ${new URL(PG_URL).host}`);

describe.skipIf(!pgUp && !inCI)('master key and jobs on PostgreSQL', () => {
  const schemas: string[] = [];
  /** A fresh schema of its own (dropped after the file) as PLUGBOARD_DATABASE_URL. */
  const database = (): { PLUGBOARD_DATABASE_URL: string; schema: string } => {
    if (!pgUp) throw new Error(`CI is set but PostgreSQL does not answer at ${new URL(PG_URL).host}`);
    const schema = `t_mk_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    const u = new URL(PG_URL);
    u.searchParams.set('schema', schema);
    u.searchParams.set('pool_size', '4');
    return { PLUGBOARD_DATABASE_URL: u.toString(), schema };
  };
  const query = async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      return (await c.query<T>(text, params)).rows;
    } finally {
      await c.end();
    }
  };

  afterAll(async () => {
    if (pgUp) for (const s of schemas) await query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  });

  it('without PLUGBOARD_MASTER_KEY start-up refuses, naming the variable, and creates no key file', async () => {
    const { PLUGBOARD_DATABASE_URL, schema } = database();
    const keyFile = path.join(tmp(), 'master.key');
    const err = await refusal({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY_FILE: keyFile });
    expect(err.message).toMatch(/^PLUGBOARD_MASTER_KEY is required with a PostgreSQL PLUGBOARD_DATABASE_URL/);
    expect(fs.existsSync(keyFile)).toBe(false);
    // Refused before anything was written to the database.
    expect(await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
  });

  it('a second start with a different key refuses; the same key starts; after rotate-master the new key list works', async () => {
    const { PLUGBOARD_DATABASE_URL, schema } = database();
    const oldKey = newKey();
    const nextKey = newKey();
    expect(await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: oldKey })).toBe(fingerprint(oldKey));
    const stored = await query<{ key: string; value: string }>(`SELECT key, value FROM "${schema}".plugboard_settings`);
    expect(stored).toEqual([{ key: MASTER_KEY_FINGERPRINT, value: fingerprint(oldKey) }]);

    const wrong = await refusal({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: nextKey });
    expect(wrong.message).toMatch(/^PLUGBOARD_MASTER_KEY: /);
    expect(wrong.message).toContain(fingerprint(oldKey));
    expect(await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: oldKey })).toBe(fingerprint(oldKey));

    // Rotation as documented: every process gets "NEW,OLD", then rotate-master, then OLD is dropped.
    expect(await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: `${nextKey},${oldKey}` })).toBe(fingerprint(oldKey));
    const rotated = await rotateMaster({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: `${nextKey},${oldKey}` });
    expect(rotated).toMatchObject({ master_key_id: fingerprint(nextKey), still_on_old_keys: 0 });
    expect(await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: nextKey })).toBe(fingerprint(nextKey));
    expect(await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: `${nextKey},${oldKey}` })).toBe(fingerprint(nextKey));
    expect((await refusal({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: oldKey })).message).toContain(fingerprint(nextKey));
  }, 60_000);

  it('rotate-master refuses without PLUGBOARD_MASTER_KEY and with keys that do not include the recorded one', async () => {
    const { PLUGBOARD_DATABASE_URL } = database();
    const key = newKey();
    await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: key });
    const missing = await rotateMaster({ PLUGBOARD_DATABASE_URL }).then(() => undefined, (e: { stderr: string; code: number }) => e);
    expect(missing?.code).not.toBe(0);
    expect(missing?.stderr).toMatch(/PLUGBOARD_MASTER_KEY is required/);
    const stranger = await rotateMaster({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: `${newKey()},${newKey()}` }).then(() => undefined, (e: { stderr: string; code: number }) => e);
    expect(stranger?.code).not.toBe(0);
    expect(stranger?.stderr).toContain(fingerprint(key));
    expect(await startOnce({ PLUGBOARD_DATABASE_URL, PLUGBOARD_MASTER_KEY: key })).toBe(fingerprint(key));
  }, 60_000);

  it('verification jobs run on the PostgreSQL Agenda backend, in the store schema', async () => {
    const { PLUGBOARD_DATABASE_URL, schema } = database();
    // The provider holds its answer until the test has looked at the job row the worker has locked.
    let arrived = false;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const stripeApi = http.createServer((req, res) => {
      req.resume();
      arrived = true;
      void released.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'balance' })));
    });
    await new Promise<void>((r) => stripeApi.listen(0, '127.0.0.1', r));
    const pb = await startTestPlatform({
      PLUGBOARD_DATABASE_URL,
      PLUGBOARD_MASTER_KEY: newKey(),
      PLUGBOARD_BASE_URL_STRIPE: `http://127.0.0.1:${(stripeApi.address() as AddressInfo).port}`,
    });
    try {
      expect(pb.platform.agenda.jobsBackend.name).toBe('PostgreSQL');
      const t = await pb.tenant('Jobs On Postgres');
      const r = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_JobsOnPostgres0000' } });
      expect(r.status, r.text).toBe(201);
      const id = r.body.data.id as string;
      await pb.waitFor(async () => arrived, 'the verification request');
      const jobs = await query<{ name: string; data: { integration_id?: string }; locked_at: Date | null }>(`SELECT name, data, locked_at FROM "${schema}".agenda_jobs`);
      expect(jobs).toEqual([{ name: 'verify-integration', data: expect.objectContaining({ integration_id: id }), locked_at: expect.any(Date) }]);
      // The store sees the same table through its own connection (search_path = the schema).
      expect(await sqlOne(pb.platform.store, "SELECT name FROM agenda_jobs WHERE name = 'verify-integration'")).toEqual({ name: 'verify-integration' });
      release();
      await pb.waitFor(async () => (await pb.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'verification to finish');
      // (An active stripe integration also gets its streams' recurring sync-stream jobs.)
      await pb.waitFor(async () => !(await query(`SELECT 1 FROM "${schema}".agenda_jobs WHERE name = 'verify-integration'`)).length, 'the finished job to be removed');
    } finally {
      release();
      await pb.close();
      stripeApi.close();
    }
  }, 60_000);
});
