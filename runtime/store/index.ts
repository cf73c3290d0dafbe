// Opens the store named by PLUGBOARD_DATABASE_URL (default sqlite:./data/plugboard.db).
import path from 'node:path';
import type { Store } from './types.ts';
import { SqliteStore } from './sqlite/store.ts';
import { ConfigError } from '../errors/plugboard-error.ts';

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
      const from = store.schemaVersion();
      await store.migrate();
      opts.onMigrated?.({ database: file, from, to: store.schemaVersion() });
      return store;
    } catch (err) {
      throw new ConfigError(`PLUGBOARD_DATABASE_URL: cannot open ${file}: ${(err as Error).message}`);
    }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError('PLUGBOARD_DATABASE_URL: PostgreSQL storage is not available yet in this version; use sqlite:<path>');
  }
  throw new ConfigError(`PLUGBOARD_DATABASE_URL must start with sqlite: or postgres://, got "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
}

export * from './types.ts';
