// Sync end to end over the API (issue 10): an active integration's stream is scheduled; POST
// /integrations/{id}/sync runs it as a job; pages are read into records valid against their model;
// a second run is incremental (the cursor reached is sent, only changes are written); a full refresh
// soft-deletes what disappeared; records invalid against the model are counted and named, never
// stored; one run per stream at a time; bad requests answer 4xx naming the field.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, connectorsDirWith, type TestPlatform } from '../helpers/platform.ts';
import { startServer, type SeenRequest } from '../helpers/http.ts';
import { agendaJobs, runAgendaJobsNow } from '../helpers/store.ts';
import { models } from '../../runtime/manifest/models.ts';
import { crmWithStreams } from '../helpers/connector.ts';

interface SourceContact { id: string; email: string; updated: string }
/** The provider's contacts; tests change it between runs. */
let source: SourceContact[] = [];
const seen: SeenRequest[] = [];
let holdMs = 0;

const MANIFEST = `${crmWithStreams({ name: 'acme_sync', displayName: 'Acme Sync CRM' })}  contacts:
    model: contact
    request: { method: GET, path: /contacts, query: { limit: "2" } }
    records: results
    mapping: '{ "id": id, "email": email, "updated_at": updated }'
    primary_key: id
    cursor: { field: updated_at, param: updated_since }
    pagination: { type: cursor, next: next_after, param: after }
    schedule: 1 hour
`;

let tp: TestPlatform;
let provider: Awaited<ReturnType<typeof startServer>>;
let key: string;
let tenantId: string;
let integrationId: string;

async function runs() {
  return (await tp.api(key, 'GET', `/integrations/${integrationId}/sync-runs`)).body.data as Array<Record<string, any>>;
}

/** Queues a run and waits until the newest run (a new one) has finished. */
async function syncNow(body: Record<string, unknown> = {}) {
  const before = (await runs()).length;
  const res = await tp.api(key, 'POST', `/integrations/${integrationId}/sync`, body);
  expect(res.status).toBe(202);
  return tp.waitFor(async () => {
    const list = await runs();
    return list.length > before && list[0]!['status'] !== 'running' ? list[0]! : undefined;
  }, 'the sync run to finish', 20_000);
}

async function records(query = '') {
  return (await tp.api(key, 'GET', `/records?stream=contacts&integration_id=${integrationId}&per_page=100${query}`)).body.data as Array<Record<string, any>>;
}

beforeAll(async () => {
  provider = await startServer((r) => {
    seen.push(r);
    const q = new URL(r.url, 'http://x').searchParams;
    const since = q.get('updated_since');
    const all = source.filter((c) => !since || c.updated > since).sort((a, b) => a.id.localeCompare(b.id));
    const after = q.get('after');
    const from = after ? all.findIndex((c) => c.id === after) + 1 : 0;
    const page = all.slice(from, from + Number(q.get('limit') ?? 2));
    const more = from + page.length < all.length;
    return { status: 200, body: { results: page, next_after: more ? page[page.length - 1]!.id : null }, delayMs: holdMs };
  });
  tp = await startTestPlatform({ PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ acme_sync: MANIFEST }), PLUGBOARD_BASE_URL_ACME_SYNC: provider.url });
  const t = await tp.tenant();
  key = t.key;
  tenantId = t.id;
  const created = await tp.api(key, 'POST', '/integrations', { provider: 'acme_sync', credentials: { token: 'tok_sync_secret_1234567890' } });
  expect(created.status).toBe(201);
  integrationId = created.body.data.id;
  await tp.waitFor(async () => (await tp.api(key, 'GET', `/integrations/${integrationId}`)).body.data.status === 'active', 'the integration to be active');
});

afterAll(async () => {
  await tp?.close();
  await provider?.close();
});

describe('sync over the API', () => {
  it('schedules the stream of an integration that became active, on its manifest schedule', async () => {
    const jobs = await tp.waitFor(async () => {
      const j = (await agendaJobs(tp.platform.store, 'sync-stream')).filter((x) => x.data['integration_id'] === integrationId && x.data['trigger'] === 'schedule');
      return j.length ? j : undefined;
    }, 'the recurring sync job');
    expect(jobs.map((j) => j.data['stream'])).toEqual(['contacts']);
    // Its first run starts at once (the backfill after connecting); the provider has nothing yet.
    const first = await tp.waitFor(async () => {
      const list = await runs();
      return list.length && list.every((r) => r['status'] !== 'running') ? list : undefined;
    }, 'the first scheduled run');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ stream: 'contacts', status: 'succeeded', records_read: 0, full_refresh: false });
  });

  it('reads every page into records valid against the model', async () => {
    source = [1, 2, 3, 4, 5].map((i) => ({ id: `c${i}`, email: `p${i}@example.com`, updated: `2024-03-0${i}T10:00:00Z` }));
    const run = await syncNow();
    expect(run).toMatchObject({ stream: 'contacts', status: 'succeeded', pages: 3, records_read: 5, records_created: 5, records_updated: 0, records_invalid: 0, cursor: '2024-03-05T10:00:00Z', error: null });
    const list = await records();
    expect(list.map((r) => r['key']).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    const contact = models().get('contact')!;
    for (const r of list) {
      expect(r).toMatchObject({ integration_id: integrationId, provider: 'acme_sync', stream: 'contacts', model: 'contact', deleted_at: null });
      expect(contact.validate(r['data']), JSON.stringify(contact.validate.errors)).toBe(true);
    }
    // The provider's token never shows in what the API answered.
    expect(tp.responses.join('\n')).not.toContain('tok_sync_secret_1234567890');
  });

  it('a second run is incremental: sends the cursor reached and writes only what changed', async () => {
    seen.length = 0;
    source = source.map((c) => (c.id === 'c2' ? { ...c, email: 'changed@example.com', updated: '2024-03-06T10:00:00Z' } : c));
    source.push({ id: 'c6', email: 'p6@example.com', updated: '2024-03-07T10:00:00Z' });
    const run = await syncNow();
    expect(run).toMatchObject({ status: 'succeeded', records_read: 2, records_created: 1, records_updated: 1, cursor: '2024-03-07T10:00:00Z' });
    expect(seen.map((r) => new URL(r.url, 'http://x').searchParams.get('updated_since'))).toEqual(seen.map(() => '2024-03-05T10:00:00Z'));
    const c2 = (await records()).find((r) => r['key'] === 'c2')!;
    expect(c2['data']['email']).toBe('changed@example.com');
  });

  it('a full refresh reads everything again and soft-deletes what disappeared', async () => {
    source = source.filter((c) => c.id !== 'c3');
    const run = await syncNow({ full_refresh: true });
    expect(run).toMatchObject({ status: 'succeeded', full_refresh: true, records_read: 5, records_created: 0, records_updated: 0, records_deleted: 1 });
    expect((await records()).map((r) => r['key']).sort()).toEqual(['c1', 'c2', 'c4', 'c5', 'c6']);
    // Incremental readers see the deletion.
    const since = await records(`&updated_since=${encodeURIComponent(run['started_at'])}`);
    expect(since.find((r) => r['key'] === 'c3')?.['deleted_at']).toBeTruthy();
  });

  it('records invalid against the model are counted and named, never stored', async () => {
    source.push({ id: 'c7', email: 'not-an-email', updated: '2024-03-08T10:00:00Z' });
    const run = await syncNow();
    expect(run).toMatchObject({ status: 'succeeded', records_invalid: 1, invalid_keys: ['c7'], records_created: 0 });
    expect((await records()).map((r) => r['key'])).not.toContain('c7');
  });

  it('one run per stream at a time: a second run while one holds the stream answers busy', async () => {
    holdMs = 300;
    try {
      const [a, b] = await Promise.all([
        tp.platform.sync.run(tenantId, integrationId, 'contacts', { fullRefresh: true }),
        new Promise((r) => setTimeout(r, 100)).then(() => tp.platform.sync.run(tenantId, integrationId, 'contacts', { fullRefresh: true })),
      ]);
      expect(typeof a === 'object' && a.status).toBe('succeeded');
      expect(b).toBe('busy');
    } finally {
      holdMs = 0;
    }
  });

  it('answers bad requests with a 4xx naming the field', async () => {
    const unknown = await tp.api(key, 'POST', `/integrations/${integrationId}/sync`, { stream: 'deals' });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain('stream');
    const extra = await tp.api(key, 'POST', `/integrations/${integrationId}/sync`, { stream: 'contacts', fast: true });
    expect(extra.status).toBeGreaterThanOrEqual(400);
    expect(extra.status).toBeLessThan(500);
    expect(JSON.stringify(extra.body)).toContain('fast');
    const missing = await tp.api(key, 'POST', '/integrations/01jzzzzzzzzzzzzzzzzzzzzzzz/sync', {});
    expect(missing.status).toBe(404);
    const slack = await tp.api(key, 'POST', '/integrations', { provider: 'slack', credentials: { bot_token: 'xoxb-1234567890-abcdefghij', signing_secret: 'flow-signing-secret-0000000000' } });
    expect(slack.status).toBe(201);
    const noStreams = await tp.api(key, 'POST', `/integrations/${slack.body.data.id}/sync`, {});
    expect(noStreams.status).toBe(422);
    expect(JSON.stringify(noStreams.body)).toContain('stream');
    const badDate = await tp.api(key, 'GET', '/records?updated_since=yesterday');
    expect(badDate.status).toBe(422);
  });

  // Last: it deletes the integration.
  it('deleting the integration purges its records and runs, and its recurring job goes with it', async () => {
    expect((await records()).length).toBeGreaterThan(0);
    expect((await tp.api(key, 'DELETE', `/integrations/${integrationId}`)).status).toBe(200);
    expect((await tp.api(key, 'GET', `/records?integration_id=${integrationId}`)).body.data).toEqual([]);
    expect(await tp.platform.store.sync.runs(tenantId, integrationId, { page: 1, perPage: 10 })).toMatchObject({ total: 0 });
    expect(await runAgendaJobsNow(tp.platform.store, 'sync-stream', (d) => d['integration_id'] === integrationId)).toBe(1);
    await tp.waitFor(async () => !(await agendaJobs(tp.platform.store, 'sync-stream')).some((j) => j.data['integration_id'] === integrationId), 'the recurring job to remove itself');
  });
});
