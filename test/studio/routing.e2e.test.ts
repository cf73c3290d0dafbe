// The Routing page end to end in headless Chromium against a real `plugboard serve` whose Twilio is
// a loopback server judging requests by Twilio's official OpenAPI document: with a configured,
// active Twilio, create a routing rule through the form and see which integration would be chosen
// now (GET /routing-rules/resolve), reorder two rules with the keyboard (Move up / Move down keep
// the focus), see "nothing would run" once the integration is disabled, delete a rule; axe scans,
// no console errors, no other origin, screenshots at 1280 and 375 px.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { until } from '../helpers/processes.ts';
import { screenshotsAndScan, seriousViolations, signInAndOpen, startStudio, watchedPage, type Studio } from './browser-harness.ts';

const GOOD_SID = 'AC' + '0123456789abcdef'.repeat(2);

let spec: SpecServer;
let studio: Studio;
let twilioId: string;

interface Rule {
  id: string;
  priority: number;
  is_default: boolean;
}

beforeAll(async () => {
  spec = await startSpecServer('twilio');
  studio = await startStudio({ PLUGBOARD_BASE_URL_TWILIO: spec.baseUrlFor('https://api.twilio.com') });
  const created = await studio.api<{ id: string }>('POST', '/integrations', { provider: 'twilio', credentials: { account_sid: GOOD_SID, auth_token: 'f'.repeat(32), from_number: '+15005550006' } });
  expect(created.status).toBe(201);
  twilioId = created.body.data.id;
  await until('twilio active', async () => (await studio.api<{ status: string }>('GET', `/integrations/${twilioId}`)).body.data.status === 'active', 20_000, 250);
}, 120_000);

afterAll(async () => {
  await studio?.close();
  await spec?.close();
});

describe('studio in Chromium: Routing', () => {
  it('creates a rule for a configured integration and shows which integration would be chosen now; reorders with the keyboard', async () => {
    const { page, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signInAndOpen(studio, page, 'Routing');

    const section = page.getByRole('region', { name: /^Send SMS/ });
    const chosen = section.getByRole('group', { name: 'Would be chosen now for Send SMS' });
    // No rule yet: the active integration offering the capability.
    await chosen.getByText(/Would be chosen now:\s*Twilio/).waitFor();
    await chosen.getByText(/no routing rule applies/).waitFor();
    await section.getByText(/No rules: an operation uses the active integrations/).waitFor();

    // Create a rule through the form (capability, integration, fallback, default).
    await page.getByRole('button', { name: 'New rule', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'New routing rule' });
    await dialog.getByLabel('Capability').selectOption('send_sms');
    // Submitting without an integration is refused in the browser.
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.getByText('Choose an integration.').waitFor();
    await dialog.getByLabel('Integration', { exact: true }).selectOption({ label: 'Twilio (active)' });
    expect(await dialog.getByLabel('Fallback integration').inputValue()).toBe('');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.waitFor({ state: 'detached' });

    const rules = async () => (await studio.api<Rule[]>('GET', '/routing-rules?capability=send_sms')).body.data;
    await expect.poll(async () => (await rules()).length).toBe(1);
    const [first] = await rules();
    expect(first).toMatchObject({ is_default: false, priority: 10 });
    // The chooser now names the rule, as the API's resolution does.
    await chosen.getByText('(rule (priority 10))').waitFor();
    expect(await chosen.locator('[data-selected]').getAttribute('data-selected')).toBe(twilioId);
    const resolved = await studio.api<{ selected: string; chain: Array<{ rule_id: string }> }>('GET', '/routing-rules/resolve?capability=send_sms');
    expect(resolved.body.data.selected).toBe(twilioId);
    expect(resolved.body.data.chain[0]!.rule_id).toBe(first!.id);

    // A second rule, made the default: default rules come after the others (no arrow crosses that line).
    await section.getByRole('button', { name: 'New rule for Send SMS' }).click();
    await dialog.getByLabel('Integration', { exact: true }).selectOption({ label: 'Twilio (active)' });
    await dialog.getByLabel('Default rule').check();
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.waitFor({ state: 'detached' });
    const list = section.getByRole('list', { name: 'Rules for Send SMS, in the order they are tried' });
    await expect.poll(() => list.getByRole('listitem').count()).toBe(2);
    await list.getByRole('listitem').nth(1).getByText('Default', { exact: true }).waitFor();
    expect(await list.getByRole('button', { name: 'Move Twilio down' }).first().isDisabled()).toBe(true);

    // Edit it into a plain rule: now both are ordinary rules and the arrows reorder them.
    await list.getByRole('listitem').nth(1).getByRole('button', { name: 'Edit the Twilio rule' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit the Send SMS rule' });
    await edit.getByLabel('Default rule').uncheck();
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await edit.waitFor({ state: 'detached' });
    await expect.poll(async () => (await rules()).filter((r) => r.is_default).length).toBe(0);
    const second = (await rules()).find((r) => r.id !== first!.id)!;
    await expect.poll(() => list.getByRole('listitem').nth(1).getAttribute('data-rule')).toBe(second.id);

    // Keyboard only: focus "Move up" of the second rule and press Enter.
    const up = list.getByRole('listitem').nth(1).getByRole('button', { name: 'Move Twilio up' });
    await up.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => list.getByRole('listitem').first().getAttribute('data-rule')).toBe(second.id);
    await expect.poll(async () => (await rules()).map((r) => [r.id, r.priority])).toEqual([
      [second.id, 10],
      [first!.id, 20],
    ]);
    // The focus stays with the moved rule (its "Move up" is now disabled, so on its "Move down").
    await expect.poll(() => page.evaluate(() => [document.activeElement?.closest('[data-rule]')?.getAttribute('data-rule'), document.activeElement?.getAttribute('data-move')])).toEqual([second.id, '1']);
    await page.getByText('Twilio moved to position 1 of Send SMS.').waitFor();
    await expect.poll(async () => (await studio.api<{ chain: Array<{ rule_id: string }> }>('GET', '/routing-rules/resolve?capability=send_sms')).body.data.chain[0]!.rule_id).toBe(second.id);
    // And back with the keyboard: Enter on the focused "Move down".
    await page.keyboard.press('Enter');
    await expect.poll(() => list.getByRole('listitem').first().getAttribute('data-rule')).toBe(first!.id);

    await screenshotsAndScan(page, 'routing', () => chosen.getByText(/Would be chosen now:\s*Twilio/).waitFor());

    // Disabled integration: nothing would run, and the page says why.
    expect((await studio.api('POST', `/integrations/${twilioId}/disable`)).status).toBe(200);
    await page.reload();
    await chosen.getByText(/nothing — an operation would answer 409 no_active_provider/).waitFor();
    await chosen.getByText(/Passed over \(2\)/).click();
    await chosen.getByText(/the integration is inactive, not active/).first().waitFor();
    expect(await chosen.locator('[data-selected]').getAttribute('data-selected')).toBe('');
    expect(await seriousViolations(page)).toEqual([]);

    // Delete a rule after a confirmation.
    await list.getByRole('listitem').first().getByRole('button', { name: 'Delete the Twilio rule' }).click();
    await page.getByRole('alertdialog', { name: /Delete the Send SMS rule for Twilio/ }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    expect((await rules()).map((r) => r.id)).toEqual([second.id]);

    expect(spec.violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('refuses to sign in when the server (or a proxy before it) answers 5xx', async () => {
    const { page } = await watchedPage(studio, 800);
    await page.route('**/api/v1/providers?per_page=1', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' }));
    await page.goto(`${studio.url}/studio/`);
    await page.getByLabel('API key').fill(studio.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/server answered 502/).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('plugboard.apiKey'))).toBeNull();
    expect(await page.getByRole('heading', { level: 1, name: 'Integrations' }).count()).toBe(0);
    await page.context().close();
  }, 60_000);
});
