// The one better-sqlite3 connection the jobs repository and logger share: opened lazily (or handed in
// by the application), configured for several processes on one file, with prepared statements.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { JSON_CONTAINS_FN, jsonContains, type Db } from './values.ts';

/** Opens (creating the directory of) a SQLite file for the jobs table. */
function openDatabase(file: string): Db {
  if (file !== ':memory:' && file !== '' && !file.startsWith('file:')) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  }
  return new Database(file);
}

/**
 * WAL mode and a busy timeout, so concurrent processes on one file wait for each other's write
 * lock instead of failing. Only ever raises an existing busy timeout.
 */
function configureConnection(db: Db, busyTimeoutMs: number): void {
  const current = Number(db.pragma('busy_timeout', { simple: true }));
  if (!(current >= busyTimeoutMs)) db.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  if (!db.memory && !db.readonly) {
    const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
    if (mode !== 'wal') db.pragma('journal_mode = WAL');
  }
  db.function(JSON_CONTAINS_FN, { deterministic: true }, (have: unknown, want: unknown) => {
    if (typeof want !== 'string') return 0;
    const h = typeof have === 'string' ? JSON.parse(have) : undefined;
    return jsonContains(h, JSON.parse(want)) ? 1 : 0;
  });
}

/** Shared by the repository and the logger: one connection, opened lazily, reopened by connect(). */
export class Connection {
  private db: Db | undefined;
  private closed = false;
  private configured = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly setups: Array<(db: Db) => void> = [];

  constructor(
    private readonly source: Db | string,
    private readonly busyTimeoutMs: number,
  ) {
    if (typeof source !== 'string') this.db = source;
  }

  get owns(): boolean {
    return typeof this.source === 'string';
  }

  /** Registers schema set-up run once per opened connection. */
  onOpen(setup: (db: Db) => void): void {
    this.setups.push(setup);
  }

  reopen(): void {
    if (this.closed && this.owns) {
      this.closed = false;
      this.db = undefined;
      this.configured = false;
      this.statements.clear();
    }
  }

  get(): Db {
    if (this.closed) throw new Error('SqliteBackend: the jobs database connection is closed (agenda was stopped)');
    if (!this.db) this.db = openDatabase(this.source as string);
    if (!this.configured) {
      configureConnection(this.db, this.busyTimeoutMs);
      for (const setup of this.setups) setup(this.db);
      this.configured = true;
    }
    return this.db;
  }

  get isOpen(): boolean {
    return !this.closed && (this.db?.open ?? typeof this.source === 'string');
  }

  stmt<R = unknown>(sql: string): Database.Statement<unknown[], R> {
    const db = this.get();
    let s = this.statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s as Database.Statement<unknown[], R>;
  }

  /** Runs fn in a `BEGIN IMMEDIATE` transaction (a savepoint when already inside one). */
  write<T>(fn: () => T): T {
    return this.get().transaction(fn).immediate();
  }

  close(): void {
    if (this.owns && this.db && this.db.open) this.db.close();
    if (this.owns) {
      this.closed = true;
      this.db = undefined;
      this.statements.clear();
    }
  }
}
