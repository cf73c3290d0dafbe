// The database a test platform runs on, chosen by PLUGBOARD_TEST_STORE (sqlite, the default, or
// postgres), and dialect-neutral raw SQL for tests that read or poke rows directly.
// PostgreSQL: every platform gets a fresh schema (t_<random>) in PLUGBOARD_TEST_PG_URL's database
// (default postgres://postgres@127.0.0.1:5432/test), dropped when the platform closes, so test
// files stay parallel.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../../runtime/store/types.ts';
import type { SqlStore } from '../../runtime/store/sql/store.ts';

export type TestStoreKind = 'sqlite' | 'postgres';

export const TEST_PG_URL = process.env.PLUGBOARD_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

export function testStoreKind(): TestStoreKind {
  const v = process.env.PLUGBOARD_TEST_STORE || 'sqlite';
  if (v !== 'sqlite' && v !== 'postgres') throw new Error(`PLUGBOARD_TEST_STORE must be sqlite or postgres, got "${v}"`);
  return v;
}

export interface TestDatabase {
  kind: TestStoreKind;
  /** PLUGBOARD_DATABASE_URL (and PLUGBOARD_MASTER_KEY on PostgreSQL: there is no key file next to it). */
  env: Record<string, string>;
  /** The SQLite file (on PostgreSQL a path that is never created). */
  dbFile: string;
  /** PostgreSQL only: the schema. */
  schema?: string;
  /** Everything stored, as text, for secret searches (see TestPlatform.dumpDatabase). */
  dump(): Promise<string>;
  /** PostgreSQL: drops the schema. SQLite: nothing (the temp directory stays for inspection). */
  drop(): Promise<void>;
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A value as searchable text: bytes as latin1 (a secret stored raw in a blob is found too). */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function newTestDatabase(dir: string, kind = testStoreKind()): TestDatabase {
  const dbFile = path.join(dir, 'plugboard.db');
  if (kind === 'sqlite') {
    return {
      kind,
      dbFile,
      env: { PLUGBOARD_DATABASE_URL: `sqlite:${dbFile}` },
      // The main file and its WAL (recent writes live only there until a checkpoint).
      dump: async () => [dbFile, `${dbFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1')).join('\n'),
      drop: async () => undefined,
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('schema', schema);
  return {
    kind,
    dbFile,
    schema,
    env: { PLUGBOARD_DATABASE_URL: url.toString(), PLUGBOARD_MASTER_KEY: randomBytes(32).toString('base64') },
    dump: () =>
      withClient(async (c) => {
        const tables = await c.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, [schema]);
        if (!tables.rows.length) throw new Error(`schema ${schema} has no tables: nothing to search`);
        const out: string[] = [];
        for (const { table_name } of tables.rows) {
          const rows = await c.query(`SELECT * FROM "${schema}"."${table_name}"`);
          for (const row of rows.rows as Record<string, unknown>[]) out.push(`${table_name}: ${Object.values(row).map(text).join(' | ')}`);
        }
        return out.join('\n');
      }),
    drop: () => withClient(async (c) => void (await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))),
  };
}

/**
 * Runs one raw SQL statement (`?` placeholders) on the store's own connection, SQLite or
 * PostgreSQL, and returns its rows. Write SQL both dialects accept.
 */
export async function sqlQuery<T = Record<string, unknown>>(store: Store, text: string, ...params: unknown[]): Promise<T[]> {
  const conn = (store as unknown as SqlStore).conn;
  return (await conn.raw<T>(conn.db, text, params)).rows;
}

/** The first row of sqlQuery (undefined when none). */
export async function sqlOne<T = Record<string, unknown>>(store: Store, text: string, ...params: unknown[]): Promise<T | undefined> {
  return (await sqlQuery<T>(store, text, ...params))[0];
}

/** Agenda's jobs of one name from the application's database: next_run_at as epoch ms, data parsed. */
export async function agendaJobs(store: Store, name: string): Promise<Array<{ next_run_at: number; repeat_interval: string | null; data: Record<string, unknown> }>> {
  const rows = await sqlQuery<{ next_run_at: unknown; repeat_interval: string | null; data: unknown }>(store, 'SELECT next_run_at, repeat_interval, data FROM agenda_jobs WHERE name = ?', name);
  return rows.map((r) => ({
    next_run_at: r.next_run_at instanceof Date ? r.next_run_at.getTime() : Number(r.next_run_at),
    repeat_interval: r.repeat_interval ?? null,
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>,
  }));
}

/** Makes Agenda's jobs of one name due now (only those whose data matches `where`, when given). */
export async function runAgendaJobsNow(store: Store, name: string, where: (data: Record<string, unknown>) => boolean = () => true): Promise<number> {
  const pgStore = (store as unknown as SqlStore).conn.postgres;
  const rows = await sqlQuery<{ id: unknown; data: unknown }>(store, 'SELECT id, data FROM agenda_jobs WHERE name = ?', name);
  let n = 0;
  for (const r of rows) {
    const data = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>;
    if (!where(data)) continue;
    await sqlQuery(store, 'UPDATE agenda_jobs SET next_run_at = ? WHERE id = ?', pgStore ? new Date() : Date.now(), r.id);
    n++;
  }
  return n;
}
