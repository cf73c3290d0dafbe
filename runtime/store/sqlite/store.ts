// The SQLite Store: the SQL repositories on one better-sqlite3 file, migrated by PRAGMA user_version.
import type Database from 'better-sqlite3';
import { SqlStore } from '../sql/store.ts';
import { SqlConnection } from '../sql/connection.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { openSqliteFile } from './connection.ts';
import { sqliteRateLimits } from './rate-limits.ts';

export class SqliteStore extends SqlStore {
  /** The raw connection (rate limits, migrations, tests). */
  readonly db: Database.Database;
  readonly rateLimits: SqlStore['rateLimits'];

  constructor(readonly file: string) {
    const { raw, db, writeAll } = openSqliteFile(file);
    super(new SqlConnection(db, 'sqlite', writeAll));
    this.db = raw;
    this.rateLimits = sqliteRateLimits(raw);
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async migrate(): Promise<void> {
    const current = await this.schemaVersion();
    for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  async close(): Promise<void> {
    if (this.db.open) await super.close();
  }
}
