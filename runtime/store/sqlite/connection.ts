// Opens the SQLite file (better-sqlite3: synchronous, fast, WAL) and the Kysely instance the SQL
// repositories use on it.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import type { SyncWriter } from '../sql/connection.ts';
import type { Tables } from '../sql/tables.ts';

const STATEMENT_CACHE = 1000;

/**
 * Kysely's SQLite driver prepares every query anew, and better-sqlite3's prepare() costs more than
 * most of our queries; this hands it each SQL text's statement prepared once (a bounded cache).
 */
function preparedOnce(db: Database.Database) {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let st = cache.get(text);
      if (!st) {
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
        cache.set(text, (st = db.prepare(text)));
      }
      return st;
    },
  };
}

export function openSqliteFile(file: string): { raw: Database.Database; db: Kysely<Tables>; writeAll: SyncWriter } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  const statements = preparedOnce(raw);
  const writeAll = raw.transaction((queries: CompiledQuery[]) => queries.map((q) => statements.prepare(q.sql).run(...(q.parameters as unknown[])).changes));
  return { raw, db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: statements }) }), writeAll: (queries) => writeAll.immediate(queries) };
}
