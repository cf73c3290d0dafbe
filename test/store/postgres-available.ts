// Whether the PostgreSQL the store tests use answers. Outside CI an unreachable server skips those
// tests with a printed reason; in CI (CI set) they run anyway and fail, never skip silently.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { TEST_PG_URL } from '../helpers/store.ts';

export { TEST_PG_URL };

/** undefined when the server answers; otherwise why not. */
export async function postgresUnreachable(url = TEST_PG_URL): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    const e = err as { message?: string; code?: string; errors?: Array<{ code?: string }> };
    return `no PostgreSQL at ${new URL(url).host}: ${e.message || e.code || e.errors?.[0]?.code || String(err)}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Skip (outside CI, with the reason printed) or run (and fail in CI) the PostgreSQL tests of a file. */
export async function postgresGate(file: string): Promise<{ skip: boolean; reason: string | undefined }> {
  const reason = await postgresUnreachable();
  const skip = !!reason && !process.env.CI;
  if (skip) console.log(`${file}: skipped: ${reason} (set CI=1 to require it)`);
  return { skip, reason };
}

/** A fresh schema name, and TEST_PG_URL pointing at it (extra URL parameters added). */
export function schemaUrl(params: Record<string, string> = {}, schema = `ts_${randomBytes(5).toString('hex')}`): { schema: string; url: string } {
  const u = new URL(TEST_PG_URL);
  u.searchParams.set('schema', schema);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return { schema, url: u.toString() };
}

/** Drops the schemas a test file created. */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const list = [...schemas];
  if (!list.length) return;
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    for (const s of list) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await c.end();
  }
}
