// Opens a PostgreSQL pool from PLUGBOARD_DATABASE_URL and the Kysely instance the SQL repositories
// use on it. Plugboard's own URL parameters (removed before the URL reaches `pg`):
//   pool_size=N            connections per process (default 10)
//   statement_timeout=MS   server-side limit per statement (default 30000; 0 = none)
//   schema=NAME            the schema Plugboard's tables live in (created if missing; default: public)
// TLS is `pg`'s own: sslmode=require|verify-ca|verify-full, sslrootcert=, sslcert=, sslkey=.
import os from 'node:os';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Tables } from '../sql/tables.ts';
import { ConfigError } from '../../errors/plugboard-error.ts';

export interface PostgresSettings {
  connectionString: string;
  poolSize: number;
  statementTimeoutMs: number;
  schema: string | undefined;
}

const INT8 = 20;
const NUMERIC = 1700;

/** BIGINT (epoch ms, COUNT(*)) as a JavaScript number: every value we store fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The URL with its credentials (user info and a `password=` parameter) hidden. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^?#]*@/, '//***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}

export function postgresSettings(url: string): PostgresSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`PLUGBOARD_DATABASE_URL is not a valid URL: "${redactUrl(url)}"`);
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = u.searchParams.get(name);
    u.searchParams.delete(name);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`PLUGBOARD_DATABASE_URL: ${name} must be an integer from ${min} to ${max}, got "${v}"`);
    return n;
  };
  const poolSize = int('pool_size', 10, 1, 1000);
  const statementTimeoutMs = int('statement_timeout', 30_000, 0, 86_400_000);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new ConfigError(`PLUGBOARD_DATABASE_URL: schema must be a lower-case SQL identifier, got "${schema}"`);
  // libpq's default when the URL names no user: the operating-system user (`pg` looks only at
  // $USER and $PGUSER, which services often lack).
  if (!u.username && !process.env.PGUSER && !process.env.USER) u.username = os.userInfo().username;
  return { connectionString: u.toString(), poolSize, statementTimeoutMs, schema };
}

export function createPool(s: PostgresSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: s.connectionString,
    max: s.poolSize,
    types,
    ...(s.statementTimeoutMs ? { statement_timeout: s.statementTimeoutMs } : {}),
    ...(s.schema ? { options: `-c search_path=${s.schema}` } : {}),
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Creates the schema when missing. Two processes doing so at once may race inside PostgreSQL
 * (IF NOT EXISTS checks before it inserts): the loser's duplicate error means the schema exists.
 */
export async function ensureSchema(pool: pg.Pool, schema: string | undefined): Promise<void> {
  if (!schema) return;
  // Look first: CREATE needs the CREATE privilege on the database even when the schema exists,
  // which a least-privileged application role with a pre-created schema does not have.
  const found = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (found.rowCount) return;
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

/** One line for a failure to reach or use the server (Node's AggregateError has no message of its own). */
export function describePgError(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string; code?: string }> };
  const first = e.errors?.[0];
  const message = e.message || first?.message || String(err);
  const code = e.code ?? first?.code;
  return (code && !message.includes(code) ? `${message} (${code})` : message).replace(/\s*\n\s*/g, ' ');
}

export function kyselyOn(pool: pg.Pool): Kysely<Tables> {
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}
