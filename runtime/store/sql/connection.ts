// One Kysely database (SQLite or PostgreSQL) shared by the repositories in this folder. Everything
// a repository needs to differ by dialect lives here, so the repositories are written once.
// Convention: constant filters on columns that partial indexes are defined by (`status`, `enabled`)
// are SQL literals (`sql.lit('pending')`), not bound parameters: SQLite uses a partial index only
// when the query's WHERE provably implies the index's, which a parameter never does.
import { sql, CompiledQuery, type Kysely, type SelectQueryBuilder, type Compilable } from 'kysely';
import type { Tables } from './tables.ts';
import type { ListQuery, ListResult } from '../list.ts';

export type SqlDialect = 'sqlite' | 'postgres';
export type Db = Kysely<Tables>;

/** Runs compiled write statements in one transaction, synchronously (SQLite's better-sqlite3); rows changed by each. */
export type SyncWriter = (queries: CompiledQuery[]) => number[];

/** `n` SQL parameter marks, `?, ?, ?` (constant SQL text; SqlConnection.raw numbers them for PostgreSQL). */
export const marks = (n: number): string => (n < 1 ? '' : '?, '.repeat(n - 1) + '?');

export class SqlConnection {
  constructor(
    readonly db: Db,
    readonly dialect: SqlDialect,
    private readonly syncWriter?: SyncWriter,
  ) {}

  /**
   * Runs write statements that need no reads between them in one transaction. On SQLite they run
   * synchronously inside one better-sqlite3 transaction (no await between BEGIN and COMMIT, so
   * nothing else waits on the connection and nothing interleaves); elsewhere in `write`. Returns
   * the rows each statement changed, in order.
   */
  async writeAll(queries: Compilable[]): Promise<number[]> {
    // Under the connection's lock: never inside another open transaction on the same connection
    // (better-sqlite3 would nest it as a savepoint that commits or rolls back with that one).
    const writer = this.syncWriter;
    if (writer) return this.db.connection().execute(async () => writer(queries.map((q) => q.compile())));
    return this.write(async (trx) => {
      const counts: number[] = [];
      for (const q of queries) counts.push(Number((await trx.executeQuery(q.compile())).numAffectedRows ?? 0n));
      return counts;
    });
  }

  get postgres(): boolean {
    return this.dialect === 'postgres';
  }

  private readonly numbered = new Map<string, string>();

  /**
   * Runs SQL text written with `?` placeholders (numbered `$n` for PostgreSQL, converted once per
   * text). For the few hot statements whose builder compile costs more than the statement: a
   * 100-row upsert of 12 columns is 1,200 parameters for Kysely to walk on every page.
   */
  async raw<R>(on: Db, text: string, params: readonly unknown[]): Promise<{ rows: R[]; numAffectedRows?: bigint }> {
    return on.executeQuery<R>(this.compiled(text, params));
  }

  /** SQL text with `?` placeholders as one statement for `writeAll` (constant text, no builder compile). */
  statement(text: string, params: readonly unknown[]): Compilable {
    return { compile: () => this.compiled(text, params) };
  }

  private compiled(text: string, params: readonly unknown[]): CompiledQuery {
    let q = text;
    if (this.postgres) {
      q = this.numbered.get(text) ?? '';
      if (!q) {
        q = dollarParams(text);
        if (this.numbered.size < 1000) this.numbered.set(text, q);
      }
    }
    return CompiledQuery.raw(q, params as unknown[]);
  }

  /**
   * Runs `fn` in a write transaction and commits it. SQLite: BEGIN IMMEDIATE, so the write lock is
   * taken up front and a read-then-write never fails with SQLITE_BUSY against another process.
   * PostgreSQL: READ COMMITTED; claims add FOR UPDATE SKIP LOCKED (see `skipLocked`).
   * Inside `fn` use only `trx`: the SQLite connection is held until the transaction ends.
   */
  async write<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    if (this.postgres) return this.db.transaction().execute(fn);
    return this.db.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`COMMIT`.execute(conn);
        return result;
      } catch (err) {
        await sql`ROLLBACK`.execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Serialises writers of one named resource inside a `write` transaction across processes.
   * PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing to do, BEGIN IMMEDIATE already
   * admits one writer at a time.
   */
  async lock(trx: Db, name: string): Promise<void> {
    if (this.postgres) await sql`SELECT pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
  }

  /** Adds FOR UPDATE SKIP LOCKED on PostgreSQL (rows another claimer holds are passed over). */
  skipLocked<QB extends SelectQueryBuilder<any, any, any>>(qb: QB): QB {
    return this.postgres ? (qb.forUpdate().skipLocked() as QB) : qb;
  }

  /** A unique or primary-key constraint refused the row. */
  isUnique(err: unknown): boolean {
    const code = (err as { code?: string })?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
  }

  /** One page of `base` (a SELECT with its FROM and WHERE) and the total it matches. */
  async page<R>(base: SelectQueryBuilder<Tables, any, {}>, q: ListQuery, order: Array<[string, 'asc' | 'desc']>, map: (r: any) => R): Promise<ListResult<R>> {
    const [countRow, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      order
        .reduce((qb, [col, dir]) => qb.orderBy(col as any, dir), base.selectAll())
        .limit(q.perPage)
        .offset((q.page - 1) * q.perPage)
        .execute(),
    ]);
    return { items: rows.map(map), total: Number(countRow.n) };
  }
}

/** Affected-row count of an UPDATE or DELETE result (bigint in Kysely). */
export const changed = (r: { numUpdatedRows?: bigint; numDeletedRows?: bigint; numInsertedOrUpdatedRows?: bigint } | undefined): number =>
  Number(r?.numUpdatedRows ?? r?.numDeletedRows ?? r?.numInsertedOrUpdatedRows ?? 0n);

/** `?` placeholders (outside quoted literals) as PostgreSQL's $1, $2, ... */
export function dollarParams(text: string): string {
  let n = 0;
  let quote: string | undefined;
  let out = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}
