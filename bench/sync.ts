// Sync throughput (issue 10): records/s from a loopback paginated source (100 records a page, 20,000
// records, cursor pagination) through Plugboard's sync — page requests through the engine, JSONata
// mapping, validation against the contact model, hashing, upsert by key with the page's cursor and
// resume point committed in one transaction (SyncService.run on a platform with the default SQLite
// store) — against a plain loop that fetches the same pages with undici and inserts the same records
// with better-sqlite3, one transaction a page, measured in the same run. Peak RSS is sampled during
// the sync runs (memory should stay flat: pages are committed and dropped as they come).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { readConfig } from '../runtime/config/env.ts';
import { createPlatform } from '../runtime/platform/platform.ts';
import { createTenant } from '../runtime/tenants/tenants.ts';
import { actingAs } from '../runtime/access/audit.ts';
import { record } from './figures.ts';

const PAGE_SIZE = 100;
const TOTAL = Number(process.env.BENCH_SYNC_RECORDS ?? 20_000);
const ROUNDS = 3;

interface RawContact {
  id: string;
  properties: { email: string; firstname: string; lastname: string; phone: string; createdate: string; lastmodifieddate: string };
  archived: boolean;
}

const MANIFEST = (base: string) => `schema_version: 1
name: bench_crm
display_name: Bench CRM
category: crm
base_url: ${base}
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
streams:
  contacts:
    model: contact
    request: { method: GET, path: /crm/v3/objects/contacts, query: { limit: "${PAGE_SIZE}" } }
    records: results
    mapping: '{ "id": id, "email": properties.email, "first_name": properties.firstname, "last_name": properties.lastname, "phone": properties.phone, "created_at": properties.createdate, "updated_at": properties.lastmodifieddate }'
    primary_key: id
    cursor: { field: updated_at }
    pagination: { type: cursor, next: paging.next.after, param: after }
`;

/** The provider: HubSpot-shaped pages, pre-serialised (the source's own cost stays out of both loops). */
function startSource(): Promise<{ server: http.Server; url: string }> {
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  const all: RawContact[] = Array.from({ length: TOTAL }, (_, i) => ({
    id: String(100_000 + i),
    properties: { email: `person${i}@example.com`, firstname: `First${i}`, lastname: `Last${i}`, phone: `+1415555${String(i % 10_000).padStart(4, '0')}`, createdate: new Date(t0 + i * 1000).toISOString(), lastmodifieddate: new Date(t0 + i * 60_000).toISOString() },
    archived: false,
  }));
  const pages = new Map<string, string>();
  for (let from = 0; from < TOTAL; from += PAGE_SIZE) {
    const more = from + PAGE_SIZE < TOTAL;
    pages.set(from === 0 ? '' : String(from), JSON.stringify({ results: all.slice(from, from + PAGE_SIZE), ...(more ? { paging: { next: { after: String(from + PAGE_SIZE) } } } : {}) }));
  }
  const server = http.createServer((req, res) => {
    const after = new URL(req.url!, 'http://x').searchParams.get('after') ?? '';
    const body = pages.get(after);
    req.resume();
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

/** The baseline: undici GET per page, map by hand, one better-sqlite3 transaction of upserts per page. */
function plainLoop(base: string, dbFile: string): () => Promise<number> {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS records (integration_id TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (integration_id, key))`);
  const upsert = db.prepare('INSERT INTO records (integration_id, key, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (integration_id, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at');
  let round = 0;
  return async () => {
    const integration = `plain_${++round}`;
    const page = db.transaction((rows: RawContact[]) => {
      const now = new Date().toISOString();
      for (const r of rows) {
        const p = r.properties;
        const data = { id: r.id, email: p.email, first_name: p.firstname, last_name: p.lastname, phone: p.phone, created_at: p.createdate, updated_at: p.lastmodifieddate };
        upsert.run(integration, r.id, JSON.stringify(data), now);
      }
    });
    let after: string | undefined;
    let n = 0;
    do {
      const res = await request(`${base}/crm/v3/objects/contacts?limit=${PAGE_SIZE}${after ? `&after=${after}` : ''}`, { headers: { authorization: 'Bearer tok_bench', accept: 'application/json' } });
      const body = (await res.body.json()) as { results: RawContact[]; paging?: { next: { after: string } } };
      page(body.results);
      n += body.results.length;
      after = body.paging?.next.after;
    } while (after);
    return n;
  };
}

export async function syncThroughput(): Promise<void> {
  const { server, url } = await startSource();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-sync-'));
  const connectors = path.join(dir, 'connectors');
  fs.mkdirSync(connectors);
  fs.writeFileSync(path.join(connectors, 'bench_crm.yaml'), MANIFEST(url));
  const env = { PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'plugboard.db')}`, PLUGBOARD_CONNECTORS_DIR: connectors, LOG_LEVEL: 'silent' };
  const platform = await createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
  let round = 0;
  /** A fresh tenant and active integration each round (one integration per provider and tenant): its first run creates every record. */
  const syncRound = async (): Promise<number> => {
    const { tenant_id: tenantId } = await createTenant(platform.store, `Bench ${++round}`);
    const ctx = actingAs(tenantId, 'bench');
    const view = await platform.integrations.create(ctx, { provider: 'bench_crm', credentials: { token: 'tok_bench_secret_123456' } });
    if ((await platform.integrations.runVerification(tenantId, view.id, 1)) !== 'active') throw new Error('the bench integration did not become active');
    const run = await platform.sync.run(tenantId, view.id, 'contacts');
    if (typeof run !== 'object' || run.status !== 'succeeded') throw new Error(`the sync run did not succeed: ${JSON.stringify(run)}`);
    if (run.records_created !== TOTAL || run.records_invalid !== 0) throw new Error(`expected ${TOTAL} records created, got ${run.records_created} (${run.records_invalid} invalid)`);
    return run.records_read;
  };
  const plain = plainLoop(url, path.join(dir, 'plain.db'));

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const measure = async (label: string, fn: () => Promise<number>) => {
    const t0 = performance.now();
    const n = await fn();
    const perSec = n / ((performance.now() - t0) / 1000);
    console.log(`  ${label.padEnd(48)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} records/s`);
    return perSec;
  };
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

  console.log(`\nSync throughput (${TOTAL.toLocaleString('en-US')} records, ${PAGE_SIZE} a page, cursor pagination from a loopback source; SQLite; ${ROUNDS} alternating rounds, best of each)`);
  let bestPlain = 0;
  let bestSync = 0;
  const rssAfterRound: number[] = [];
  const rssStart = process.memoryUsage().rss;
  for (let round = 1; round <= ROUNDS; round++) {
    bestPlain = Math.max(bestPlain, await measure(`plain loop (undici + better-sqlite3), round ${round}`, plain));
    bestSync = Math.max(bestSync, await measure(`SyncService.run (map, validate, upsert), round ${round}`, syncRound));
    rssAfterRound.push(process.memoryUsage().rss);
  }
  clearInterval(sampler);
  console.log(`  ${'sync / plain loop (goal >= 0.70x)'.padEnd(48)} ${(bestSync / bestPlain).toFixed(2).padStart(9)} x`);
  console.log(`  ${'RSS at start / after each round'.padEnd(48)} ${mb(rssStart)} / ${rssAfterRound.map(mb).join(', ')}`);
  console.log(`  ${'peak RSS over the run (sampled every 20 ms)'.padEnd(48)} ${mb(peakRss).padStart(9)}`);
  record('sync', { value: bestSync, unit: 'records/s', baseline: bestPlain, baseline_is: 'plain loop: undici GET per page, map by hand, better-sqlite3 upserts in one transaction a page', peak_rss_mb: Math.round(peakRss / 1024 / 1024) });
  await platform.close();
  server.closeAllConnections();
  server.close();
}
