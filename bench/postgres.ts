// The API and webhook figures on PostgreSQL (issue 13): `api.list.postgres`, `api.operation.postgres`,
// `webhooks.out.postgres`, `webhooks.in.postgres`, each in a fresh schema of BENCH_PG_URL (default
// postgres://postgres@127.0.0.1:5432/test) with its honest baseline on PostgreSQL too (outbound: the
// signed POST loop, which uses no database). Skipped with the reason on stderr when no server answers.
import { apiThroughput } from './api.ts';
import { webhookThroughput } from './webhooks.ts';
import { PG_URL, pgReachable, postgresDb } from './stores.ts';

export async function postgresFigures(): Promise<void> {
  const problem = await pgReachable();
  if (problem) {
    console.error(`\n(PostgreSQL figures skipped: ${PG_URL.replace(/\/\/[^@/]*@/, '//***@')} did not answer: ${problem})`);
    return;
  }
  for (const run of [(db: ReturnType<typeof postgresDb>) => apiThroughput(db, { authRounds: false }), webhookThroughput]) {
    const db = postgresDb();
    try {
      await run(db);
    } finally {
      await db.drop();
    }
  }
}
