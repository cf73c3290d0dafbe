// A sync run killed by SIGKILL mid-way resumes from its last committed page (issue 10): a real
// `plugboard serve` reads 20 pages of 50 contacts from a loopback provider that holds each page
// request; the process is killed while a page is in flight; after a restart the job comes back
// (its Agenda lock expires), the stream's lease has expired, and the run continues from the page
// after the last committed one. Every contact ends up stored once, no page is skipped, and no page
// before the resume point is read again.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../runtime/store/index.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { newTestDatabase, sqlOne, sqlQuery, type TestDatabase } from '../helpers/store.ts';
import { startServer } from '../helpers/http.ts';
import { connectorsDirWith } from '../helpers/platform.ts';
import { crmWithStreams } from '../helpers/connector.ts';
import { processes, until, SERVE_READY } from '../helpers/processes.ts';

const PAGES = 20;
const PAGE_SIZE = 50;
const HOLD_MS = 150;
/** The page whose request, once it arrives, is the moment to kill (pages before it are committed). */
const KILL_AT_PAGE = 8;
const LEASE_MS = 1500;

const contacts = Array.from({ length: PAGES * PAGE_SIZE }, (_, i) => ({ id: `c${String(i + 1).padStart(4, '0')}`, email: `p${i + 1}@example.com`, updated: '2024-03-01T10:00:00Z' }));

const MANIFEST = `${crmWithStreams({ name: 'acme_pages', displayName: 'Acme Pages CRM' })}  contacts:
    model: contact
    request: { method: GET, path: /contacts }
    records: results
    mapping: '{ "id": id, "email": email, "updated_at": updated }'
    primary_key: id
    pagination: { type: page, param: page, page_size: ${PAGE_SIZE}, page_size_param: limit }
`;

const procs = processes();
let db: TestDatabase;
let provider: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  provider = await startServer((r) => {
    const q = new URL(r.url, 'http://x').searchParams;
    const page = Number(q.get('page'));
    const size = Number(q.get('limit'));
    return { status: 200, body: { results: contacts.slice((page - 1) * size, page * size) }, delayMs: HOLD_MS };
  });
  db = newTestDatabase(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-sync-crash-')));
});

afterAll(async () => {
  await procs.killAll();
  await provider?.close();
  await db?.drop();
});

/** The page numbers the provider was asked for, in order. */
const pagesAsked = () => provider.seen.map((r) => Number(new URL(r.url, 'http://x').searchParams.get('page')));

describe('a sync run killed mid-way', () => {
  it('resumes from its last committed page after SIGKILL and a restart: every record once, no page skipped', async () => {
    const env: Record<string, string> = {
      PORT: '0',
      LOG_LEVEL: 'info',
      ...db.env,
      PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ acme_pages: MANIFEST }),
      PLUGBOARD_BASE_URL_ACME_PAGES: provider.url,
      PLUGBOARD_JOBS_POLL_MS: '50',
      // Longer than a whole run (so a live run's job is never taken twice), short enough that the dead process's job comes back soon.
      PLUGBOARD_JOBS_LOCK_MS: '8000',
      PLUGBOARD_SYNC_LEASE_MS: String(LEASE_MS),
    };
    const store = await openStore(env.PLUGBOARD_DATABASE_URL);
    const tenant = await createTenant(store, 'Crash Sync');
    await store.close();

    const first = await procs.start(['serve'], env, SERVE_READY);
    const base = first.match[1]!;
    const api = async (url: string, method: string, p: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${p}`, { method, headers: { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const created = await api(base, 'POST', '/integrations', { provider: 'acme_pages', credentials: { token: 'tok_pages_secret_1234567890' } });
    expect(created.status).toBe(201);
    const integrationId: string = created.body.data.id;
    await until('the integration to be active', async () => (await api(base, 'GET', `/integrations/${integrationId}`)).body.data?.status === 'active', 20_000, 200);
    expect((await api(base, 'POST', `/integrations/${integrationId}/sync`, { stream: 'contacts' })).status).toBe(202);

    // The request for page KILL_AT_PAGE is sent only after page KILL_AT_PAGE - 1 committed; the provider holds it.
    await until(`the request for page ${KILL_AT_PAGE}`, () => pagesAsked().includes(KILL_AT_PAGE));
    await procs.kill(first.child);
    const askedBeforeKill = pagesAsked();
    expect(askedBeforeKill).toEqual(Array.from({ length: KILL_AT_PAGE }, (_, i) => i + 1));

    // What the dead process left: pages 1..KILL_AT_PAGE-1 committed, the resume token naming page KILL_AT_PAGE, a lease that will expire.
    const check = await openStore(env.PLUGBOARD_DATABASE_URL);
    try {
      const state = await check.sync.getState(tenant.tenant_id, integrationId, 'contacts');
      expect(state?.resume && JSON.parse(state.resume)).toMatchObject({ query: { page: String(KILL_AT_PAGE) } });
      expect(state?.lease_holder).toBeTruthy();
      const stored = await sqlOne<{ n: number | string }>(check, 'SELECT COUNT(*) AS n FROM records WHERE integration_id = ?', integrationId);
      expect(Number(stored!.n)).toBe((KILL_AT_PAGE - 1) * PAGE_SIZE);
    } finally {
      await check.close();
    }

    const second = await procs.start(['serve'], env, SERVE_READY);
    const base2 = second.match[1]!;
    const runs = async () => {
      const res = await api(base2, 'GET', `/integrations/${integrationId}/sync-runs`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data as Array<Record<string, any>>;
    };
    // Nobody asks again: the killed job comes back by itself once its Agenda lock expires.
    await until('the resumed run to finish', async () => (await runs()).some((r) => r['status'] === 'succeeded'), 40_000, 500);

    // No page skipped, none before the resume point read again; the one in flight at the kill is read again.
    const asked = pagesAsked();
    const counts = new Map<number, number>();
    for (const p of asked) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (let p = 1; p <= PAGES; p++) expect(counts.get(p), `page ${p}`).toBe(p === KILL_AT_PAGE ? 2 : 1);
    expect(asked.slice(askedBeforeKill.length)[0]).toBe(KILL_AT_PAGE);
    // After the last full page the provider is asked once for the next one, which is empty and ends the run.
    expect([...counts.keys()].filter((p) => p > PAGES)).toEqual([PAGES + 1]);

    // Every contact stored exactly once.
    const keys: string[] = [];
    for (let page = 1; ; page++) {
      const res = await api(base2, 'GET', `/records?stream=contacts&integration_id=${integrationId}&per_page=100&page=${page}`);
      expect(res.status).toBe(200);
      keys.push(...(res.body.data as Array<{ key: string }>).map((r) => r.key));
      if (res.body.data.length < 100) break;
    }
    expect(keys.length).toBe(contacts.length);
    expect(new Set(keys).size).toBe(contacts.length);
    expect([...keys].sort()).toEqual(contacts.map((c) => c.id));

    // The two runs: the killed one shows as interrupted (not running forever), the resumed one succeeded;
    // between them each contact was created once.
    const list = await runs();
    expect(list).toHaveLength(2);
    const [resumed, killed] = list;
    expect(resumed).toMatchObject({ status: 'succeeded', records_created: contacts.length - (KILL_AT_PAGE - 1) * PAGE_SIZE, records_updated: 0, error: null });
    expect(killed).toMatchObject({ status: 'failed', pages: KILL_AT_PAGE - 1, records_created: (KILL_AT_PAGE - 1) * PAGE_SIZE });
    expect(killed!['error']).toMatch(/interrupted/);
    expect(list.reduce((n, r) => n + r['records_created'], 0)).toBe(contacts.length);

    // The stream is free and has no resume point left.
    const after = await openStore(env.PLUGBOARD_DATABASE_URL);
    try {
      expect(await sqlQuery(after, 'SELECT key FROM records WHERE integration_id = ? GROUP BY key HAVING COUNT(*) > 1', integrationId)).toEqual([]);
      expect(await after.sync.getState(tenant.tenant_id, integrationId, 'contacts')).toMatchObject({ resume: null, lease_holder: null, run_id: null });
    } finally {
      await after.close();
    }
  }, 90_000);
});
