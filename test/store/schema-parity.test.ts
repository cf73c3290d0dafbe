// The SQLite and PostgreSQL migrations must build the same schema (the SQL repositories and row
// mappers are shared): same tables, columns, nullability, defaults, type families, primary keys and
// named indexes (with their uniqueness, columns and partial-ness). A change to one migration set
// without the other fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { SQLITE_MIGRATIONS } from '../../runtime/store/sqlite/migrations.ts';
import { migratePostgres } from '../../runtime/store/postgres/migrations.ts';
import { createPool, ensureSchema, postgresSettings } from '../../runtime/store/postgres/connection.ts';
import { dropSchemas, postgresGate, schemaUrl } from './postgres-available.ts';

const gate = await postgresGate('test/store/schema-parity.test.ts');

interface Column {
  type: string;
  notNull: boolean;
  default: string | null;
}
interface Index {
  unique: boolean;
  partial: boolean;
  columns: string[];
}
interface Schema {
  columns: Record<string, Record<string, Column>>;
  primaryKeys: Record<string, string[]>;
  indexes: Record<string, Index>;
}

/** The column types compared, as families: SQLite's declared type and PostgreSQL's data type. */
const FAMILY: Record<string, string> = {
  TEXT: 'text',
  INTEGER: 'integer',
  REAL: 'real',
  BLOB: 'blob',
  text: 'text',
  'character varying': 'text',
  integer: 'integer',
  bigint: 'integer',
  'double precision': 'real',
  bytea: 'blob',
};

/** Defaults without PostgreSQL's casts: `'basic'::text` is SQLite's `'basic'`. */
const normalizeDefault = (d: string | null): string | null => (d === null ? null : d.replace(/::[a-z ]+$/, ''));

function sqliteSchema(): Schema {
  const db = new Database(':memory:');
  try {
    for (const m of SQLITE_MIGRATIONS) db.exec(m);
    const out: Schema = { columns: {}, primaryKeys: {}, indexes: {} };
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>;
    for (const { name } of tables) {
      const cols = db.pragma(`table_info(${name})`) as Array<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>;
      out.columns[name] = Object.fromEntries(
        // A PRIMARY KEY column is NOT NULL in PostgreSQL; SQLite only reports what was declared.
        cols.map((c) => [c.name, { type: FAMILY[c.type] ?? c.type, notNull: c.notnull === 1 || c.pk > 0, default: c.dflt_value }]),
      );
      out.primaryKeys[name] = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      for (const ix of db.pragma(`index_list(${name})`) as Array<{ name: string; unique: number; origin: string; partial: number }>) {
        if (ix.origin !== 'c') continue; // only CREATE INDEX (constraints' autoindexes have no name of ours)
        const columns = (db.pragma(`index_info(${ix.name})`) as Array<{ seqno: number; name: string }>).sort((a, b) => a.seqno - b.seqno).map((c) => c.name);
        out.indexes[ix.name] = { unique: ix.unique === 1, partial: ix.partial === 1, columns };
      }
    }
    return out;
  } finally {
    db.close();
  }
}

async function postgresSchema(pool: pg.Pool, schema: string): Promise<Schema> {
  const out: Schema = { columns: {}, primaryKeys: {}, indexes: {} };
  const cols = await pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = $1 AND table_name <> 'plugboard_migrations' ORDER BY table_name, ordinal_position`,
    [schema],
  );
  for (const c of cols.rows) {
    (out.columns[c.table_name] ??= {})[c.column_name] = { type: FAMILY[c.data_type] ?? c.data_type, notNull: c.is_nullable === 'NO', default: normalizeDefault(c.column_default) };
  }
  const pks = await pool.query<{ table_name: string; column_name: string }>(
    `SELECT tc.table_name, k.column_name FROM information_schema.table_constraints tc
     JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name
     WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY' AND tc.table_name <> 'plugboard_migrations' ORDER BY tc.table_name, k.ordinal_position`,
    [schema],
  );
  for (const p of pks.rows) (out.primaryKeys[p.table_name] ??= []).push(p.column_name);
  // Indexes that back no constraint, i.e. those made by CREATE INDEX.
  const ixs = await pool.query<{ name: string; unique: boolean; partial: boolean; columns: string[] }>(
    `SELECT c.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
       array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
     WHERE ns.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)`,
    [schema],
  );
  for (const ix of ixs.rows) out.indexes[ix.name] = { unique: ix.unique, partial: ix.partial, columns: ix.columns };
  return out;
}

describe.skipIf(gate.skip)('schema parity of the SQLite and PostgreSQL migrations', () => {
  const { schema, url } = schemaUrl();
  let pool: pg.Pool;
  let lite: Schema;
  let pgs: Schema;

  beforeAll(async () => {
    if (gate.reason) throw new Error(`PostgreSQL is required when CI is set: ${gate.reason}`);
    pool = createPool(postgresSettings(url));
    await ensureSchema(pool, schema);
    await migratePostgres(pool);
    lite = sqliteSchema();
    pgs = await postgresSchema(pool, schema);
  });

  afterAll(async () => {
    await pool?.end();
    await dropSchemas([schema]);
  });

  it('has the same tables', () => {
    expect(Object.keys(pgs.columns).sort()).toEqual(Object.keys(lite.columns).sort());
    expect(Object.keys(lite.columns).length).toBeGreaterThan(15);
  });

  it('has the same columns with the same nullability, defaults and type families', () => {
    for (const table of Object.keys(lite.columns)) expect(pgs.columns[table], table).toEqual(lite.columns[table]);
  });

  it('has the same primary keys and named indexes', () => {
    expect(pgs.primaryKeys).toEqual(lite.primaryKeys);
    expect(pgs.indexes).toEqual(lite.indexes);
  });

  it('stores epoch-millisecond columns as bigint in PostgreSQL', async () => {
    const { rows } = await pool.query<{ c: string }>(
      `SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND data_type = 'bigint' ORDER BY 1`,
      [schema],
    );
    expect(rows.map((r) => r.c)).toEqual([
      'inbound_events.locked_until',
      'inbound_events.next_attempt_at',
      'oauth_refresh_leases.expires_at',
      'operations.lease_expires_at',
      'rate_limits.expire',
      'sync_state.lease_until',
      'sync_state.trigger_due_at',
      'webhook_deliveries.locked_until',
      'webhook_deliveries.next_attempt_at',
    ]);
  });
});
