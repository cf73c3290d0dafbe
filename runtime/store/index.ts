// Opens the store named by PLUGBOARD_DATABASE_URL (default sqlite:./data/plugboard.db).
import path from 'node:path';
import type { Store } from './types.ts';
import { SqliteStore } from './sqlite/store.ts';
import { PostgresStore } from './postgres/store.ts';
import { describePgError, redactUrl } from './postgres/connection.ts';
import { ConfigError, PlugboardError } from '../errors/plugboard-error.ts';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/plugboard.db';

export function sqlitePathFromUrl(url: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  const p = url.slice('sqlite:'.length).replace(/^\/\//, '');
  return p === ':memory:' ? p : path.resolve(p);
}

/** What opening did to the schema: `from` 0 is a database created now. */
export interface MigrationReport {
  database: string;
  from: number;
  to: number;
}

export async function openStore(url = DEFAULT_DATABASE_URL, opts: { onMigrated?: (r: MigrationReport) => void } = {}): Promise<Store> {
  const file = sqlitePathFromUrl(url);
  if (file) {
    try {
      const store = new SqliteStore(file);
      const from = await store.schemaVersion();
      await store.migrate();
      opts.onMigrated?.({ database: file, from, to: await store.schemaVersion() });
      return store;
    } catch (err) {
      throw new ConfigError(`PLUGBOARD_DATABASE_URL: cannot open ${file}: ${(err as Error).message}`);
    }
  }
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, opts);
  throw new ConfigError(`PLUGBOARD_DATABASE_URL must start with sqlite: or postgres://, got "${redactUrl(url)}"`);
}

async function openPostgres(url: string, opts: { onMigrated?: (r: MigrationReport) => void }): Promise<Store> {
  const store = new PostgresStore(url); // a bad URL or parameter throws ConfigError naming the variable
  const { schema } = store.connectionSettings;
  const database = redactUrl(url.replace(/[?#].*$/, '')) + (schema ? ` (schema ${schema})` : '');
  try {
    const run = await store.migrateReport();
    opts.onMigrated?.({ database, from: run.from, to: run.to });
    return store;
  } catch (err) {
    await store.close().catch(() => undefined);
    if (err instanceof PlugboardError) throw err;
    throw new ConfigError(`PLUGBOARD_DATABASE_URL: cannot open PostgreSQL database ${database}: ${describePgError(err)}`);
  }
}

/** PLUGBOARD_DATABASE_URL's PostgreSQL parameters, for Agenda's PostgreSQL backend on the same database and schema. */
export { postgresSettings, type PostgresSettings } from './postgres/connection.ts';
export * from './types.ts';
