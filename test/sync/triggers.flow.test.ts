// Hybrid sync (issue 10): an inbound provider webhook whose event `triggers: <stream>` starts an
// incremental run of that stream, debounced (a burst of events starts one run; events during a run
// start one more), and the stream gets a daily full-refresh reconcile job.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHmac } from 'node:crypto';
import { startTestPlatform, connectorsDirWith, type TestPlatform } from '../helpers/platform.ts';
import { startServer } from '../helpers/http.ts';
import { agendaJobs } from '../helpers/store.ts';
import { loadManifestText } from '../../runtime/manifest/load.ts';

const SECRET = 'whsec_acme_trigger_0123456789';
const DEBOUNCE_MS = 700;

const MANIFEST = `schema_version: 1
name: acme_hooks
display_name: Acme Hooks CRM
category: crm
base_url: https://crm.acme.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
  webhook_secret: { type: string, sensitive: true, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
streams:
  contacts:
    model: contact
    request: { method: GET, path: /contacts }
    records: results
    mapping: '{ "id": id, "email": email, "updated_at": updated }'
    cursor: { field: updated_at, param: updated_since }
    pagination: { type: none }
webhooks:
  signature: { scheme: hmac_sha256, secret: "{{credentials.webhook_secret}}", header: X-Acme-Signature, encoding: hex }
  event_id: id
  event_type: type
  events:
    contact.changed:
      triggers: contacts
    contact.added:
      type: contact.created
      data: '{ "contact_id": contact.id, "email": contact.email, "created_at": contact.created }'
      triggers: contacts
`;

let source: Array<{ id: string; email: string; updated: string }> = [];
let tp: TestPlatform;
let provider: Awaited<ReturnType<typeof startServer>>;
let key: string;
let integrationId: string;
let n = 0;

async function runs() {
  return (await tp.api(key, 'GET', `/integrations/${integrationId}/sync-runs`)).body.data as Array<Record<string, any>>;
}

async function hook(type: string, extra: Record<string, unknown> = {}) {
  const body = JSON.stringify({ id: `evt_${++n}`, type, ...extra });
  const res = await fetch(`${tp.url}/api/v1/webhooks/inbound/acme_hooks/${integrationId}`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'x-acme-signature': createHmac('sha256', SECRET).update(body).digest('hex') },
  });
  expect(res.status).toBe(202);
  return Date.now();
}

const settled = async (count: number) =>
  tp.waitFor(async () => {
    const list = await runs();
    return list.length >= count && list.every((r) => r['status'] !== 'running') ? list : undefined;
  }, `${count} finished runs`, 20_000);

beforeAll(async () => {
  source = [{ id: 'c1', email: 'p1@example.com', updated: '2024-03-01T10:00:00Z' }];
  provider = await startServer((r) => {
    const since = new URL(r.url, 'http://x').searchParams.get('updated_since');
    return { status: 200, body: { results: source.filter((c) => !since || c.updated > since) } };
  });
  tp = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ acme_hooks: MANIFEST }), PLUGBOARD_BASE_URL_ACME_HOOKS: provider.url, PLUGBOARD_SYNC_TRIGGER_DEBOUNCE_MS: String(DEBOUNCE_MS),
  });
  const t = await tp.tenant();
  key = t.key;
  const created = await tp.api(key, 'POST', '/integrations', { provider: 'acme_hooks', credentials: { token: 'tok_hooks_secret_123456', webhook_secret: SECRET } });
  integrationId = created.body.data.id;
  await tp.waitFor(async () => (await tp.api(key, 'GET', `/integrations/${integrationId}`)).body.data.status === 'active', 'the integration to be active');
});

afterAll(async () => {
  await tp?.close();
  await provider?.close();
});

describe('webhook-triggered sync', () => {
  it('a triggered stream gets a daily full-refresh reconcile job, and no run until something asks', async () => {
    const jobs = await tp.waitFor(async () => {
      const j = (await agendaJobs(tp.platform.store, 'sync-stream')).filter((x) => x.data['integration_id'] === integrationId);
      return j.length ? j : undefined;
    }, 'the reconcile job');
    expect(jobs.map((j) => ({ stream: j.data['stream'], trigger: j.data['trigger'], full_refresh: j.data['full_refresh'] }))).toEqual([{ stream: 'contacts', trigger: 'reconcile', full_refresh: true }]);
    expect(jobs[0]!.repeat_interval).toBe('1 day');
    // skipImmediate: the reconcile is due a day from now, not at once (the stream has no schedule of its own).
    expect(jobs[0]!.next_run_at).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(await runs()).toEqual([]);
  });

  it('a burst of webhook events starts one incremental run, after the debounce', async () => {
    const first = await hook('contact.changed');
    for (let i = 0; i < 4; i++) await hook('contact.changed');
    const [run] = await settled(1);
    expect(Date.parse(run!['started_at'])).toBeGreaterThanOrEqual(first + DEBOUNCE_MS - 50);
    expect(run).toMatchObject({ status: 'succeeded', records_created: 1, full_refresh: false });
    // Nothing else was queued by the burst.
    await new Promise((r) => setTimeout(r, DEBOUNCE_MS * 2));
    expect(await runs()).toHaveLength(1);
  });

  it('an event after the run starts another; a mapped event is published as well as triggering', async () => {
    source.push({ id: 'c2', email: 'p2@example.com', updated: '2024-03-02T10:00:00Z' });
    await hook('contact.added', { contact: { id: 'c2', email: 'p2@example.com', created: '2024-03-02T10:00:00Z' } });
    const list = await settled(2);
    expect(list[0]).toMatchObject({ status: 'succeeded', records_created: 1, records_read: 1 });
    const inbound = (await tp.api(key, 'GET', `/webhooks/inbound-events?integration_id=${integrationId}&per_page=100`)).body.data as Array<Record<string, any>>;
    expect(inbound.filter((e) => e['provider_event_type'] === 'contact.added').map((e) => e['status'])).toEqual(['processed']);
    expect(inbound.filter((e) => e['provider_event_type'] === 'contact.changed').map((e) => e['status'])).toEqual(Array(5).fill('processed'));
  });

  it('triggers must name a stream of the manifest: the error names the line', () => {
    const text = MANIFEST.replace('      triggers: contacts\n    contact.added', '      triggers: contact\n    contact.added');
    expect(text).not.toBe(MANIFEST);
    const res = loadManifestText(text, 'acme_hooks.yaml');
    expect(res.connector).toBeUndefined();
    const line = text.split('\n').findIndex((l) => l.trim() === 'triggers: contact') + 1;
    expect(res.issues).toEqual([expect.objectContaining({ path: 'webhooks/events/contact.changed/triggers', line, message: expect.stringContaining('triggers "contact" is no stream of this manifest (streams: contacts)') })]);
  });
});
