// Deleting an integration while one of its streams commits a page, on PostgreSQL: the purge and the
// page take their locks in one order (state row, records, runs), so neither waits on the other in a
// cycle. A CI run once answered DELETE /integrations/{id} with a 500: the purge deleted records first
// and then waited on the state row a page held, while the page waited on those records (deadlock).
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../runtime/store/postgres/store.ts';
import { dropSchemas, postgresGate, schemaUrl } from './postgres-available.ts';

const gate = await postgresGate('test/store/sync-purge-race.test.ts');
const id = (p: string) => `${p}_${randomBytes(4).toString('hex')}`;

describe.skipIf(gate.skip)('Store.sync.purge on PostgreSQL beside a page being committed', () => {
  const { schema, url } = schemaUrl();
  let store: PostgresStore;
  let page: pg.Client;

  beforeAll(async () => {
    if (gate.reason) throw new Error(`PostgreSQL is required when CI is set: ${gate.reason}`);
    store = new PostgresStore(url);
    await store.migrate();
    page = new pg.Client({ connectionString: url });
    await page.connect();
    await page.query(`SET search_path TO "${schema}"`);
  });

  afterAll(async () => {
    await page?.end().catch(() => undefined);
    await store?.close();
    await dropSchemas([schema]);
  });

  it('waits for the page and then removes its records, runs and state, with no deadlock', async () => {
    const t = id('t');
    const i = id('i');
    const now = new Date().toISOString();
    expect(await store.sync.acquire(t, i, 'contacts', 'w1', Date.now(), Date.now() + 60_000)).toBeDefined();
    const run = {
      id: id('run'), tenant_id: t, integration_id: i, stream: 'contacts', full_refresh: false, status: 'running' as const, started_at: now, finished_at: null,
      pages: 0, records_read: 0, records_created: 0, records_updated: 0, records_deleted: 0, records_invalid: 0, invalid_keys: [], cursor: null, error: null,
    };
    await store.sync.startRun(run);
    const first = { tenantId: t, integrationId: i, stream: 'contacts', provider: 'hubspot', model: 'contact', runId: run.id, holder: 'w1', invalidKeys: [], cursor: null, resume: null, now };
    expect(await store.sync.commitPage({ ...first, records: [{ key: 'k1', data: { id: 'k1' }, hash: 'h1' }] })).toEqual({ created: ['k1'], updated: [] });

    // A second page, statement by statement as commitPage runs them: the fence on the state row ...
    await page.query('BEGIN');
    expect((await page.query('UPDATE sync_state SET updated_at = $1 WHERE tenant_id = $2 AND integration_id = $3 AND stream = $4 AND lease_holder = $5', [now, t, i, 'contacts', 'w1'])).rowCount).toBe(1);
    // ... while the integration is deleted ...
    const purged = store.sync.purge(t, i).then(() => 'done', (err: Error) => `failed: ${err.message}`);
    await new Promise((r) => setTimeout(r, 300));
    // ... and then the page's records. Had the purge taken the records first, this upsert and the
    // purge would wait on each other and PostgreSQL would abort one of them (deadlock detected).
    await page.query(
      `INSERT INTO records (tenant_id, integration_id, provider, stream, model, "key", data, hash, created_at, updated_at, deleted_at, seen_run_id)
       VALUES ($1, $2, 'hubspot', 'contacts', 'contact', 'k1', '{"id":"k1","v":2}', 'h2', $3, $3, NULL, $4)
       ON CONFLICT (tenant_id, integration_id, stream, "key") DO UPDATE SET data = excluded.data, hash = excluded.hash`,
      [t, i, now, run.id],
    );
    await page.query('COMMIT');
    expect(await purged).toBe('done');

    // The purge ran after the page: nothing of the stream is left.
    expect(await store.sync.getState(t, i, 'contacts')).toBeUndefined();
    expect(await store.sync.getRun(t, run.id)).toBeUndefined();
    expect((await store.sync.records(t, { page: 1, perPage: 10, include_deleted: true })).items).toEqual([]);
  });
});
