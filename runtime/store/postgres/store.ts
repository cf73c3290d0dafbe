// The PostgreSQL Store: the SQL repositories on a `pg` pool opened from PLUGBOARD_DATABASE_URL,
// migrated by versioned migrations under an advisory lock, with rate-limit counters in the database.
import type pg from 'pg';
import { SqlStore } from '../sql/store.ts';
import { SqlConnection } from '../sql/connection.ts';
import { createPool, ensureSchema, kyselyOn, postgresSettings, type PostgresSettings } from './connection.ts';
import { appliedVersion, migratePostgres, type MigrationRun } from './migrations.ts';
import { postgresRateLimits } from './rate-limits.ts';

export class PostgresStore extends SqlStore {
  /** The pool the store runs on (rate limits, migrations, tests). Ended by close(). */
  readonly pool: pg.Pool;
  readonly connectionSettings: PostgresSettings;
  readonly rateLimits: SqlStore['rateLimits'];

  /** Opens a pool (lazily: nothing connects until the first query). Throws ConfigError on a bad URL. */
  constructor(url: string, opts: { rateLimitTimeoutMs?: number } = {}) {
    const settings = postgresSettings(url);
    const pool = createPool(settings);
    super(new SqlConnection(kyselyOn(pool), 'postgres'));
    this.connectionSettings = settings;
    this.pool = pool;
    this.rateLimits = postgresRateLimits(pool, { schema: settings.schema, timeoutMs: opts.rateLimitTimeoutMs });
  }

  async schemaVersion(): Promise<number> {
    return appliedVersion(this.pool);
  }

  /** Creates the schema if needed and applies the migrations not yet applied; `from` 0 is a new schema. */
  async migrateReport(): Promise<MigrationRun> {
    await ensureSchema(this.pool, this.connectionSettings.schema);
    return migratePostgres(this.pool);
  }

  async migrate(): Promise<void> {
    await this.migrateReport();
  }

  /** Destroys Kysely, which ends the pool; a second call does nothing. */
  async close(): Promise<void> {
    if (this.pool.ended || this.pool.ending) return;
    await super.close();
  }
}
