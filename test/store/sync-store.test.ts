// Store.sync on both dialects: the stream lease across two store instances on one database, pages
// committed in one transaction fenced by that lease, created/updated/unchanged decided by key and
// hash, cursor and resume token committed with the page, full-refresh soft deletes, tenant scoping,
// and a page larger than one statement can bind. PostgreSQL runs in its own schema, dropped after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../runtime/store/sqlite/store.ts';
import { PostgresStore } from '../../runtime/store/postgres/store.ts';
import type { SqlStore } from '../../runtime/store/sql/store.ts';
import type { SyncPage, SyncRunRow, SyncRecordWrite } from '../../runtime/store/sync-types.ts';
import { dropSchemas, postgresGate, schemaUrl } from './postgres-available.ts';

const gate = await postgresGate('test/store/sync-store.test.ts');

interface Dialect {
  name: 'sqlite' | 'postgres';
  skip: boolean;
  /** Two stores on one fresh, migrated database. */
  open(): Promise<[SqlStore, SqlStore]>;
  cleanup(): Promise<void>;
}

const sqlite = (): Dialect => {
  let dir = '';
  return {
    name: 'sqlite',
    skip: false,
    async open() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-sync-'));
      const file = path.join(dir, 'plugboard.db');
      const a = new SqliteStore(file);
      await a.migrate();
      return [a, new SqliteStore(file)];
    },
    async cleanup() {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};

const postgres = (): Dialect => {
  const { schema, url } = schemaUrl();
  return {
    name: 'postgres',
    skip: gate.skip,
    async open() {
      if (gate.reason) throw new Error(`PostgreSQL is required when CI is set: ${gate.reason}`);
      const a = new PostgresStore(url);
      await a.migrate();
      return [a, new PostgresStore(url)];
    },
    cleanup: () => dropSchemas([schema]),
  };
};

const id = (p: string) => `${p}_${randomBytes(4).toString('hex')}`;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const rec = (key: string, v: unknown = 1): SyncRecordWrite => ({ key, data: { id: key, v }, hash: `h:${JSON.stringify(v)}` });

function newRun(tenantId: string, integrationId: string, stream: string, over: Partial<SyncRunRow> = {}): SyncRunRow {
  return {
    id: id('run'), tenant_id: tenantId, integration_id: integrationId, stream, full_refresh: false, status: 'running', started_at: iso(Date.now()), finished_at: null,
    pages: 0, records_read: 0, records_created: 0, records_updated: 0, records_deleted: 0, records_invalid: 0, invalid_keys: [], cursor: null, error: null, ...over,
  };
}

for (const d of [sqlite(), postgres()]) {
  describe.skipIf(d.skip)(`Store.sync on ${d.name}`, () => {
    let a: SqlStore;
    let b: SqlStore;

    beforeAll(async () => {
      [a, b] = await d.open();
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await d.cleanup();
    });

    /** A tenant, integration and stream of its own, with `holder`'s lease and a started run. */
    async function started(holder = 'w1', over: Partial<SyncRunRow> = {}) {
      const s = { tenantId: id('t'), integrationId: id('i'), stream: 'contacts' };
      expect(await a.sync.acquire(s.tenantId, s.integrationId, s.stream, holder, T0, T0 + 60_000)).toBeDefined();
      const run = newRun(s.tenantId, s.integrationId, s.stream, over);
      await a.sync.startRun(run);
      const page = (records: SyncRecordWrite[], more: Partial<SyncPage> = {}): SyncPage => ({
        ...s, provider: 'hubspot', model: 'contact', runId: run.id, holder, records, invalidKeys: [], cursor: null, resume: null, now: iso(Date.now()), ...more,
      });
      return { ...s, run, page };
    }

    it('leases a stream to one holder across two store instances, and hands it over once expired', async () => {
      const t = id('t');
      const i = id('i');
      const first = await a.sync.acquire(t, i, 'deals', 'A', T0, T0 + 1000);
      expect(first).toMatchObject({ tenant_id: t, integration_id: i, stream: 'deals', lease_holder: 'A', lease_until: T0 + 1000, cursor: null, resume: null });
      expect(await b.sync.acquire(t, i, 'deals', 'B', T0 + 999, T0 + 5000)).toBeUndefined();
      // The holder may take it again (renewal); the other stream and the other tenant are separate leases.
      expect(await b.sync.acquire(t, i, 'deals', 'A', T0 + 10, T0 + 2000)).toMatchObject({ lease_holder: 'A', lease_until: T0 + 2000 });
      expect(await b.sync.acquire(t, i, 'contacts', 'B', T0, T0 + 1000)).toMatchObject({ lease_holder: 'B' });
      expect(await b.sync.acquire(id('t'), i, 'deals', 'B', T0, T0 + 1000)).toMatchObject({ lease_holder: 'B' });
      // Expired: taken over, and the old holder can neither renew nor release it.
      expect(await b.sync.acquire(t, i, 'deals', 'B', T0 + 2000, T0 + 9000)).toMatchObject({ lease_holder: 'B', lease_until: T0 + 9000 });
      expect(await a.sync.renew(t, i, 'deals', 'A', T0 + 20_000)).toBe(false);
      await a.sync.release(t, i, 'deals', 'A');
      expect(await a.sync.getState(t, i, 'deals')).toMatchObject({ lease_holder: 'B', lease_until: T0 + 9000 });
      expect(await b.sync.renew(t, i, 'deals', 'B', T0 + 20_000)).toBe(true);
      expect(await a.sync.acquire(t, i, 'deals', 'A', T0 + 10_000, T0 + 30_000)).toBeUndefined();
      await b.sync.release(t, i, 'deals', 'B');
      expect(await a.sync.acquire(t, i, 'deals', 'A', T0 + 10_000, T0 + 30_000)).toMatchObject({ lease_holder: 'A' });

      // Racing for a free lease from both instances: exactly one wins.
      const t2 = id('t');
      const tries = await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 ? a : b).sync.acquire(t2, i, 'deals', `h${n}`, T0, T0 + 1000)));
      expect(tries.filter(Boolean)).toHaveLength(1);
    });

    it('fences a page by the lease: a worker whose lease was taken over writes nothing', async () => {
      const s = await started('A');
      expect(await a.sync.commitPage(s.page([rec('k1')], { cursor: 'c1', resume: '{"query":{"after":"1"}}' }))).toEqual({ created: ['k1'], updated: [] });
      // A's lease expires and B takes the stream over with a run of its own.
      expect(await b.sync.acquire(s.tenantId, s.integrationId, s.stream, 'B', T0 + 60_000, T0 + 120_000)).toMatchObject({ lease_holder: 'B', cursor: 'c1' });
      // Fenced by the holder alone (the state's run is still A's) ...
      expect(await a.sync.commitPage(s.page([rec('k1', 2), rec('k2')], { cursor: 'c2', resume: null }))).toBeUndefined();
      expect(await a.sync.getState(s.tenantId, s.integrationId, s.stream)).toMatchObject({ cursor: 'c1', run_id: s.run.id, lease_holder: 'B' });
      // ... and once B has started its own run.
      const runB = newRun(s.tenantId, s.integrationId, s.stream);
      await b.sync.startRun(runB);
      expect(await a.sync.commitPage(s.page([rec('k1', 2), rec('k2')], { cursor: 'c2', resume: null }))).toBeUndefined();
      const st = await a.sync.getState(s.tenantId, s.integrationId, s.stream);
      expect(st).toMatchObject({ cursor: 'c1', resume: '{"query":{"after":"1"}}', run_id: runB.id, lease_holder: 'B' });
      const recs = await a.sync.records(s.tenantId, { page: 1, perPage: 10 });
      expect(recs.items.map((r) => [r.key, r.data])).toEqual([['k1', { id: 'k1', v: 1 }]]);
      expect(await a.sync.getRun(s.tenantId, s.run.id)).toMatchObject({ pages: 1, records_read: 1, records_created: 1 });
      // The holder with a stale run id is fenced too.
      expect(await b.sync.commitPage({ ...s.page([rec('k3')]), holder: 'B' })).toBeUndefined();
      expect(await b.sync.commitPage({ ...s.page([rec('k3')]), holder: 'B', runId: runB.id })).toEqual({ created: ['k3'], updated: [] });
    });

    it('counts created, updated and unchanged records by key and hash, and the run with them', async () => {
      const s = await started();
      const one = await a.sync.commitPage(s.page([rec('k1'), rec('k2'), rec('k3'), rec('k3', 'last')], { invalidKeys: ['bad1'] }));
      expect(one).toEqual({ created: ['k1', 'k2', 'k3'], updated: [] });
      const two = await a.sync.commitPage(s.page([rec('k1'), rec('k2', 2), rec('k4')], { invalidKeys: ['bad2', 'bad3'] }));
      expect(two).toEqual({ created: ['k4'], updated: ['k2'] });
      const run = await a.sync.getRun(s.tenantId, s.run.id);
      expect(run).toMatchObject({ pages: 2, records_read: 10, records_created: 4, records_updated: 1, records_invalid: 3, invalid_keys: ['bad1', 'bad2', 'bad3'], full_refresh: false, status: 'running' });
      const recs = await a.sync.records(s.tenantId, { page: 1, perPage: 10 });
      expect(recs.total).toBe(4);
      expect(Object.fromEntries(recs.items.map((r) => [r.key, r.data]))).toEqual({ k1: { id: 'k1', v: 1 }, k2: { id: 'k2', v: 2 }, k3: { id: 'k3', v: 'last' }, k4: { id: 'k4', v: 1 } });
      for (const r of recs.items) expect(r).toMatchObject({ tenant_id: s.tenantId, integration_id: s.integrationId, provider: 'hubspot', stream: 'contacts', model: 'contact', seen_run_id: s.run.id, deleted_at: null });
      // Unchanged records keep their updated_at; a second run marks them seen without counting them.
      const k1 = recs.items.find((r) => r.key === 'k1')!;
      await a.sync.finishRun(s.tenantId, s.run.id, { status: 'succeeded', finished_at: iso(Date.now()), error: null, cursor: null });
      const run2 = newRun(s.tenantId, s.integrationId, s.stream);
      await a.sync.startRun(run2);
      expect(await a.sync.commitPage({ ...s.page([rec('k1')]), runId: run2.id, now: iso(Date.now() + 5000) })).toEqual({ created: [], updated: [] });
      const after = (await a.sync.records(s.tenantId, { page: 1, perPage: 10 })).items.find((r) => r.key === 'k1')!;
      expect(after).toMatchObject({ updated_at: k1.updated_at, seen_run_id: run2.id });
      // Write-back outside a run follows the same rules and leaves seen_run_id alone.
      const one1 = { tenant_id: s.tenantId, integration_id: s.integrationId, provider: 'hubspot', stream: s.stream, model: 'contact', now: iso(Date.now()) };
      expect(await a.sync.upsertOne({ ...one1, ...rec('k1') })).toBe('unchanged');
      expect(await a.sync.upsertOne({ ...one1, ...rec('k1', 9) })).toBe('updated');
      expect(await a.sync.upsertOne({ ...one1, ...rec('k9') })).toBe('created');
      const k9 = (await a.sync.records(s.tenantId, { page: 1, perPage: 10 })).items.find((r) => r.key === 'k9');
      expect(k9?.seen_run_id).toBeNull();
    });

    it('commits the cursor and resume token with each page, and settles them when the run finishes', async () => {
      const s = await started();
      await a.sync.commitPage(s.page([rec('k1')], { cursor: '2026-01-01', resume: '{"query":{"page":"2"}}' }));
      expect(await b.sync.getState(s.tenantId, s.integrationId, s.stream)).toMatchObject({ cursor: '2026-01-01', resume: '{"query":{"page":"2"}}', run_id: s.run.id });
      // Killed here: a new run (the lease expired) finds the resume token where the last page left it.
      const resumed = await b.sync.acquire(s.tenantId, s.integrationId, s.stream, 'w2', T0 + 60_000, T0 + 120_000);
      expect(resumed).toMatchObject({ cursor: '2026-01-01', resume: '{"query":{"page":"2"}}' });
      const run2 = newRun(s.tenantId, s.integrationId, s.stream);
      await b.sync.startRun(run2);
      await b.sync.commitPage({ ...s.page([rec('k2')], { cursor: '2026-01-02', resume: null }), holder: 'w2', runId: run2.id });
      // The first run cannot settle the state any more; the current one can.
      expect(await a.sync.finishRun(s.tenantId, s.run.id, { status: 'failed', finished_at: iso(Date.now()), error: 'killed', cursor: null }, { cursor: null, resume: null })).toBe(true);
      expect(await b.sync.getState(s.tenantId, s.integrationId, s.stream)).toMatchObject({ cursor: '2026-01-02', run_id: run2.id });
      expect(await b.sync.finishRun(s.tenantId, run2.id, { status: 'succeeded', finished_at: iso(Date.now()), error: null, cursor: '2026-01-02' }, { cursor: '2026-01-02', resume: null })).toBe(true);
      expect(await b.sync.finishRun(s.tenantId, run2.id, { status: 'failed', finished_at: iso(Date.now()), error: 'again', cursor: null })).toBe(false);
      expect(await a.sync.getState(s.tenantId, s.integrationId, s.stream)).toMatchObject({ cursor: '2026-01-02', resume: null, run_id: null });
      expect(await a.sync.getRun(s.tenantId, run2.id)).toMatchObject({ status: 'succeeded', cursor: '2026-01-02', error: null, pages: 1 });
      // A failed run without a state keeps the committed cursor and resume token.
      const run3 = newRun(s.tenantId, s.integrationId, s.stream);
      await b.sync.startRun(run3);
      await b.sync.commitPage({ ...s.page([rec('k3')], { cursor: '2026-01-03', resume: '{"url":"/next"}' }), holder: 'w2', runId: run3.id });
      expect(await b.sync.finishRun(s.tenantId, run3.id, { status: 'failed', finished_at: iso(Date.now()), error: 'boom', cursor: '2026-01-03' })).toBe(true);
      expect(await a.sync.getState(s.tenantId, s.integrationId, s.stream)).toMatchObject({ cursor: '2026-01-03', resume: '{"url":"/next"}', run_id: null });
    });

    it('soft-deletes what a full refresh did not see, and creates it again when it comes back', async () => {
      const s = await started('w1', { full_refresh: true });
      await a.sync.commitPage(s.page([rec('k1'), rec('k2'), rec('k3')]));
      await a.sync.finishRun(s.tenantId, s.run.id, { status: 'succeeded', finished_at: iso(Date.now()), error: null, cursor: null }, { cursor: null, resume: null });
      const run2 = newRun(s.tenantId, s.integrationId, s.stream, { full_refresh: true });
      await a.sync.startRun(run2);
      await a.sync.commitPage({ ...s.page([rec('k1'), rec('k3')]), runId: run2.id });
      // Only the stream's current run deletes.
      expect(await a.sync.deleteUnseen(s.tenantId, s.integrationId, s.stream, s.run.id, iso(Date.now()))).toEqual([]);
      const now = iso(Date.now() + 1000);
      expect(await a.sync.deleteUnseen(s.tenantId, s.integrationId, s.stream, run2.id, now)).toEqual(['k2']);
      expect(await a.sync.deleteUnseen(s.tenantId, s.integrationId, s.stream, run2.id, now)).toEqual([]);
      expect((await a.sync.getRun(s.tenantId, run2.id))?.records_deleted).toBe(1);
      const live = await a.sync.records(s.tenantId, { page: 1, perPage: 10 });
      expect(live.items.map((r) => r.key).sort()).toEqual(['k1', 'k3']);
      const all = await a.sync.records(s.tenantId, { page: 1, perPage: 10, include_deleted: true });
      expect(all.items[0]).toMatchObject({ key: 'k2', deleted_at: now, updated_at: now });
      await a.sync.finishRun(s.tenantId, run2.id, { status: 'succeeded', finished_at: iso(Date.now()), error: null, cursor: null });
      const run3 = newRun(s.tenantId, s.integrationId, s.stream);
      await a.sync.startRun(run3);
      expect(await a.sync.commitPage({ ...s.page([rec('k2')]), runId: run3.id })).toEqual({ created: ['k2'], updated: [] });
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10 })).total).toBe(3);
    });

    it('scopes records, runs and state to their tenant, filters and orders records, and purges one integration', async () => {
      const s = await started();
      const o = await started();
      await a.sync.commitPage(s.page([rec('k1'), rec('k2')], { now: '2026-03-01T00:00:01.000Z' }));
      await a.sync.commitPage(s.page([rec('k3')], { now: '2026-03-01T00:00:02.000Z', stream: s.stream }));
      await a.sync.commitPage(o.page([rec('x1')]));
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10 })).items.map((r) => r.key)).toEqual(['k3', 'k2', 'k1']);
      expect((await a.sync.records(o.tenantId, { page: 1, perPage: 10 })).items.map((r) => r.key)).toEqual(['x1']);
      // Another tenant's integration id as a filter finds nothing; nor do its runs, run or state.
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10, integration_id: o.integrationId })).total).toBe(0);
      expect((await a.sync.runs(s.tenantId, o.integrationId, { page: 1, perPage: 10 })).total).toBe(0);
      expect(await a.sync.getRun(s.tenantId, o.run.id)).toBeUndefined();
      expect(await a.sync.getState(s.tenantId, o.integrationId, o.stream)).toBeUndefined();
      expect(await a.sync.deleteUnseen(s.tenantId, o.integrationId, o.stream, o.run.id, iso(Date.now()))).toEqual([]);
      expect(await a.sync.finishRun(s.tenantId, o.run.id, { status: 'failed', finished_at: iso(Date.now()), error: 'x', cursor: null })).toBe(false);
      expect((await a.sync.records(o.tenantId, { page: 1, perPage: 10 })).items.map((r) => r.deleted_at)).toEqual([null]);
      // Filters and paging.
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10, updated_since: '2026-03-01T00:00:02.000Z' })).items.map((r) => r.key)).toEqual(['k3']);
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10, stream: 'deals' })).total).toBe(0);
      expect(await a.sync.records(s.tenantId, { page: 2, perPage: 2, stream: 'contacts', integration_id: s.integrationId })).toMatchObject({ total: 3, items: [{ key: 'k1' }] });
      const runs = await a.sync.runs(s.tenantId, s.integrationId, { page: 1, perPage: 10, stream: 'contacts' });
      expect(runs.items.map((r) => r.id)).toEqual([s.run.id]);
      // Newest first.
      const later = newRun(s.tenantId, s.integrationId, s.stream, { started_at: iso(Date.now() + 60_000) });
      await a.sync.startRun(later);
      expect((await a.sync.runs(s.tenantId, s.integrationId, { page: 1, perPage: 10 })).items.map((r) => r.id)).toEqual([later.id, s.run.id]);
      // Purging one tenant's integration leaves the other's alone.
      await a.sync.purge(o.tenantId, s.integrationId);
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10 })).total).toBe(3);
      await a.sync.purge(s.tenantId, s.integrationId);
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 10, include_deleted: true })).total).toBe(0);
      expect((await a.sync.runs(s.tenantId, s.integrationId, { page: 1, perPage: 10 })).total).toBe(0);
      expect(await a.sync.getState(s.tenantId, s.integrationId, s.stream)).toBeUndefined();
      expect((await a.sync.records(o.tenantId, { page: 1, perPage: 10 })).total).toBe(1);
    });

    it('commits a page of 3,000 records (more parameters than one SQLite statement binds) in one transaction', async () => {
      const s = await started();
      const many = Array.from({ length: 3000 }, (_, n) => rec(`k${String(n).padStart(4, '0')}`, n));
      const one = await a.sync.commitPage(s.page(many, { cursor: 'c', invalidKeys: Array.from({ length: 150 }, (_, n) => `bad${n}`) }));
      expect(one?.created).toHaveLength(3000);
      expect(one?.updated).toEqual([]);
      const again = await a.sync.commitPage(s.page(many.map((r, n) => (n % 10 ? r : rec(r.key, `changed ${n}`))), { cursor: 'c' }));
      expect(again?.created).toEqual([]);
      expect(again?.updated).toHaveLength(300);
      expect((await a.sync.records(s.tenantId, { page: 1, perPage: 1 })).total).toBe(3000);
      const run = await a.sync.getRun(s.tenantId, s.run.id);
      expect(run).toMatchObject({ pages: 2, records_read: 6150, records_created: 3000, records_updated: 300, records_invalid: 150 });
      expect(run?.invalid_keys).toHaveLength(100);
      // A page that fails part-way (here: a record whose data cannot be stored) leaves nothing behind.
      const broken = [...many.slice(0, 2000).map((r) => rec(r.key, 'new')), { key: 'zz', data: { bad: 1n } as unknown as Record<string, unknown>, hash: 'x' }];
      await expect(a.sync.commitPage(s.page(broken, { cursor: 'c2' }))).rejects.toThrow();
      expect(await a.sync.getState(s.tenantId, s.integrationId, s.stream)).toMatchObject({ cursor: 'c' });
      const k0 = (await a.sync.records(s.tenantId, { page: 1, perPage: 3000 })).items.find((r) => r.key === 'k0001');
      expect(k0?.data).toEqual({ id: 'k0001', v: 1 });
    });
  });
}
