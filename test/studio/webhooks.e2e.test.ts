// The Webhooks page end to end in headless Chromium against a real `plugboard serve`: create a
// subscription to a loopback receiver, copy its secret with the page's button (read back from the
// clipboard; shown once, gone after a reload), send a test event that the receiver verifies with
// the `standardwebhooks` package using the copied secret, see it delivered in the delivery log with
// its attempts, filter the log, replay it (same webhook-id), rotate the secret, and the inbound
// events' empty state; axe scans, no console errors, no other origin, screenshots at 1280 and 375 px.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { ARTIFACTS, screenshotsAndScan, seriousViolations, signInAndOpen, startStudio, watchedPage, type Studio } from './browser-harness.ts';

interface Received {
  webhookId: string;
  type: string;
}

/** A receiver that accepts (204) only deliveries whose signature verifies with one of `secrets`, and 400 otherwise. */
async function startReceiver() {
  const secrets: string[] = [];
  const received: Received[] = [];
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const payload = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      const ok = secrets.some((s) => {
        try {
          new Webhook(s).verify(payload, headers);
          return true;
        } catch {
          return false;
        }
      });
      if (!ok) {
        refused.push(headers['webhook-id']);
        res.writeHead(400, { 'content-type': 'text/plain' }).end('signature not verified');
        return;
      }
      received.push({ webhookId: headers['webhook-id'], type: (JSON.parse(payload) as { type: string }).type });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/plugboard`,
    secrets,
    received,
    refused,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

let studio: Studio;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  studio = await startStudio({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1' });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  receiver?.close();
});

describe('studio in Chromium: Webhooks', () => {
  it('creates a subscription, copies its secret once, sends a test event the receiver verifies, and sees it delivered in the log', async () => {
    const { page, consoleErrors, foreign } = await watchedPage(studio, 1280, ['clipboard-read', 'clipboard-write']);
    await signInAndOpen(studio, page, 'Webhooks');
    await page.getByText('No subscriptions yet.').waitFor();

    // Create: the URL is required (checked in the browser), then the secret is shown once.
    await page.getByRole('button', { name: 'New subscription' }).click();
    const form = page.getByRole('dialog', { name: 'New webhook subscription' });
    await form.getByRole('button', { name: 'Create subscription' }).click();
    await form.getByText('Enter the URL that receives the events.').waitFor();
    await form.getByLabel('URL').fill(receiver.url);
    // An unknown event type: the API's "events.1" error is shown by the Events field, naming the entry.
    await form.getByLabel('Events').fill('webhook.test, nosuch.event');
    await form.getByRole('button', { name: 'Create subscription' }).click();
    await form.locator('.field-error', { hasText: 'nosuch.event: is not a known event type' }).waitFor();
    expect(await form.getByLabel('Events').getAttribute('aria-invalid')).toBe('true');
    const eventsHelp = (await form.getByLabel('Events').getAttribute('aria-describedby')) ?? '';
    expect(await form.locator(`[id="${eventsHelp.split(' ').pop()}"]`).textContent()).toContain('nosuch.event: is not a known event type');
    expect(await form.getByLabel('URL').getAttribute('aria-invalid')).toBeNull();
    await form.getByLabel('Events').fill('webhook.test, payment.*');
    await form.getByLabel('Description (optional)').fill('studio e2e receiver');
    expect(await seriousViolations(page)).toEqual([]);
    await form.getByRole('button', { name: 'Create subscription' }).click();

    const shown = page.getByRole('alertdialog', { name: 'Signing secret' });
    const secret = await shown.getByLabel('Signing secret').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    await shown.getByRole('button', { name: 'Copy secret' }).click();
    await shown.getByText('Copied to the clipboard.').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(secret);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-secret-1280.png') });
    receiver.secrets.push(copied); // the receiver verifies with what the user copied
    await shown.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);

    // Shown once: gone after a reload, and the API never lists it.
    await page.reload();
    const card = page.getByRole('article', { name: receiver.url });
    await card.getByText('studio e2e receiver').waitFor();
    expect(await card.textContent()).toContain('webhook.test, payment.*');
    expect(await card.locator('[data-status]').getAttribute('data-status')).toBe('enabled');
    expect(await page.content()).not.toContain(secret);
    expect(JSON.stringify((await studio.api('GET', '/webhooks/subscriptions')).body)).not.toContain(secret);

    // Send a test event: the receiver verified its signature with the copied secret.
    await card.getByRole('button', { name: 'Send test event' }).click();
    await card.getByText(/Test event delivered: HTTP 204 in \d+ ms/).waitFor();
    expect(receiver.received.map((r) => r.type)).toEqual(['webhook.test']);
    expect(receiver.refused).toEqual([]);
    const webhookId = receiver.received[0]!.webhookId;

    // The delivery log, filtered to this subscription, shows it delivered.
    await card.getByRole('button', { name: 'Deliveries' }).click();
    expect(await page.getByRole('tab', { name: 'Delivery log' }).getAttribute('aria-selected')).toBe('true');
    const log = page.getByRole('tabpanel', { name: 'Delivery log' });
    expect(await log.getByLabel('Subscription').locator('option:checked').textContent()).toBe(receiver.url);
    const row = log.getByRole('row').filter({ hasText: 'webhook.test' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('delivered');
    expect(await row.textContent()).toContain('Delivered');
    expect(await row.textContent()).toContain('HTTP 204');

    // Per-attempt detail.
    await row.getByRole('button', { name: /^Attempts of webhook.test delivery/ }).click();
    const detail = page.getByRole('dialog', { name: 'Delivery attempts' });
    await detail.getByText(/Attempt 1.*HTTP 204/).waitFor();
    expect(await detail.textContent()).toContain(webhookId);
    expect(await seriousViolations(page)).toEqual([]);
    await detail.getByRole('button', { name: 'Close' }).click();
    await detail.waitFor({ state: 'detached' });

    // Filters: no failed delivery; the event type filter keeps it.
    await log.getByLabel('Status').selectOption('failed');
    await log.getByText('No delivery matches these filters.').waitFor();
    await log.getByLabel('Status').selectOption('');
    await log.getByLabel('Event type').selectOption('webhook.test');
    await expect.poll(() => row.count()).toBe(1);

    // Replay: sent again with the same webhook-id, verified again.
    await row.getByRole('button', { name: /^Replay webhook.test delivery/ }).click();
    await log.getByText(new RegExp(`queued again with the same webhook-id \\(${webhookId}\\)`)).waitFor();
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(2);
    expect(receiver.received[1]).toEqual({ webhookId, type: 'webhook.test' });
    // A replay starts a fresh attempt count; the attempt log keeps both sends.
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('delivered');
    await row.getByRole('button', { name: /^Attempts of webhook.test delivery/ }).click();
    await expect.poll(() => detail.getByRole('listitem').filter({ hasText: 'HTTP 204' }).count()).toBe(2);
    await detail.getByRole('button', { name: 'Close' }).click();

    await screenshotsAndScan(page, 'webhooks-deliveries', () => row.waitFor());

    // Rotate: a new secret, shown once; the receiver now verifies with it (the old one also signs for 24 h).
    await page.getByRole('tab', { name: 'Subscriptions' }).click();
    await card.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = page.getByRole('alertdialog', { name: 'New signing secret' });
    const secret2 = await rotated.getByLabel('Signing secret').inputValue();
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(secret);
    await rotated.getByRole('button', { name: 'Copy secret' }).click();
    await rotated.getByText('Copied to the clipboard.').waitFor();
    receiver.secrets.splice(0, 1, await page.evaluate(() => navigator.clipboard.readText()));
    await rotated.getByRole('button', { name: 'Done' }).click();
    await card.getByText(/Previous secret/).waitFor();
    await card.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(3);
    expect(receiver.refused).toEqual([]);

    await screenshotsAndScan(page, 'webhooks', () => card.getByText(/Test event delivered/).waitFor());

    // Inbound events: none yet.
    await page.getByRole('tab', { name: 'Inbound events' }).click();
    await page.getByText('No events received from providers yet.').waitFor();
    await page.getByRole('tabpanel', { name: 'Inbound events' }).getByLabel('Status').selectOption('failed');
    await page.getByText('No inbound event has this status.').waitFor();
    await screenshotsAndScan(page, 'webhooks-inbound', () => page.getByText('No inbound event has this status.').waitFor());

    // Disable, then delete after a confirmation.
    await page.getByRole('tab', { name: 'Subscriptions' }).click();
    await card.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => card.locator('[data-status]').getAttribute('data-status')).toBe('disabled');
    expect(await card.getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true);
    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog', { name: 'Delete this subscription?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No subscriptions yet.').waitFor();

    // Chromium logs the refused request (the 422 this test asked for) as a console error; nothing else may be.
    expect(consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 422/.test(e))).toEqual([]);
    expect(foreign).toEqual([]);
    await page.context().close();
  }, 120_000);
});
