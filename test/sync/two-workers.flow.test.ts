// One run per integration and stream at a time, across processes (issue 10): two `plugboard worker`
// processes share one database; many manual runs of the same stream are queued at once through a
// `serve --no-jobs`. The loopback provider counts page requests in flight for the stream: never more
// than one. Every queued run ends up running (a run that finds the stream busy waits and runs after
// it), each reads every page, and each finishes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore } from '../../runtime/store/index.ts';
import type { Store } from '../../runtime/store/types.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { newTestDatabase, agendaJobs, runAgendaJobsNow, type TestDatabase } from '../helpers/store.ts';
import { connectorsDirWith } from '../helpers/platform.ts';
import { crmWithStreams } from '../helpers/connector.ts';
import { processes, until, SERVE_READY, WORKER_READY, type Started } from '../helpers/processes.ts';

const PAGES = 5;
const PAGE_SIZE = 20;
const HOLD_MS = 100;
/** Manual runs queued at once: more than the two workers' sync slots together (2 x concurrency 2). */
const REQUESTS = 6;

const contacts = Array.from({ length: PAGES * PAGE_SIZE }, (_, i) => ({ id: `c${i + 1}`, email: `p${i + 1}@example.com` }));

const MANIFEST = `${crmWithStreams({ name: 'acme_shared', displayName: 'Acme Shared CRM' })}  contacts:
    model: contact
    request: { method: GET, path: /contacts }
    records: results
    mapping: '{ "id": id, "email": email }'
    pagination: { type: page, param: page, page_size: ${PAGE_SIZE}, page_size_param: limit }
`;

const procs = processes();
let db: TestDatabase;
let provider: http.Server;
let store: Store | undefined;
/** Page requests of the stream in flight now, the most ever, and all of them. */
let inFlight = 0;
let maxInFlight = 0;
let pageRequests = 0;

beforeAll(async () => {
  provider = http.createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    if (!req.url!.startsWith('/contacts')) return void res.writeHead(404).end();
    pageRequests++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const page = Number(q.get('page'));
    const size = Number(q.get('limit'));
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: contacts.slice((page - 1) * size, page * size) }));
    }, HOLD_MS);
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  db = newTestDatabase(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-sync-workers-')));
});

afterAll(async () => {
  await procs.killAll();
  await store?.close();
  provider?.closeAllConnections();
  provider?.close();
  await db?.drop();
});

describe('two workers on one database', () => {
  it('never run the same stream of the same integration at once, and every queued run finishes', async () => {
    const env: Record<string, string> = {
      PORT: '0',
      LOG_LEVEL: 'debug', // the workers log each sync-stream job they ran ("job done")
      ...db.env,
      PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ acme_shared: MANIFEST }),
      PLUGBOARD_BASE_URL_ACME_SHARED: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
      PLUGBOARD_JOBS_POLL_MS: '50',
      PLUGBOARD_SYNC_LEASE_MS: '1500',
    };
    store = await openStore(env.PLUGBOARD_DATABASE_URL);
    const tenant = await createTenant(store, 'Shared Stream');
    const base = (await procs.start(['serve', '--no-jobs'], env, SERVE_READY)).match[1]!;
    const workers: Started[] = [];
    for (let i = 0; i < 2; i++) workers.push(await procs.start(['worker'], env, WORKER_READY));
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${base}/api/v1${p}`, { method, headers: { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const created = await api('POST', '/integrations', { provider: 'acme_shared', credentials: { token: 'tok_shared_secret_1234567890' } });
    expect(created.status).toBe(201);
    const integrationId: string = created.body.data.id;
    await until('the integration to be active (verified by a worker)', async () => (await api('GET', `/integrations/${integrationId}`)).body.data?.status === 'active', 30_000, 200);

    const queued = await Promise.all(Array.from({ length: REQUESTS }, () => api('POST', `/integrations/${integrationId}/sync`, { stream: 'contacts' })));
    expect(queued.map((r) => r.status)).toEqual(queued.map(() => 202));

    // A run that found the stream busy waits (15 s) before trying again: bring those tries forward
    // until every queued run has run and no sync job is left.
    const finishedRuns = async () => (await store!.sync.runs(tenant.tenant_id, integrationId, { page: 1, perPage: 100 })).items.filter((r) => r.status !== 'running');
    await until(`${REQUESTS} finished runs and no sync job left`, async () => {
      const [runs, jobs] = await Promise.all([finishedRuns(), agendaJobs(store!, 'sync-stream')]);
      if (runs.length >= REQUESTS && jobs.length === 0) return true;
      await runAgendaJobsNow(store!, 'sync-stream');
      return false;
    }, 90_000, 250);

    expect(maxInFlight).toBe(1);
    const runs = (await store.sync.runs(tenant.tenant_id, integrationId, { page: 1, perPage: 100 })).items;
    expect(runs).toHaveLength(REQUESTS);
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'succeeded'));
    // Each run read every page (and the empty one after the last full page); the first created every record.
    expect(runs.map((r) => r.records_read)).toEqual(runs.map(() => contacts.length));
    expect(pageRequests).toBe(REQUESTS * (PAGES + 1));
    expect(runs.reduce((n, r) => n + r.records_created, 0)).toBe(contacts.length);
    // No two runs overlapped in time either.
    const spans = runs.map((r) => [Date.parse(r.started_at), Date.parse(r.finished_at!)] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    // Both workers took sync jobs (a run or a busy answer): the exclusion held across processes.
    const jobsDone = workers.map((w) => w.output().split('\n').filter((l) => l.includes('"job":"sync-stream"') && l.includes('job done')).length);
    expect(jobsDone.every((n) => n > 0), `sync jobs per worker: ${jobsDone.join(', ')}`).toBe(true);
  }, 150_000);
});
