// Two projects: `sqlite` runs every test as always; `postgres` runs the tests that start a platform
// (integration, access, webhooks, routing, OAuth flows) again with PLUGBOARD_TEST_STORE=postgres,
// each platform in a fresh schema of PLUGBOARD_TEST_PG_URL's database (test/helpers/store.ts).
// The postgres project runs when PostgreSQL answers on 127.0.0.1:5432, and always when CI is set
// (then an unreachable server fails the run in test/helpers/postgres-setup.ts).
import { spawnSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';

const PG_URL = process.env.PLUGBOARD_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A TCP connect to the server in PG_URL within 2 s, from a child process (the config loads synchronously). */
function postgresAnswers(): boolean {
  const u = new URL(PG_URL);
  const probe = `require('net').connect(${Number(u.port || 5432)}, ${JSON.stringify(u.hostname)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 2000 }).status === 0;
}

const POSTGRES_TESTS = ['test/integration/**/*.test.ts', 'test/webhooks/*.flow.test.ts', 'test/oauth/*.test.ts', 'test/sync/*.flow.test.ts', 'test/mcp/*.test.ts'];

/** Tests in those folders that are about SQLite itself or start no platform (one line each: why). */
const SQLITE_ONLY = [
  'test/integration/integrations-migration.test.ts', // migrates an old SQLite file (SQLite migrations 1..n)
  'test/integration/legacy-rows-migration.test.ts', // migrates an old SQLite file (SQLite migrations 1..n)
  'test/oauth/endpoints.test.ts', // no platform: builds OAuth URLs and token requests in memory
];

const wanted = !process.argv.some((a) => a === '--project' || a.startsWith('--project=')) || process.argv.some((a) => /postgres/.test(a));
const withPostgres = !!process.env.CI || postgresAnswers();
if (!withPostgres && wanted) console.log(`vitest: skipping the postgres project: no PostgreSQL answers at ${new URL(PG_URL).host} (set CI=1 to require it)`);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: both projects share one pool of workers (the default is cores - 1 = 1 on this machine).
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // Includes test/studio/ (the studio's serving and headless-Chromium tests): SQLite only, the
        // browser flows do not depend on the store.
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { PLUGBOARD_TEST_STORE: 'sqlite' }, globalSetup: ['test/helpers/build-runtime.ts'] },
      },
      ...(withPostgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: POSTGRES_TESTS,
                exclude: SQLITE_ONLY,
                env: { PLUGBOARD_TEST_STORE: 'postgres', PLUGBOARD_TEST_PG_URL: PG_URL },
                globalSetup: ['test/helpers/build-runtime.ts', 'test/helpers/postgres-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
