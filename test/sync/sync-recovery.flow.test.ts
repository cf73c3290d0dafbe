// Sync when things go wrong: a run stopped by max_pages keeps its place (and a full refresh that did
// not see everything deletes nothing); a resume point the provider no longer accepts is dropped and
// the read starts over; the lease is renewed during a slow page; a run whose process died is settled
// as abandoned; keys a database cannot index are invalid records, not a stuck stream; updated_since
// is compared as a time; a provider error that echoes the token keeps it out of the run and the store.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { startTestPlatform, connectorsDirWith, type TestPlatform } from '../helpers/platform.ts';
import { startServer } from '../helpers/http.ts';
import { crmWithStreams } from '../helpers/connector.ts';
import type { SyncRunRow } from '../../runtime/store/sync-types.ts';

const TOKEN = 'tok_recovery_secret_0987654321';
const LEASE_MS = 400;

interface Contact { id: string; email: string; updated: string }
let source: Contact[] = [];
const pagesSeen: string[] = [];
let holdMs = 0;
let expirePage: string | undefined;
let failWith500 = false;

const MANIFEST = `${crmWithStreams({ name: 'acme_recover', displayName: 'Acme Recover CRM' })}  contacts:
    model: contact
    request: { method: GET, path: /contacts }
    records: items
    mapping: '{ "id": id, "email": email, "updated_at": updated }'
    cursor: { field: updated_at, param: updated_since }
    pagination: { type: page, param: page, page_size: 2, page_size_param: per_page, max_pages: 2 }
    schedule: 1 hour
`;

let tp: TestPlatform;
let provider: Awaited<ReturnType<typeof startServer>>;
let tenantId: string;
let key: string;
let integrationId: string;

const contacts = (ids: number[]) => ids.map((i) => ({ id: `c${i}`, email: `p${i}@example.com`, updated: `2024-04-${String(i).padStart(2, '0')}T10:00:00Z` }));
const run = async (fullRefresh = false) => (await tp.platform.sync.run(tenantId, integrationId, 'contacts', { fullRefresh })) as SyncRunRow;
const live = async () => (await tp.platform.store.sync.records(tenantId, { page: 1, perPage: 100, integration_id: integrationId })).items.map((r) => r.key).sort();

beforeAll(async () => {
  provider = await startServer((r) => {
    const q = new URL(r.url, 'http://x').searchParams;
    const page = q.get('page') ?? '1';
    pagesSeen.push(page);
    if (failWith500) return { status: 500, body: { message: `upstream rejected bearer ${TOKEN}` } };
    if (expirePage === page) return { status: 400, body: { message: 'page token expired' } };
    const since = q.get('updated_since');
    const all = source.filter((c) => !since || c.updated > since);
    const n = Number(page);
    return { status: 200, body: { items: all.slice((n - 1) * 2, n * 2) }, delayMs: holdMs };
  });
  tp = await startTestPlatform({ PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ acme_recover: MANIFEST }), PLUGBOARD_BASE_URL_ACME_RECOVER: provider.url, PLUGBOARD_SYNC_LEASE_MS: String(LEASE_MS) });
  const t = await tp.tenant();
  tenantId = t.id;
  key = t.key;
  const created = await tp.api(key, 'POST', '/integrations', { provider: 'acme_recover', credentials: { token: TOKEN } });
  integrationId = created.body.data.id;
  await tp.waitFor(async () => (await tp.api(key, 'GET', `/integrations/${integrationId}`)).body.data.status === 'active', 'the integration to be active');
  // The scheduled first run (source empty) must be over before the tests drive runs themselves: its
  // run settled and its lease released (released just after the run is settled: until then a run
  // started here would find the stream busy).
  await tp.waitFor(async () => {
    const runs = await tp.platform.store.sync.runs(tenantId, integrationId, { page: 1, perPage: 5 });
    const state = await tp.platform.store.sync.getState(tenantId, integrationId, 'contacts');
    return runs.total > 0 && runs.items.every((r) => r.status !== 'running') && !state?.lease_holder;
  }, 'the first scheduled run');
});

afterAll(async () => {
  await tp?.close();
  await provider?.close();
});

beforeEach(() => {
  pagesSeen.length = 0;
  holdMs = 0;
  expirePage = undefined;
  failWith500 = false;
});

describe('sync recovery', () => {
  it('max_pages: the run stops, keeps its place for the next run, and a full refresh then deletes nothing', async () => {
    source = contacts([1, 2, 3, 4, 5]);
    const first = await run();
    expect(first).toMatchObject({ status: 'succeeded', pages: 2, records_created: 4 });
    const second = await run();
    expect(pagesSeen.slice(2)).toEqual(['3', '4']); // resumed at page 3, not from the start
    expect(second).toMatchObject({ status: 'succeeded', records_created: 1 });
    expect(await live()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    const refresh = await run(true);
    expect(refresh).toMatchObject({ status: 'succeeded', pages: 2, records_deleted: 0 });
    expect(await live()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  });

  it('a resume point the provider refuses is dropped: the read starts over at the first page', async () => {
    // The full refresh above stopped at max_pages, so its next run resumes at page 3.
    expirePage = '3';
    const r = await run();
    expect(pagesSeen).toEqual(['3', '1', '2']);
    expect(r).toMatchObject({ status: 'succeeded', pages: 2, error: null });
  });

  it('renews the lease during a slow page: a second run meanwhile finds the stream busy', async () => {
    holdMs = LEASE_MS * 2;
    const slow = run(true);
    await new Promise((r) => setTimeout(r, LEASE_MS * 1.5));
    expect(await tp.platform.sync.run(tenantId, integrationId, 'contacts', {})).toBe('busy');
    expect((await slow).status).toBe('succeeded');
  });

  it('a run whose process died is settled as interrupted when the next run starts', async () => {
    const now = Date.now();
    const state = await tp.platform.store.sync.acquire(tenantId, integrationId, 'contacts', 'dead-process', now, now + 100);
    expect(state).toBeDefined();
    const dead: SyncRunRow = { id: '01jdeadrun0000000000000000', tenant_id: tenantId, integration_id: integrationId, stream: 'contacts', full_refresh: false, status: 'running', started_at: new Date(now).toISOString(), finished_at: null, pages: 0, records_read: 0, records_created: 0, records_updated: 0, records_deleted: 0, records_invalid: 0, invalid_keys: [], cursor: null, error: null };
    await tp.platform.store.sync.startRun(dead);
    await new Promise((r) => setTimeout(r, 150));
    expect((await run()).status).toBe('succeeded');
    expect(await tp.platform.store.sync.getRun(tenantId, dead.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted/) });
  });

  it('keys no index can hold (NUL, very long) are invalid records; the stream goes on', async () => {
    source = [...contacts([1, 2, 3, 4, 5]), { id: 'bad\u0000key', email: 'nul@example.com', updated: '2024-05-01T10:00:00Z' }, { id: 'k'.repeat(600), email: 'long@example.com', updated: '2024-05-02T10:00:00Z' }];
    const r = await run(true);
    // Page 3 onwards (where the bad keys are) follows on the next run: max_pages is 2.
    const next = r.records_invalid ? r : await run();
    expect(next).toMatchObject({ status: 'succeeded', records_invalid: 2 });
    expect(next.invalid_keys.every((k) => k.length <= 200)).toBe(true);
    expect(await live()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  });

  it('updated_since is compared as a time, whatever its offset', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    // The same instant written in +02:00: as text it sorts after the stored UTC times.
    const plus2 = new Date(hourAgo.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const res = await tp.api(key, 'GET', `/records?integration_id=${integrationId}&updated_since=${encodeURIComponent(plus2)}`);
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeGreaterThanOrEqual(5);
  });

  it('a provider error echoing the token: the run fails without it, and it is stored nowhere in plaintext', async () => {
    failWith500 = true;
    const r = await run(true);
    expect(r.status).toBe('failed');
    expect(r.error).toBeTruthy();
    expect(r.error).not.toContain(TOKEN);
    expect(await tp.dumpDatabase()).not.toContain(TOKEN);
    expect(JSON.stringify((await tp.api(key, 'GET', `/integrations/${integrationId}/sync-runs`)).body)).not.toContain(TOKEN);
  });
});
