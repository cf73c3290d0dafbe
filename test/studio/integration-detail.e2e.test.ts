// The Integration detail page end to end in headless Chromium against a real `plugboard serve`
// whose connectors directory holds a small CRM manifest with a `contacts` stream pointed at a
// loopback provider (PLUGBOARD_BASE_URL_LOOP_CRM): configure it through the card's generated form,
// open "Details" from the card, see status, provider, environment, the tenant's and the system's
// metadata, the provider deliveries of an operation, press "Sync now" and see the run succeed with
// its counts and the records it wrote, paging; a refused sync (409) shows the API's message; an
// unknown id shows "not found"; axe scans, no console errors, no other origin, screenshots at 1280
// and 375 px.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connectorsDirWith } from '../helpers/platform.ts';
import { crmWithStreams } from '../helpers/connector.ts';
import { startServer } from '../helpers/http.ts';
import { until } from '../helpers/processes.ts';
import { screenshotsAndScan, seriousViolations, signInAndOpen, startStudio, watchedPage, type Studio } from './browser-harness.ts';

const MANIFEST = `${crmWithStreams({ name: 'loop_crm', displayName: 'Loopback CRM' })}  contacts:
    model: contact
    request: { method: GET, path: /contacts, query: { limit: "2" } }
    records: results
    mapping: '{ "id": id, "email": email, "updated_at": updated }'
    primary_key: id
    cursor: { field: updated_at, param: updated_since }
    pagination: { type: cursor, next: next_after, param: after }
    schedule: 1 hour
`;

interface SourceContact {
  id: string;
  email: string;
  updated: string;
}
/** The provider's contacts (empty for the first, automatic run; filled before "Sync now"). */
let source: SourceContact[] = [];
let provider: Awaited<ReturnType<typeof startServer>>;
let studio: Studio;

interface Run {
  id: string;
  status: string;
}

beforeAll(async () => {
  provider = await startServer((r) => {
    const u = new URL(r.url, 'http://x');
    if (r.method === 'POST' && u.pathname === '/contacts') return { status: 201, body: { id: 'c-new-1' } };
    const since = u.searchParams.get('updated_since');
    const all = source.filter((c) => !since || c.updated > since).sort((a, b) => a.id.localeCompare(b.id));
    const after = u.searchParams.get('after');
    const from = after ? all.findIndex((c) => c.id === after) + 1 : 0;
    const page = all.slice(from, from + Number(u.searchParams.get('limit') ?? 2));
    return { status: 200, body: { results: page, next_after: from + page.length < all.length ? page[page.length - 1]!.id : null } };
  });
  studio = await startStudio({ PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ loop_crm: MANIFEST }), PLUGBOARD_BASE_URL_LOOP_CRM: provider.url });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  await provider?.close();
});

describe('studio in Chromium: Integration detail', () => {
  it('opens an integration from its card, shows its facts and deliveries, syncs now and lists the records', async () => {
    const { page, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signInAndOpen(studio, page, 'Integrations');

    // Configure the loopback CRM through its generated form; it has no verify request, so it is active at once.
    const card = page.getByRole('article', { name: 'Loopback CRM', exact: true });
    await card.getByRole('button', { name: 'Configure' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configure Loopback CRM' });
    await dialog.getByLabel('token').fill('tok_detail_secret_0123456789');
    await dialog.getByRole('button', { name: 'Save and verify' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => card.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    const list = await studio.api<Array<{ id: string; provider: string }>>('GET', '/integrations');
    const id = list.body.data.find((i) => i.provider === 'loop_crm')!.id;

    // Becoming active started the first (backfill) run, which found nothing; wait for it to settle.
    const runs = async () => (await studio.api<Run[]>('GET', `/integrations/${id}/sync-runs`)).body.data;
    await until('the first run to finish', async () => (await runs()).some((r) => r.status !== 'running'), 20_000, 250);
    // The tenant's metadata and one operation through this integration (a provider delivery).
    expect((await studio.api('PATCH', `/integrations/${id}`, { metadata: { team: 'sales' } })).status).toBe(200);
    const op = await studio.api('POST', '/operations/create_contact', { input: { email: 'new@example.com' }, integration_id: id });
    expect(op.status).toBe(200);

    // Details from the card: the URL names the integration.
    await card.getByRole('link', { name: 'Details of Loopback CRM' }).click();
    await page.getByRole('heading', { level: 1, name: 'Loopback CRM' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/studio/integrations/${id}`);
    const overview = page.getByRole('region', { name: 'Overview' });
    await expect.poll(() => overview.locator('[data-status]').getAttribute('data-status')).toBe('active');
    await overview.getByText('Active').waitFor();
    await overview.getByText('Loopback CRM (loop_crm)').waitFor();
    expect(await overview.getByRole('definition').filter({ hasText: /^default/ }).count()).toBe(1);
    await overview.getByText('create contact').waitFor();
    const metadata = page.getByRole('region', { name: 'Metadata' });
    await metadata.getByTestId('tenant-metadata').getByText('sales').waitFor();
    // What Plugboard set (here: no verify request to run) is shown apart from the tenant's own keys.
    await metadata.getByTestId('system-metadata').getByText('skipped: the connector declares no verify request').waitFor();
    expect(await metadata.getByTestId('tenant-metadata').textContent()).not.toContain('skipped');
    expect(await page.content()).not.toContain('tok_detail_secret_0123456789');

    // The provider delivery of the operation: succeeded, HTTP 201, its duration.
    const deliveries = page.getByRole('region', { name: 'Recent deliveries' });
    const delivery = deliveries.locator('tr[data-delivery]');
    await expect.poll(() => delivery.count()).toBe(1);
    expect(await delivery.locator('[data-status]').getAttribute('data-status')).toBe('succeeded');
    expect(await delivery.textContent()).toMatch(/Create contact.*Succeeded.*HTTP 201.*\d+ ms/);

    // The backfill run is listed; no records yet.
    const sync = page.getByRole('region', { name: 'Sync' });
    await expect.poll(() => sync.locator('tr[data-run]').count()).toBe(1);
    await sync.getByTestId('streams').getByText('contacts').waitFor();
    const records = page.getByRole('region', { name: 'Records' });
    await records.getByText('No records yet.').waitFor();
    await screenshotsAndScan(page, 'integration-detail-empty', () => records.getByText('No records yet.').waitFor());

    // Sync now: a new run appears, succeeds with its counts, and the records it wrote are listed.
    source = [1, 2, 3].map((i) => ({ id: `c${i}`, email: `p${i}@example.com`, updated: `2024-03-0${i}T10:00:00Z` }));
    await sync.getByRole('button', { name: 'Sync now' }).click();
    await sync.getByRole('status').filter({ hasText: 'Sync queued: contacts.' }).waitFor();
    const newest = sync.locator('tr[data-run]').first();
    await expect.poll(() => sync.locator('tr[data-run]').count(), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => newest.getAttribute('data-run-status'), { timeout: 20_000 }).toBe('succeeded');
    const cells = async () => Object.fromEntries(await newest.locator('td[data-label]').evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-label'), (td.textContent ?? '').trim()])));
    expect(await cells()).toMatchObject({ Stream: 'contacts', Status: 'Succeeded', Pages: '2', Read: '3', Created: '3', Updated: '0', Deleted: '0', Invalid: '0', Error: '—' });
    const [apiRun] = await runs();
    expect(await newest.getAttribute('data-run')).toBe(apiRun!.id);

    const items = records.locator('li[data-record]');
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(3);
    expect((await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-record')))).sort()).toEqual(['c1', 'c2', 'c3']);
    const c2 = records.locator('li[data-record="c2"]');
    expect(await c2.textContent()).toContain('contact · contacts');
    await c2.getByRole('definition').filter({ hasText: 'p2@example.com' }).waitFor();
    expect(await c2.getByRole('term').allTextContents()).toEqual(expect.arrayContaining(['id', 'email', 'updated_at']));
    await records.getByText('3 records').waitFor();
    // Filtering by the stream asks the API for it.
    await records.getByLabel('Stream').selectOption('contacts');
    await expect.poll(() => items.count()).toBe(3);

    expect(await seriousViolations(page)).toEqual([]);
    await screenshotsAndScan(page, 'integration-detail', () => items.first().waitFor());

    // A refused sync shows the API's message: a disabled integration does not sync (409).
    expect((await studio.api('POST', `/integrations/${id}/disable`)).status).toBe(200);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Loopback CRM' }).waitFor();
    await expect.poll(() => page.getByRole('region', { name: 'Overview' }).locator('[data-status]').getAttribute('data-status')).toBe('inactive');
    await page.getByRole('region', { name: 'Sync' }).getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('alert').filter({ hasText: 'only an active integration syncs' }).waitFor();

    // Back to the list through the breadcrumb.
    await page.getByRole('link', { name: '← All integrations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();

    expect(consoleErrors.filter((e) => !/409/.test(e))).toEqual([]);
    expect(foreign).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('shows "not found" for an id that is not one of this tenant\'s integrations', async () => {
    const { page, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signInAndOpen(studio, page, 'Integrations');
    await page.goto(`${studio.url}/studio/integrations/01j000000000000000000000zz`);
    await page.getByRole('heading', { level: 1, name: 'Integration not found' }).waitFor();
    await page.goto(`${studio.url}/studio/integrations/not-an-id`);
    await page.getByRole('heading', { level: 1, name: 'Integration not found' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(consoleErrors.filter((e) => !/404/.test(e))).toEqual([]);
    expect(foreign).toEqual([]);
    await page.context().close();
  }, 60_000);
});
