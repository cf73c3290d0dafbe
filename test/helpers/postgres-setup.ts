// Global setup of the postgres test project: the server must answer (in CI the project runs even
// when the probe in vitest.config.ts failed, and must fail loudly rather than skip).
import pg from 'pg';

export default async function setup(): Promise<void> {
  const url = process.env.PLUGBOARD_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new Error(`the postgres test project needs PostgreSQL at ${new URL(url).host} (database ${new URL(url).pathname.slice(1)}): ${(err as Error).message}`);
  } finally {
    await c.end().catch(() => undefined);
  }
}
