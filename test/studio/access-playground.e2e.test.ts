// End to end in headless Chromium against a real `plugboard serve` (test/studio/browser-harness.ts):
// the API access page (an API key created and shown once, gone after a reload, and working against
// the API; an OAuth client whose secret, shown once, gets a token; revoking; usage charts and top
// routes; the audit log a page at a time) and the manifest playground (a broken manifest uploaded
// and validated, its error markers at the lines the API names; a valid one pasted, its credential
// form previewed; a JSONata mapping previewed, and a refused one shown by its field with the
// location). Each page: axe scan, screenshots at 1280 and 375 px, no console error (a CSP violation
// is one: CodeMirror's styles must carry the nonce), no request to another origin.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { startStudio, watchedPage, signInAndOpen, screenshotsAndScan, seriousViolations, type Studio } from './browser-harness.ts';

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio();
}, 120_000);

afterAll(async () => {
  await studio?.close();
});

/** The line numbers (from the line-number gutter) of the rows that carry an error marker in the lint gutter. */
async function markerLines(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const numbers = [...document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')].map((el) => ({ top: el.getBoundingClientRect().top, text: el.textContent ?? '' }));
    return [...document.querySelectorAll('.cm-gutter-lint .cm-gutterElement')]
      .filter((el) => el.querySelector('.cm-lint-marker-error'))
      .map((el) => {
        const top = el.getBoundingClientRect().top;
        return Number(numbers.find((n) => Math.abs(n.top - top) < 2 && /^\d+$/.test(n.text))?.text ?? NaN);
      });
  });
}

/** The 1-based editor lines that hold an underlined (lint) range. */
async function underlinedLines(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.cm-content > .cm-line')];
    return lines.flatMap((l, i) => (l.querySelector('.cm-lintRange-error') ? [i + 1] : []));
  });
}

describe('studio in Chromium: API access', () => {
  it('creates an API key shown once (gone after a reload) that works, copies it, and revokes it', async () => {
    const { page, context, consoleErrors, foreign } = await watchedPage(studio, 1280, ['clipboard-read', 'clipboard-write']);
    await signInAndOpen(studio, page, 'API access');

    const form = page.getByRole('form', { name: 'Create an API key' });
    // Checked in the browser first: a name is required.
    await form.getByRole('button', { name: 'Create API key' }).click();
    await form.getByText('Give the API key a name').waitFor();
    await form.getByLabel('Name').fill('CI deploy');
    await form.getByRole('checkbox', { name: /^write/ }).check();
    const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/api-keys') && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Create API key' }).click();
    const answer = (await (await created).json()) as { data: { id: string; key: string; prefix: string; scopes: string[] } };
    expect(answer.data.scopes.sort()).toEqual(['read', 'write']);

    const shown = page.getByRole('region', { name: 'New API key “CI deploy”' });
    await shown.waitFor();
    const key = await shown.getByLabel('API key').inputValue();
    expect(key).toBe(answer.data.key);
    // The key shown is a working key with the scopes chosen.
    expect((await fetch(`${studio.url}/api/v1/providers`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    // Copy puts it on the clipboard.
    await shown.getByRole('button', { name: 'Copy API key' }).click();
    await shown.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    // The list shows its prefix, never the key.
    const row = page.getByRole('region', { name: 'API key list' }).getByRole('row', { name: /CI deploy/ });
    await row.getByText(`${answer.data.prefix}…`).waitFor();
    expect(await row.textContent()).not.toContain(key);
    expect(await seriousViolations(page)).toEqual([]);

    // Shown once: a reload forgets it (still signed in), and so does "Done".
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'API access' }).waitFor();
    await row.waitFor();
    expect(await page.getByRole('region', { name: /New API key/ }).count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    // The audit log names the key's creation.
    const audit = page.getByRole('region', { name: 'Audit log entries' });
    await audit.getByRole('row', { name: new RegExp(`api key\\.created.*${answer.data.id}`) }).waitFor();

    // Revoke after a confirmation: it stops working.
    await row.getByRole('button', { name: 'Revoke CI deploy' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Revoke the key “CI deploy”?' });
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await fetch(`${studio.url}/api/v1/providers`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);

    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  }, 90_000);

  it('creates an OAuth client whose secret, shown once, gets a token', async () => {
    const { page, context, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signInAndOpen(studio, page, 'API access');
    const form = page.getByRole('form', { name: 'Create an OAuth client' });
    await form.getByLabel('Name').fill('Reporting job');
    await form.getByRole('button', { name: 'Create OAuth client' }).click();
    const shown = page.getByRole('region', { name: 'New OAuth client “Reporting job”' });
    const clientId = await shown.getByLabel('Client ID').inputValue();
    const secret = await shown.getByLabel('Client secret').inputValue();
    const token = await fetch(`${studio.url}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
    });
    expect(token.status).toBe(200);
    await page.getByRole('region', { name: 'OAuth client list' }).getByRole('row', { name: /Reporting job/ }).getByText(clientId).waitFor();
    await shown.getByRole('button', { name: 'Done, hide it' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);
    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  }, 60_000);

  it('charts usage over time, lists the top routes, pages through the audit log; axe and screenshots', async () => {
    // Enough audit entries for two pages (20 a page).
    const before = (await studio.api<unknown[]>('GET', '/audit-log?per_page=1')).body as unknown as { meta: { total: number } };
    for (let i = before.meta.total; i < 23; i++) expect((await studio.api('POST', '/api-keys', { name: `batch ${i}`, scopes: ['read'] })).status).toBe(201);
    const total = ((await studio.api('GET', '/audit-log?per_page=1')).body as unknown as { meta: { total: number } }).meta.total;

    const { page, context, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signInAndOpen(studio, page, 'API access');

    // Usage: totals as text, three charts (uPlot canvases, loaded on demand), the routes this test called.
    const usage = page.getByRole('region', { name: 'Usage' });
    await expect.poll(() => usage.locator('.chart-canvas canvas').count(), { timeout: 15_000 }).toBe(3);
    for (const title of ['Requests', 'Error rate', 'Latency']) await usage.getByRole('img', { name: new RegExp(`^${title} over time`) }).waitFor();
    const report = (await studio.api<{ totals: { requests: number } }>('GET', '/usage?group_by=route')).body.data;
    expect(report.totals.requests).toBeGreaterThan(20);
    const routes = usage.getByRole('region', { name: 'Top routes' });
    await routes.getByRole('row', { name: /^POST \/api\/v1\/api-keys \d+/ }).waitFor();
    await usage.getByLabel('Range').selectOption('30d');
    await expect.poll(() => usage.locator('.chart-canvas canvas').count()).toBe(3);

    // The audit log, newest first, a page at a time.
    const pager = page.getByRole('navigation', { name: 'Audit log pages' });
    await pager.getByText(`Page 1 of ${Math.ceil(total / 20)} (${total} entries)`).waitFor();
    const audit = page.getByRole('region', { name: 'Audit log entries' });
    expect(await audit.getByRole('row').count()).toBe(21); // header + 20
    await pager.getByRole('button', { name: 'Older' }).click();
    await pager.getByText(`Page 2 of ${Math.ceil(total / 20)}`).waitFor();
    expect(await audit.getByRole('row').count()).toBe(1 + Math.min(20, total - 20));

    await screenshotsAndScan(page, 'api-access', () => usage.locator('.chart-canvas canvas').first().waitFor());
    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  }, 90_000);
});

const BROKEN = `schema_version: 1
name: acme_sms
display_name: Acme SMS
category: telepathy
base_url: https://api.acme-sms.example/v1
auth:
  type: bearer
  token: "{{credentials.api_token}}"
credential_schema:
  api_token: { type: string, sensitive: true, required: true, title: API token }
capabilities:
  send_sms:
    request:
      method: FETCH
      path: /messages
`;

const VALID = `schema_version: 1
name: pasted_mail
display_name: Pasted Mail
category: email
base_url: https://api.pasted-mail.example
auth:
  type: api_key
  name: X-Api-Key
  value: "{{credentials.api_key}}"
credential_schema:
  api_key: { type: string, sensitive: true, required: true, title: API key }
  domain: { type: string, sensitive: false, required: true, title: Sending domain, pattern: "^[a-z0-9.-]+$" }
verify:
  request: { method: GET, path: /domains }
capabilities:
  send_email:
    request:
      method: POST
      path: /send
      body: '{ "to": input.to, "subject": input.subject }'
    response: '{ "message_id": id, "status": "sent" }'
`;

describe('studio in Chromium: manifest playground', () => {
  it('marks a broken manifest at the lines the validator names, previews a valid one and its credential form', async () => {
    const { page, context, consoleErrors, foreign } = await watchedPage(studio, 1280);
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') posts.push(new URL(r.url()).pathname);
    });
    await signInAndOpen(studio, page, 'Playground');
    await page.locator('.cm-editor .cm-content').waitFor();
    // CodeMirror's styles arrived (a <style> with the page's nonce; without it the CSP would refuse them).
    expect(await page.locator('.cm-editor').evaluate((el) => getComputedStyle(el).display)).toBe('flex');
    expect(await page.evaluate(() => [...document.querySelectorAll('style')].some((s) => s.nonce && s.textContent?.includes('.cm-')))).toBe(true);

    // Upload the broken manifest (its file name is sent too) and validate.
    await page.getByLabel('Upload a manifest file').setInputFiles({ name: 'acme_sms.yaml', mimeType: 'text/yaml', buffer: Buffer.from(BROKEN) });
    await expect.poll(() => page.locator('.cm-content').innerText()).toContain('category: telepathy');
    const validated = page.waitForResponse((r) => r.url().endsWith('/api/v1/manifests/validate'));
    await page.getByRole('button', { name: 'Validate' }).click();
    const check = (await (await validated).json()) as { data: { valid: boolean; problems: Array<{ line: number; column: number; message: string; path: string }> } };
    expect(JSON.parse((await validated).request().postData()!)).toEqual({ yaml: BROKEN, filename: 'acme_sms.yaml' });
    expect(check.data.valid).toBe(false);
    const lines = BROKEN.split('\n');
    // The validator places the bad category on its line (the test's own text, not the studio's).
    const categoryLine = lines.findIndex((l) => l.startsWith('category:')) + 1;
    expect(check.data.problems.some((p) => p.line === categoryLine && p.path.includes('category'))).toBe(true);

    await page.getByText(`${check.data.problems.length} problem`).waitFor();
    const problemLines = [...new Set(check.data.problems.map((p) => p.line))].sort((a, b) => a - b);
    await expect.poll(() => markerLines(page)).toEqual(problemLines);
    expect(await underlinedLines(page)).toEqual(expect.arrayContaining([categoryLine]));
    // The list names each problem by line; choosing one moves the editor there.
    const list = page.getByRole('list').filter({ hasText: 'Line ' });
    expect(await list.getByRole('listitem').count()).toBe(check.data.problems.length);
    const categoryProblem = check.data.problems.find((p) => p.line === categoryLine)!;
    await list.getByRole('button', { name: `Line ${categoryLine}, column ${categoryProblem.column}` }).first().click();
    await expect.poll(() => page.locator('.cm-lineNumbers .cm-activeLineGutter').textContent()).toBe(String(categoryLine));
    expect(await page.evaluate(() => document.activeElement?.classList.contains('cm-content'))).toBe(true);
    await screenshotsAndScan(page, 'playground-problems', () => page.locator('.cm-lint-marker-error').first().waitFor());

    // Paste a valid manifest (replacing everything) and check it without the file name.
    await page.getByRole('button', { name: 'Check without the file name' }).click();
    await page.locator('.cm-content').click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(VALID);
    await page.getByText('(The text has changed since: validate again.)').waitFor();
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByText('Valid: no problems.').waitFor();
    await expect.poll(() => page.locator('.cm-lint-marker-error').count()).toBe(0);
    await page.getByText('pasted_mail').first().waitFor();

    // The credential form it generates, checked in the browser and never sent.
    const preview = page.locator('.credential-preview');
    expect(await preview.getByLabel('API key').getAttribute('type')).toBe('password');
    await preview.getByLabel('API key').fill('secret-value');
    await preview.getByLabel('Sending domain').fill('Not A Domain');
    const before = posts.length;
    await preview.getByRole('button', { name: 'Check these values' }).click();
    await preview.getByText('is not a valid Sending domain: check it for a typing or copying mistake', { exact: true }).waitFor();
    await preview.getByLabel('Sending domain').fill('mail.example.com');
    await preview.getByRole('button', { name: 'Check these values' }).click();
    await preview.getByText('These values pass the form').waitFor();
    expect(posts.length).toBe(before);
    await screenshotsAndScan(page, 'playground', () => preview.getByLabel('API key').waitFor());

    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  }, 120_000);

  it('previews a JSONata mapping and shows a refused one by its field, with the location', async () => {
    const { page, context, consoleErrors, foreign } = await watchedPage(studio, 375);
    await signInAndOpen(studio, page, 'Playground');
    const form = page.getByRole('form', { name: 'Try a mapping' });
    await form.getByLabel('JSONata expression').fill('{ "id": id, "count": $count(items), "first": items[0].name }');
    await form.getByLabel(/Sample input/).fill(JSON.stringify({ id: 'x1', items: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }));
    await form.getByRole('button', { name: 'Run mapping' }).click();
    const output = form.getByTestId('mapping-output');
    await expect.poll(async () => JSON.parse((await output.textContent()) ?? 'null')).toEqual({ id: 'x1', count: 3, first: 'a' });

    // Input that is not JSON is refused here; nothing is sent.
    await form.getByLabel(/Sample input/).fill('{ not json');
    await form.getByRole('button', { name: 'Run mapping' }).click();
    await form.getByText(/^Not JSON/).waitFor();
    expect(await form.getByLabel(/Sample input/).getAttribute('aria-invalid')).toBe('true');

    // A syntax error: the API's message by the expression, at the line and column it gives.
    const bad = '{ "id": id,\n  "total": $sum(items.price }';
    const api = await studio.api('POST', '/manifests/preview-mapping', { expression: bad, input: {} });
    expect(api.status).toBe(422);
    const location = (api.body as unknown as { location: { line: number; column: number } }).location;
    expect(location.line).toBe(2);
    await form.getByLabel(/Sample input/).fill('{}');
    await form.getByLabel('JSONata expression').fill(bad);
    await form.getByRole('button', { name: 'Run mapping' }).click();
    const at = `line ${location.line}, column ${location.column}`;
    const shown = form.locator('.field-error', { hasText: at });
    await shown.waitFor();
    expect((await shown.textContent())!.split(at).length - 1).toBe(1); // the position once, not repeated
    expect(await form.getByLabel('JSONata expression').getAttribute('aria-invalid')).toBe('true');
    expect(await seriousViolations(page)).toEqual([]);

    // Chromium logs each refused request (the 422 this test asked for) as a console error; nothing else may be.
    expect(consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 422/.test(e))).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  }, 60_000);
});
