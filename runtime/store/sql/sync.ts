// SQL repository: sync state (cursor, resume token, the lease of a stream), runs, and the records
// streams keep. A page commits in one write transaction fenced by the lease: a worker whose lease
// was taken over writes nothing, so two workers never interleave the pages of one stream.
import { sql } from 'kysely';
import type { SyncStore, SyncStateRow, SyncRunRow, RecordRow, SyncRecordWrite, RecordChanges } from '../sync-types.ts';
import type { OutboxItem } from '../types.ts';
import { changed, marks, type Db, type SqlConnection } from './connection.ts';
import { json, parse, equalityFilters, type Row } from './rows.ts';
import { chunks, writeOutbox } from './outbox.ts';

/** Rows per multi-row upsert: 12 parameters a row, 3,000 a statement (SQLite allows 32,766, PostgreSQL 65,535). */
const RECORD_CHUNK = 250;
/** Keys per `key IN (...)` lookup. */
const KEY_CHUNK = 500;
/** Invalid records' keys kept on a run. */
const INVALID_KEYS_KEPT = 100;


const toRun = (r: Row): SyncRunRow => ({ ...(r as unknown as SyncRunRow), full_refresh: r['full_refresh'] === 1, invalid_keys: parse(r['invalid_keys'], []) });
const toRecord = (r: Row): RecordRow => ({ ...(r as unknown as RecordRow), data: parse(r['data'], {}) });

interface StreamScope {
  tenantId: string;
  integrationId: string;
  stream: string;
}

interface RecordWrites extends StreamScope {
  provider: string;
  model: string;
  now: string;
  /** The run that saw the records; null (a write-back) leaves seen_run_id as it was. */
  runId: string | null;
}

/**
 * Upserts records of one stream inside a write transaction (the caller holds the stream, so what
 * is read here stays true until commit). New keys and soft-deleted ones are created, changed hashes
 * updated, unchanged ones only marked seen.
 */
async function writeRecords(c: SqlConnection, trx: Db, w: RecordWrites, records: SyncRecordWrite[]) {
  // A key carried twice is stored once, the last one winning (one upsert cannot touch a row twice).
  const page = [...new Map(records.map((r) => [r.key, r])).values()];
  const existing = new Map<string, { hash: string; deleted_at: string | null }>();
  for (const keys of chunks(page.map((r) => r.key), KEY_CHUNK)) {
    const { rows } = await c.raw<{ key: string; hash: string; deleted_at: string | null }>(trx, existingSql(keys.length), [w.tenantId, w.integrationId, w.stream, ...keys]);
    for (const r of rows) existing.set(r.key, r);
  }
  const created: SyncRecordWrite[] = [];
  const updated: SyncRecordWrite[] = [];
  const unchanged: string[] = [];
  const writes: SyncRecordWrite[] = [];
  for (const r of page) {
    const was = existing.get(r.key);
    if (!was || was.deleted_at !== null) created.push(r);
    else if (was.hash !== r.hash) updated.push(r);
    else {
      unchanged.push(r.key);
      continue;
    }
    writes.push(r);
  }
  for (const part of chunks(writes, RECORD_CHUNK)) {
    const params: unknown[] = [];
    for (const r of part) params.push(w.tenantId, w.integrationId, w.provider, w.stream, w.model, r.key, r.json ?? json(r.data), r.hash, w.now, w.now, null, w.runId);
    await c.raw(trx, upsertSql(part.length, w.runId !== null), params);
  }
  if (w.runId !== null) {
    for (const keys of chunks(unchanged, KEY_CHUNK)) {
      await c.raw(trx, seenSql(keys.length), [w.runId, w.tenantId, w.integrationId, w.stream, ...keys]);
    }
  }
  return { created, updated, unchanged };
}

// The statements every page runs, as SQL text built once (per size; c.raw): compiling them with the
// builder cost more than running them (1,200 parameters a 100-record page).
const RECORD_COLUMNS = 'tenant_id, integration_id, provider, stream, model, "key", data, hash, created_at, updated_at, deleted_at, seen_run_id';
const texts = new Map<string, string>();
const once = (id: string, build: () => string): string => texts.get(id) ?? (texts.set(id, build()), texts.get(id)!);

function existingSql(keys: number): string {
  return once(`existing:${keys}`, () => `SELECT "key", hash, deleted_at FROM records WHERE tenant_id = ? AND integration_id = ? AND stream = ? AND "key" IN (${marks(keys)})`);
}

function seenSql(keys: number): string {
  return once(`seen:${keys}`, () => `UPDATE records SET seen_run_id = ? WHERE tenant_id = ? AND integration_id = ? AND stream = ? AND "key" IN (${marks(keys)})`);
}

/** The page's fence: its cursor and resume point, only while the holder's lease and run are the stream's. */
const FENCE_PAGE = 'UPDATE sync_state SET "cursor" = ?, resume = ?, updated_at = ? WHERE tenant_id = ? AND integration_id = ? AND stream = ? AND lease_holder = ? AND run_id = ?';
/** The run's counters after a page (with `, invalid_keys = ?` before the WHERE when a page adds invalid keys). */
const PAGE_COUNTS = `UPDATE sync_runs SET pages = pages + 1, records_read = records_read + ?, records_created = records_created + ?, records_updated = records_updated + ?,
  records_invalid = records_invalid + ?, "cursor" = ?`;
const PAGE_COUNTS_WHERE = ' WHERE tenant_id = ? AND id = ?';

function upsertSql(rows: number, seen: boolean): string {
  return once(`upsert:${rows}:${seen}`, () => {
    const row = `(${marks(12)})`;
    return `INSERT INTO records (${RECORD_COLUMNS}) VALUES ${Array(rows).fill(row).join(', ')}
      ON CONFLICT (tenant_id, integration_id, stream, "key") DO UPDATE SET provider = excluded.provider, model = excluded.model, data = excluded.data,
      hash = excluded.hash, updated_at = excluded.updated_at, deleted_at = NULL${seen ? ', seen_run_id = excluded.seen_run_id' : ''}`;
  });
}

/** The outbox rows a write's changes announce (none when nobody asked or nothing changed). */
async function announce(c: SqlConnection, trx: Db, changes: RecordChanges, outbox: ((changes: RecordChanges) => OutboxItem[]) | undefined): Promise<void> {
  if (!outbox || !(changes.created.length || changes.updated.length)) return;
  const items = outbox(changes);
  if (items.length) await writeOutbox(c, trx, items);
}

export function syncRepo(c: SqlConnection): SyncStore {
  const { db } = c;
  const state = (trx: Db, s: StreamScope) =>
    trx.selectFrom('sync_state').selectAll().where('tenant_id', '=', s.tenantId).where('integration_id', '=', s.integrationId).where('stream', '=', s.stream);

  return {
    acquire: async (tenantId, integrationId, stream, holder, nowMs, untilMs) =>
      (await db.insertInto('sync_state')
        .values({ tenant_id: tenantId, integration_id: integrationId, stream, cursor: null, resume: null, run_id: null, lease_holder: holder, lease_until: untilMs, trigger_due_at: null, updated_at: new Date(nowMs).toISOString() })
        .onConflict((oc) => oc.columns(['tenant_id', 'integration_id', 'stream'])
          .doUpdateSet((eb) => ({ lease_holder: eb.ref('excluded.lease_holder'), lease_until: eb.ref('excluded.lease_until'), updated_at: eb.ref('excluded.updated_at') }))
          .where((eb) => eb.or([
            eb('sync_state.lease_holder', 'is', null),
            eb('sync_state.lease_until', 'is', null),
            eb('sync_state.lease_until', '<=', nowMs),
            eb('sync_state.lease_holder', '=', eb.ref('excluded.lease_holder')),
          ])))
        .returningAll()
        .executeTakeFirst()) as SyncStateRow | undefined,
    renew: async (tenantId, integrationId, stream, holder, untilMs) =>
      changed(await db.updateTable('sync_state').set({ lease_until: untilMs })
        .where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream).where('lease_holder', '=', holder)
        .executeTakeFirst()) === 1,
    release: async (tenantId, integrationId, stream, holder) => {
      await db.updateTable('sync_state').set({ lease_holder: null, lease_until: null })
        .where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream).where('lease_holder', '=', holder)
        .execute();
    },
    startRun: (run) =>
      c.write(async (trx) => {
        await trx.insertInto('sync_runs').values({ ...run, full_refresh: run.full_refresh ? 1 : 0, invalid_keys: json(run.invalid_keys) }).execute();
        await trx.insertInto('sync_state')
          .values({ tenant_id: run.tenant_id, integration_id: run.integration_id, stream: run.stream, cursor: null, resume: null, run_id: run.id, lease_holder: null, lease_until: null, trigger_due_at: null, updated_at: run.started_at })
          .onConflict((oc) => oc.columns(['tenant_id', 'integration_id', 'stream']).doUpdateSet((eb) => ({ run_id: eb.ref('excluded.run_id'), trigger_due_at: null, updated_at: eb.ref('excluded.updated_at') })))
          .execute();
      }),
    clearTrigger: async (tenantId, integrationId, stream) => {
      await db.updateTable('sync_state').set({ trigger_due_at: null }).where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream).execute();
    },
    markTriggered: async (tenantId, integrationId, stream, dueMs, staleMs) =>
      (await db.insertInto('sync_state')
        .values({ tenant_id: tenantId, integration_id: integrationId, stream, cursor: null, resume: null, run_id: null, lease_holder: null, lease_until: null, trigger_due_at: dueMs, updated_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['tenant_id', 'integration_id', 'stream'])
          .doUpdateSet((eb) => ({ trigger_due_at: eb.ref('excluded.trigger_due_at') }))
          .where((eb) => eb.or([eb('sync_state.trigger_due_at', 'is', null), eb('sync_state.trigger_due_at', '<', staleMs)])))
        .returning('stream')
        .executeTakeFirst()) !== undefined,
    commitPage: (p) =>
      c.write(async (trx) => {
        // The fence, first: on PostgreSQL this also locks the state row until commit, so a takeover waits for the page.
        const fenced = await c.raw(trx, FENCE_PAGE, [p.cursor, p.resume, p.now, p.tenantId, p.integrationId, p.stream, p.holder, p.runId]);
        const held = Number(fenced.numAffectedRows ?? 0n) === 1;
        if (!held) return undefined;
        const { created, updated } = await writeRecords(c, trx, { ...p, runId: p.runId }, p.records);
        await announce(c, trx, { created, updated }, p.outbox);
        let invalidKeys: string[] | undefined;
        if (p.invalidKeys.length) {
          const run = await trx.selectFrom('sync_runs').select('invalid_keys').where('tenant_id', '=', p.tenantId).where('id', '=', p.runId).executeTakeFirst();
          const kept = parse<string[]>(run?.invalid_keys, []);
          if (kept.length < INVALID_KEYS_KEPT) invalidKeys = [...kept, ...p.invalidKeys].slice(0, INVALID_KEYS_KEPT);
        }
        const counts = [p.records.length + p.invalidKeys.length, created.length, updated.length, p.invalidKeys.length, p.cursor];
        if (invalidKeys) await c.raw(trx, `${PAGE_COUNTS}, invalid_keys = ?${PAGE_COUNTS_WHERE}`, [...counts, json(invalidKeys), p.tenantId, p.runId]);
        else await c.raw(trx, PAGE_COUNTS + PAGE_COUNTS_WHERE, [...counts, p.tenantId, p.runId]);
        return { created: created.map((r) => r.key), updated: updated.map((r) => r.key) };
      }),
    deleteUnseen: (tenantId, integrationId, stream, runId, now, outbox) =>
      c.write(async (trx) => {
        // Fenced like a page (and the state row locked on PostgreSQL): only the stream's current run deletes.
        const current = changed(await trx.updateTable('sync_state').set({ updated_at: now })
          .where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream).where('run_id', '=', runId)
          .executeTakeFirst()) === 1;
        if (!current) return [];
        const gone = await trx.updateTable('records').set({ deleted_at: now, updated_at: now })
          .where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream).where('deleted_at', 'is', null)
          .where((eb) => eb.or([eb('seen_run_id', 'is', null), eb('seen_run_id', '<>', runId)]))
          .returning('key')
          .execute();
        if (gone.length && outbox) {
          const items = outbox(gone.map((r) => r.key));
          if (items.length) await writeOutbox(c, trx, items);
        }
        if (gone.length) {
          await trx.updateTable('sync_runs').set((eb) => ({ records_deleted: eb('records_deleted', '+', gone.length) }))
            .where('tenant_id', '=', tenantId).where('id', '=', runId).execute();
        }
        return gone.map((r) => r.key);
      }),
    finishRun: (tenantId, runId, patch, next) =>
      c.write(async (trx) => {
        // The state row first, as a page and a purge take it (one lock order, no deadlock on PostgreSQL).
        if (c.postgres) await trx.selectFrom('sync_state').select('stream').where('tenant_id', '=', tenantId).where('run_id', '=', runId).forUpdate().execute();
        const run = await trx.updateTable('sync_runs').set({ status: patch.status, finished_at: patch.finished_at, error: patch.error, cursor: patch.cursor })
          .where('tenant_id', '=', tenantId).where('id', '=', runId).where('status', '=', sql.lit('running'))
          .returning(['integration_id', 'stream'])
          .executeTakeFirst();
        if (!run) return false;
        await trx.updateTable('sync_state')
          .set({ run_id: null, updated_at: patch.finished_at ?? new Date().toISOString(), ...(next ? { cursor: next.cursor, resume: next.resume } : {}) })
          .where('tenant_id', '=', tenantId).where('integration_id', '=', run.integration_id).where('stream', '=', run.stream).where('run_id', '=', runId)
          .execute();
        return true;
      }),
    getState: async (tenantId, integrationId, stream) => (await state(db, { tenantId, integrationId, stream }).executeTakeFirst()) as SyncStateRow | undefined,
    getRun: async (tenantId, runId) => {
      const r = await db.selectFrom('sync_runs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', runId).executeTakeFirst();
      return r && toRun(r);
    },
    runs: async (tenantId, integrationId, q) => {
      let base = db.selectFrom('sync_runs').where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId);
      if (q.stream) base = base.where('stream', '=', q.stream);
      return c.page(base, q, [['started_at', 'desc'], ['id', 'desc']], toRun);
    },
    records: async (tenantId, f) => {
      let base = db.selectFrom('records').where('tenant_id', '=', tenantId);
      for (const [col, v] of equalityFilters(f, ['stream', 'integration_id'])) base = base.where(col as 'stream', '=', v as string);
      if (f.updated_since) base = base.where('updated_at', '>=', f.updated_since);
      if (!f.include_deleted) base = base.where('deleted_at', 'is', null);
      return c.page(base, f, [['updated_at', 'desc'], ['integration_id', 'desc'], ['stream', 'desc'], ['key', 'desc']], toRecord);
    },
    upsertOne: (r) =>
      c.write(async (trx) => {
        const w = { tenantId: r.tenant_id, integrationId: r.integration_id, stream: r.stream, provider: r.provider, model: r.model, now: r.now, runId: null };
        const { created, updated } = await writeRecords(c, trx, w, [{ key: r.key, data: r.data, hash: r.hash }]);
        await announce(c, trx, { created, updated }, r.outbox);
        return created.length ? 'created' : updated.length ? 'updated' : 'unchanged';
      }),
    mergeOne: (r) =>
      c.write(async (trx) => {
        let q = trx.selectFrom('records').selectAll().where('tenant_id', '=', r.tenant_id).where('integration_id', '=', r.integration_id).where('stream', '=', r.stream).where('key', '=', r.key);
        if (c.postgres) q = q.forUpdate();
        const stored = await q.executeTakeFirst();
        const built = r.build(stored && toRecord(stored));
        if (!built) return 'skipped';
        const w = { tenantId: r.tenant_id, integrationId: r.integration_id, stream: r.stream, provider: r.provider, model: r.model, now: r.now, runId: null };
        const { created, updated } = await writeRecords(c, trx, w, [{ key: r.key, ...built }]);
        await announce(c, trx, { created, updated }, r.outbox);
        return created.length ? 'created' : updated.length ? 'updated' : 'unchanged';
      }),
    getRecord: async (tenantId, integrationId, stream, key) => {
      const r = await db.selectFrom('records').selectAll().where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream).where('key', '=', key).executeTakeFirst();
      return r && toRecord(r);
    },
    hasSucceeded: async (tenantId, integrationId, stream) =>
      (await db.selectFrom('sync_runs').select('id').where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).where('stream', '=', stream)
        .where('status', '=', sql.lit('succeeded')).limit(1).executeTakeFirst()) !== undefined,
    purge: (tenantId, integrationId) =>
      c.write(async (trx) => {
        // In a page's lock order (state, records, runs): records first deadlocked a page being committed
        // on PostgreSQL (it holds the state row and upserts records). Deleting the state also ends the
        // lease, so a run still going commits nothing more.
        await trx.deleteFrom('sync_state').where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).execute();
        await trx.deleteFrom('records').where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).execute();
        await trx.deleteFrom('sync_runs').where('tenant_id', '=', tenantId).where('integration_id', '=', integrationId).execute();
      }),
  };
}
