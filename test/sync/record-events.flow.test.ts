// Record events end to end (issue 10, DESIGN §10 "Sync details"): a stream's first (backfill) run
// announces itself with sync.completed only; later runs announce every record they create, change
// or (on a full refresh) delete as `<model>.created|updated|deleted`, signed deliveries through the
// outbox, written in the same transaction as the page; events nobody subscribes to are not stored.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startTestPlatform, connectorsDirWith, type TestPlatform } from '../helpers/platform.ts';
import { startServer } from '../helpers/http.ts';
import { sqlQuery } from '../helpers/store.ts';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { validateEventData } from '../../runtime/webhooks/catalog.ts';

interface SourceContact { id: string; email: string; first: string; updated: string }
let source: SourceContact[] = [];

const MANIFEST = `schema_version: 1
name: acme_events
display_name: Acme Events CRM
category: crm
base_url: https://crm.acme.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email, "first": input.first_name }' }
    response: '{ "contact_id": id }'
    record: { stream: contacts, mapping: '{ "id": output.contact_id, "email": input.email, "first_name": input.first_name }' }
  update_contact:
    request: { method: PATCH, path: "/contacts/{{input.contact_id}}", body: '{ "phone": input.phone }' }
    response: '{ "contact_id": id }'
    record: { stream: contacts, update_only: true, mapping: 'input.phone = "none" ? null : { "id": output.contact_id, "phone": input.phone }' }
streams:
  contacts:
    model: contact
    request: { method: GET, path: /contacts }
    records: results
    mapping: '{ "id": id, "email": email, "first_name": first, "updated_at": updated }'
    primary_key: id
    cursor: { field: updated_at, param: updated_since }
    pagination: { type: none }
    schedule: 1 hour
`;

interface Delivery { type: string; data: Record<string, any>; webhookId: string }

let tp: TestPlatform;
let provider: Awaited<ReturnType<typeof startServer>>;
let receiver: Awaited<ReturnType<typeof startServer>>;
let secret = '';
const received: Delivery[] = [];
let key: string;
let tenantId: string;
let integrationId: string;

async function runs() {
  return (await tp.api(key, 'GET', `/integrations/${integrationId}/sync-runs`)).body.data as Array<Record<string, any>>;
}

async function syncNow(body: Record<string, unknown> = {}) {
  const before = (await runs()).length;
  expect((await tp.api(key, 'POST', `/integrations/${integrationId}/sync`, body)).status).toBe(202);
  return tp.waitFor(async () => {
    const list = await runs();
    return list.length > before && list[0]!['status'] !== 'running' ? list[0]! : undefined;
  }, 'the sync run to finish', 20_000);
}

/** Waits until the receiver has the sync.completed of `runId`, then answers what arrived for that run. */
async function eventsOf(runId: string) {
  await tp.waitFor(async () => received.some((d) => d.type === 'sync.completed' && d.data['sync_run_id'] === runId) || undefined, `sync.completed of ${runId}`);
  // Record events are committed with their pages, before the run's sync.completed: give their deliveries a moment.
  await new Promise((r) => setTimeout(r, 300));
  return received.filter((d) => d.data['sync_run_id'] === runId && d.type !== 'sync.completed');
}

beforeAll(async () => {
  source = [1, 2, 3].map((i) => ({ id: `c${i}`, email: `p${i}@example.com`, first: `P${i}`, updated: `2024-03-0${i}T10:00:00Z` }));
  provider = await startServer((r) => {
    if (r.method === 'POST') return { status: 201, body: { id: 'c9' } };
    if (r.method === 'PATCH') return { status: 200, body: { id: r.url.split('/').pop() } };
    const since = new URL(r.url, 'http://x').searchParams.get('updated_since');
    return { status: 200, body: { results: source.filter((c) => !since || c.updated > since) } };
  });
  receiver = await startServer((r) => {
    const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
    try {
      new Webhook(secret).verify(r.body, headers);
    } catch {
      return { status: 400, body: 'bad signature' };
    }
    const body = JSON.parse(r.body);
    received.push({ type: body.type, data: body.data, webhookId: headers['webhook-id'] });
    return { status: 204 };
  });
  tp = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ acme_events: MANIFEST }), PLUGBOARD_BASE_URL_ACME_EVENTS: provider.url, PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1',
  });
  const t = await tp.tenant();
  key = t.key;
  tenantId = t.id;
  // Subscribed before the integration exists: the backfill run is watched from its start.
  const sub = await tp.api(key, 'POST', '/webhooks/subscriptions', { url: `${receiver.url}/hook`, events: ['contact.*', 'sync.completed'] });
  expect(sub.status).toBe(201);
  secret = sub.body.data.secret;
  const created = await tp.api(key, 'POST', '/integrations', { provider: 'acme_events', credentials: { token: 'tok_events_secret_1234567890' } });
  integrationId = created.body.data.id;
});

afterAll(async () => {
  await tp?.close();
  await provider?.close();
  await receiver?.close();
});

describe('record events', () => {
  it('the backfill run announces itself with sync.completed only, not one event per record', async () => {
    const first = await tp.waitFor(async () => {
      const list = await runs();
      return list.length && list[0]!['status'] !== 'running' ? list[0]! : undefined;
    }, 'the backfill run', 20_000);
    expect(first).toMatchObject({ status: 'succeeded', records_created: 3 });
    expect(await eventsOf(first['id'])).toEqual([]);
    const done = received.find((d) => d.type === 'sync.completed' && d.data['sync_run_id'] === first['id'])!;
    expect(done.data).toMatchObject({ integration_id: integrationId, stream: 'contacts', records_created: 3 });
    // Nothing was stored for contact events of the backfill either.
    expect(await sqlQuery(tp.platform.store, "SELECT id FROM events WHERE tenant_id = ? AND type LIKE 'contact.%'", tenantId)).toEqual([]);
  });

  it('a later run announces each created and updated record, with the record and the run', async () => {
    source = source.map((c) => (c.id === 'c2' ? { ...c, email: 'ana@example.com', updated: '2024-03-06T10:00:00Z' } : c));
    source.push({ id: 'c4', email: 'p4@example.com', first: 'P4', updated: '2024-03-07T10:00:00Z' });
    const run = await syncNow();
    expect(run).toMatchObject({ status: 'succeeded', records_created: 1, records_updated: 1 });
    const events = await eventsOf(run['id']);
    expect(events.map((e) => `${e.type} ${e.data['record_id']}`).sort()).toEqual(['contact.created c4', 'contact.updated c2']);
    const created = events.find((e) => e.type === 'contact.created')!;
    expect(created.data).toMatchObject({
      integration_id: integrationId, provider: 'acme_events', stream: 'contacts', sync_run_id: run['id'], record_id: 'c4',
      record: { id: 'c4', email: 'p4@example.com', first_name: 'P4', updated_at: '2024-03-07T10:00:00Z' },
      // the flat fields inbound contact.created events carry
      contact_id: 'c4', email: 'p4@example.com', first_name: 'P4',
    });
    const updated = events.find((e) => e.type === 'contact.updated')!;
    expect(updated.data).toMatchObject({ record_id: 'c2', contact_id: 'c2', email: 'ana@example.com', updated_at: '2024-03-06T10:00:00Z', record: { email: 'ana@example.com' } });
    for (const e of events) expect(validateEventData(e.type, e.data)).toEqual({ ok: true });
    // An unchanged rerun announces nothing.
    const again = await syncNow({ full_refresh: false });
    expect(await eventsOf(again['id'])).toEqual([]);
  });

  it('a full refresh announces each record that disappeared as contact.deleted', async () => {
    source = source.filter((c) => c.id !== 'c1');
    const run = await syncNow({ full_refresh: true });
    expect(run).toMatchObject({ status: 'succeeded', records_deleted: 1, records_created: 0, records_updated: 0 });
    const events = await eventsOf(run['id']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'contact.deleted', data: { record_id: 'c1', stream: 'contacts', sync_run_id: run['id'] } });
    expect(Date.parse(events[0]!.data['deleted_at'])).toBeGreaterThan(Date.parse(run['started_at']) - 1);
    expect(validateEventData('contact.deleted', events[0]!.data)).toEqual({ ok: true });
    // Every delivery is a distinct event (webhook-id), and every contact event stored was delivered.
    const contactEvents = received.filter((d) => d.type.startsWith('contact.'));
    expect(new Set(contactEvents.map((d) => d.webhookId)).size).toBe(contactEvents.length);
    const stored = await sqlQuery(tp.platform.store, "SELECT id FROM events WHERE tenant_id = ? AND type LIKE 'contact.%'", tenantId);
    expect(stored).toHaveLength(contactEvents.length);
  });
});

describe('write-back', () => {
  const records = async () => (await tp.api(key, 'GET', `/records?stream=contacts&integration_id=${integrationId}&per_page=100`)).body.data as Array<Record<string, any>>;
  const recordEvents = (id: string) => received.filter((d) => d.data['sync_run_id'] === null && d.data['record_id'] === id);

  it('a capability with record: writes its result into the stream\'s records before answering, and announces it', async () => {
    const op = await tp.api(key, 'POST', '/operations/create_contact', { input: { email: 'new@example.com', first_name: 'Nia' }, integration_id: integrationId });
    expect(op.status, op.text).toBe(200);
    // Read right after the write: already there.
    expect((await records()).find((r) => r['key'] === 'c9')).toMatchObject({ stream: 'contacts', model: 'contact', data: { id: 'c9', email: 'new@example.com', first_name: 'Nia' }, deleted_at: null });
    await tp.waitFor(async () => recordEvents('c9').length || undefined, 'the write-back event');
    expect(recordEvents('c9').map((d) => d.type)).toEqual(['contact.created']);
    expect(recordEvents('c9')[0]!.data).toMatchObject({ stream: 'contacts', sync_run_id: null, contact_id: 'c9', email: 'new@example.com', record: { id: 'c9', first_name: 'Nia' } });
  });

  it('fields the capability leaves out keep their stored values', async () => {
    const op = await tp.api(key, 'POST', '/operations/update_contact', { input: { contact_id: 'c2', phone: '+14155550123' }, integration_id: integrationId });
    expect(op.status, op.text).toBe(200);
    const c2 = (await records()).find((r) => r['key'] === 'c2')!;
    expect(c2['data']).toEqual({ id: 'c2', email: 'ana@example.com', first_name: 'P2', updated_at: '2024-03-06T10:00:00Z', phone: '+14155550123' });
    await tp.waitFor(async () => recordEvents('c2').length || undefined, 'the write-back event');
    expect(recordEvents('c2')[0]).toMatchObject({ type: 'contact.updated', data: { record: { phone: '+14155550123', email: 'ana@example.com' } } });
  });

  it('update_only writes nothing for a record the stream does not have, and a null mapping writes nothing', async () => {
    expect((await tp.api(key, 'POST', '/operations/update_contact', { input: { contact_id: 'c77', phone: '+14155550199' }, integration_id: integrationId })).status).toBe(200);
    expect((await tp.api(key, 'POST', '/operations/update_contact', { input: { contact_id: 'c4', phone: 'none' }, integration_id: integrationId })).status).toBe(200);
    const list = await records();
    expect(list.find((r) => r['key'] === 'c77')).toBeUndefined();
    expect(list.find((r) => r['key'] === 'c4')!['data']['phone']).toBeUndefined();
  });

  it('record.stream must name a stream of the manifest: the error names the line', () => {
    const text = MANIFEST.replace("record: { stream: contacts, update_only: true,", "record: { stream: contact, update_only: true,");
    expect(text).not.toBe(MANIFEST);
    const res = loadManifestText(text, 'acme_events.yaml');
    expect(res.connector).toBeUndefined();
    const line = text.split('\n').findIndex((l) => l.includes('record: { stream: contact,')) + 1;
    expect(res.issues).toEqual([expect.objectContaining({ path: 'capabilities/update_contact/record/stream', line, message: expect.stringContaining('record.stream "contact" is no stream of this manifest (streams: contacts)') })]);
  });
});
