// The PostgreSQL store itself: migrations (recorded, never twice at once), the append-only audit
// log, the URL parameters and their errors, and rate-limit budgets shared between processes.
// Every test works in its own schema of TEST_PG_URL's database, dropped at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { PostgresStore } from '../../runtime/store/postgres/store.ts';
import { POSTGRES_MIGRATIONS, migratePostgres } from '../../runtime/store/postgres/migrations.ts';
import { createPool, ensureSchema, postgresSettings } from '../../runtime/store/postgres/connection.ts';
import { openStore, type MigrationReport } from '../../runtime/store/index.ts';
import { ConfigError } from '../../runtime/errors/plugboard-error.ts';
import { dropSchemas, postgresGate, schemaUrl } from './postgres-available.ts';

const gate = await postgresGate('test/store/postgres-store.test.ts');
const LATEST = POSTGRES_MIGRATIONS.length;

describe.skipIf(gate.skip)('PostgresStore', () => {
  const schemas = new Set<string>();
  const stores: PostgresStore[] = [];
  const pools: pg.Pool[] = [];

  /** A store on a fresh schema (or on `schema`), closed in afterAll. */
  function store(params: Record<string, string> = {}, schema?: string, opts: { rateLimitTimeoutMs?: number } = {}): PostgresStore {
    const s = schemaUrl(params, schema);
    schemas.add(s.schema);
    const st = new PostgresStore(s.url, opts);
    stores.push(st);
    return st;
  }

  beforeAll(() => {
    if (gate.reason) throw new Error(`PostgreSQL is required when CI is set: ${gate.reason}`);
  });

  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    for (const p of pools) await p.end().catch(() => undefined);
    await dropSchemas(schemas);
  });

  it('applies every migration once, records it, and reports from/to', async () => {
    const s = store();
    expect(await s.schemaVersion()).toBe(0);
    expect(await s.migrateReport()).toEqual({ from: 0, to: LATEST });
    const { rows } = await s.pool.query<{ version: number; applied_at: string }>('SELECT version, applied_at FROM plugboard_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: LATEST }, (_, i) => i + 1));
    for (const r of rows) expect(Number.isNaN(Date.parse(r.applied_at))).toBe(false);
    expect(await s.schemaVersion()).toBe(LATEST);
    // A second start has nothing to do.
    expect(await s.migrateReport()).toEqual({ from: LATEST, to: LATEST });
    // The tables are in the store's own schema, not in public.
    const tables = await s.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('tenants', 'audit_log', 'rate_limits', 'plugboard_settings')`,
      [s.connectionSettings.schema],
    );
    expect(tables.rows[0]!.n).toBe(4);
  });

  it('two stores migrating one fresh schema at once apply each migration exactly once', async () => {
    const a = store();
    const b = store({}, a.connectionSettings.schema);
    const runs = await Promise.all([a.migrateReport(), b.migrateReport()]);
    expect(runs.map((r) => r.from).sort()).toEqual([0, LATEST]);
    expect(runs.every((r) => r.to === LATEST)).toBe(true);
    const { rows } = await a.pool.query<{ version: number; n: number }>('SELECT version, count(*)::int AS n FROM plugboard_migrations GROUP BY version ORDER BY version');
    expect(rows).toEqual(Array.from({ length: LATEST }, (_, i) => ({ version: i + 1, n: 1 })));
  });

  it('holds concurrent runners back until the running one has finished (advisory lock)', async () => {
    const { schema, url } = schemaUrl();
    schemas.add(schema);
    // A slow migration that counts its runs: without the lock, the three runners would each run it.
    const migrations = [`CREATE TABLE runs (n integer); SELECT pg_sleep(0.3); INSERT INTO runs VALUES (1);`, `INSERT INTO runs VALUES (2);`];
    const three = [0, 1, 2].map(() => createPool(postgresSettings(url)));
    pools.push(...three);
    await Promise.all(three.map((p) => ensureSchema(p, schema)));
    const runs = await Promise.all(three.map((p) => migratePostgres(p, migrations)));
    expect(runs.map((r) => r.from).sort()).toEqual([0, 2, 2]);
    const { rows } = await three[0]!.query<{ n: number }>('SELECT n FROM runs ORDER BY n');
    expect(rows.map((r) => r.n)).toEqual([1, 2]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit_log in the database', async () => {
    const s = store();
    await s.migrate();
    await s.pool.query(`INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'T', '2026-01-01T00:00:00Z')`);
    await s.pool.query(`INSERT INTO audit_log (id, tenant_id, actor, action, target_type, changed_fields, created_at) VALUES ('a1', 't1', 'key:1', 'create', 'integration', '[]', '2026-01-01T00:00:00Z')`);
    await expect(s.pool.query(`UPDATE audit_log SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
    await expect(s.pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(s.pool.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    const { rows } = await s.pool.query('SELECT id, actor FROM audit_log');
    expect(rows).toEqual([{ id: 'a1', actor: 'key:1' }]);
    // Appending still works.
    await s.pool.query(`INSERT INTO audit_log (id, tenant_id, actor, action, target_type, changed_fields, created_at) VALUES ('a2', 't1', 'key:1', 'delete', 'integration', '[]', '2026-01-01T00:00:01Z')`);
  });

  it('applies pool_size, statement_timeout and schema from the URL', async () => {
    const s = store({ pool_size: '3', statement_timeout: '200' });
    await s.migrate();
    expect(s.pool.options.max).toBe(3);
    expect((await s.pool.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('200ms');
    expect((await s.pool.query('SELECT current_schema() AS s')).rows[0].s).toBe(s.connectionSettings.schema);
    const started = Date.now();
    await expect(s.pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' }); // query_canceled
    expect(Date.now() - started).toBeLessThan(1500);
    // Plugboard's own parameters never reach the server as connection options.
    expect(s.connectionSettings.connectionString).not.toMatch(/pool_size|statement_timeout|schema=/);
  });

  it('refuses invalid URL parameters with an error naming PLUGBOARD_DATABASE_URL', async () => {
    const bad = ['pool_size=0', 'pool_size=abc', 'pool_size=2.5', 'statement_timeout=-1', 'schema=Bad-Name', 'schema=a;drop'];
    for (const p of bad) {
      const url = `postgres://postgres@127.0.0.1:5432/test?${p}`;
      expect(() => new PostgresStore(url), p).toThrow(ConfigError);
      expect(() => new PostgresStore(url), p).toThrow(/^PLUGBOARD_DATABASE_URL: /);
      await expect(openStore(url), p).rejects.toThrow(ConfigError);
    }
    expect(() => postgresSettings('postgres://[bad')).toThrow(/PLUGBOARD_DATABASE_URL/);
  });

  it('opens with openStore (postgres:// and postgresql://) and reports the migration', async () => {
    for (const scheme of ['postgres', 'postgresql']) {
      const { schema, url } = schemaUrl();
      schemas.add(schema);
      let report: MigrationReport | undefined;
      const st = await openStore(url.replace(/^postgres:/, `${scheme}:`), { onMigrated: (r) => (report = r) });
      try {
        expect(st.kind).toBe('postgres');
        expect(report).toMatchObject({ from: 0, to: LATEST });
        expect(report!.database).toContain(schema);
        await st.ping();
      } finally {
        await st.close();
        await st.close(); // closing twice is harmless
      }
    }
  });

  it('names the variable, hides the password and stays on one line when the server is unreachable', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const err = await openStore('postgres://plugboard:s3cretpw@127.0.0.1:1/test?password=other-secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^PLUGBOARD_DATABASE_URL: cannot open PostgreSQL database /);
    expect(msg).toMatch(/ECONNREFUSED/);
    expect(msg).not.toMatch(/s3cretpw|other-secret/);
    expect(msg).not.toContain('\n');
  });

  it('shares one rate-limit budget between two store instances', async () => {
    const a = store();
    await a.migrate();
    const b = store({}, a.connectionSettings.schema);
    const opts = { keyPrefix: 'shared', points: 5, duration: 60 };
    const limiters = [a.rateLimits.limiter(opts), b.rateLimits.limiter(opts)];
    expect(limiters[0]!.points).toBe(5);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await consume(limiters[i % 2]!, 'tenant:t1'));
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'over', 'over', 'over']);
    // Counted in the database (not two in-memory budgets of 5 each).
    const { rows } = await a.pool.query<{ points: number }>(`SELECT points FROM rate_limits WHERE key = 'shared:tenant:t1'`);
    expect(rows[0]!.points).toBe(8);
  });

  it('counts several windows in one round trip, shared by two store instances', async () => {
    const a = store();
    await a.migrate();
    const b = store({}, a.connectionSettings.schema);
    const windows = [{ key: 'b:60:cred:k1', durationSeconds: 60 }, { key: 'h:3600:cred:k1', durationSeconds: 3600 }];
    expect((await a.rateLimits.hit(windows)).map((c) => c.hits)).toEqual([1, 1]);
    const second = await b.rateLimits.hit(windows);
    expect(second.map((c) => c.hits)).toEqual([2, 2]);
    expect(second[0]!.msBeforeReset).toBeGreaterThan(50_000);
    const { rows } = await a.pool.query<{ points: number }>(`SELECT points FROM rate_limits WHERE key = 'h:3600:cred:k1'`);
    expect(rows[0]!.points).toBe(2);
  });

  it('counts windows in memory when the database errors or is slower than the timeout', async () => {
    const broken = store(); // never migrated: there is no rate_limits table
    const w = [{ key: 'x:60:k', durationSeconds: 60 }];
    expect([(await broken.rateLimits.hit(w))[0]!.hits, (await broken.rateLimits.hit(w))[0]!.hits]).toEqual([1, 2]);
    const s = store({}, undefined, { rateLimitTimeoutMs: 200 });
    await s.migrate();
    expect((await s.rateLimits.hit(w))[0]!.hits).toBe(1);
    const holder = await s.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM rate_limits WHERE key = 'x:60:k' FOR UPDATE`);
      const started = Date.now();
      // Answered by the in-memory windows (their own count), not after the lock is released.
      expect((await s.rateLimits.hit(w))[0]!.hits).toBe(1);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('falls back to the in-memory limiter when the database errors', async () => {
    const s = store(); // never migrated: there is no rate_limits table
    const l = s.rateLimits.limiter({ keyPrefix: 'ins', points: 2, duration: 60 });
    expect([await consume(l, 'k'), await consume(l, 'k'), await consume(l, 'k')]).toEqual(['ok', 'ok', 'over']);
  });

  it('falls back to the in-memory limiter when the database is slower than the timeout', async () => {
    const s = store({}, undefined, { rateLimitTimeoutMs: 200 });
    await s.migrate();
    const l = s.rateLimits.limiter({ keyPrefix: 'slow', points: 3, duration: 60 });
    expect(await consume(l, 'k')).toBe('ok');
    // Another session holds the counter's row: the limiter's upsert waits on it.
    const holder = await s.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM rate_limits WHERE key = 'slow:k' FOR UPDATE`);
      const started = Date.now();
      expect(await consume(l, 'k')).toBe('ok');
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});

async function consume(l: RateLimiterAbstract, key: string): Promise<'ok' | 'over'> {
  try {
    await l.consume(key);
    return 'ok';
  } catch (res) {
    if (res instanceof RateLimiterRes) return 'over';
    throw res;
  }
}
