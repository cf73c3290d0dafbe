// One better-sqlite3 database with its prepared statements, shared by the repositories.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ListQuery, ListResult } from '../types.ts';
import type { Row } from './rows.ts';

export class SqliteConnection {
  readonly db: Database.Database;
  // Prepared once per SQL text: better-sqlite3's prepare() costs more than most of our queries.
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /** One page of `SELECT * <sqlFrom>` and the total count. */
  page<T>(sqlFrom: string, params: Row, q: ListQuery, order: string, map: (r: Row) => T): ListResult<T> {
    const total = (this.sql(`SELECT COUNT(*) AS n ${sqlFrom}`).get(params) as { n: number }).n;
    const rows = this.sql(`SELECT * ${sqlFrom} ORDER BY ${order} LIMIT @limit OFFSET @offset`).all({ ...params, limit: q.perPage, offset: (q.page - 1) * q.perPage }) as Row[];
    return { items: rows.map(map), total };
  }
}
