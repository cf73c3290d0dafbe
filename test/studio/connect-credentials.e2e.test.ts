// End to end in headless Chromium (browser-harness.ts) against a real `plugboard serve` whose
// connectors are the shipped Slack manifest and an OAuth provider (acme_crm) on loopback: the
// authorization server is oauth2-mock-server and the provider API accepts only the tokens it issued
// (test/oauth/helpers.ts). Connect goes through the authorization server and the callback back to the
// studio (return_to), where the card turns green. A Slack integration saved with its bot token only
// shows that secret as "stored", not the optional signing secret it never got; a refused value reads
// as the API words the same refusal.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { startAuthServer, startProviderApi, acmeConnectorsDir, OAUTH_ENV, type AuthServer, type ProviderApi } from '../oauth/helpers.ts';
import { ARTIFACTS, startStudio, watchedPage, seriousViolations, type Studio } from './browser-harness.ts';

const BOT_TOKEN = 'xoxb-1234567890-' + 'Br0wserT0ken'.repeat(2);

let auth: AuthServer;
let providerApi: ProviderApi;
let studio: Studio;

/** A free loopback port: PLUGBOARD_PUBLIC_URL (the OAuth redirect URI) must name the server's port before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  auth = await startAuthServer();
  providerApi = await startProviderApi(auth);
  const connectors = acmeConnectorsDir(auth, providerApi);
  fs.copyFileSync(path.join(PROJECT_ROOT, 'connectors', 'slack.yaml'), path.join(connectors, 'slack.yaml'));
  const port = await freePort();
  studio = await startStudio({
    ...OAUTH_ENV,
    PORT: String(port),
    PLUGBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
    PLUGBOARD_CONNECTORS_DIR: connectors,
    // Slack's verification goes to a closed loopback port: nothing leaves the machine.
    PLUGBOARD_BASE_URL_SLACK: 'http://127.0.0.1:9',
  });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  await providerApi?.close();
  await auth?.close();
});

async function signIn(page: import('playwright-core').Page): Promise<void> {
  await page.goto(`${studio.url}/studio/`);
  await page.getByLabel('API key').fill(studio.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();
}

describe('studio in Chromium: OAuth connect and stored credentials', () => {
  it('Connect goes through the authorization server and back to the studio, where the card turns green', async () => {
    const { page, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signIn(page);
    const card = page.getByRole('article', { name: 'Acme CRM', exact: true });
    const status = () => card.locator('[data-status]').getAttribute('data-status');
    await expect.poll(status).toBe('not_configured');
    expect(await card.getByRole('button', { name: 'Configure' }).count()).toBe(0);

    await card.getByRole('button', { name: 'Connect' }).click();
    // Back from the callback on the page the studio named as return_to, with the outcome in the query.
    await page.waitForURL((u) => u.pathname.startsWith('/studio') && u.searchParams.has('integration_id'), { timeout: 20_000 });
    const back = new URL(page.url());
    expect(back.origin).toBe(studio.url);
    expect(['pending_verify', 'active']).toContain(back.searchParams.get('status'));
    await page.getByText(/^Connected; status (pending verify|active)/i).waitFor();
    // The browser went to the authorization server (and only there) with the state the API issued.
    expect(foreign.length).toBe(1);
    const authorize = new URL(foreign[0]!);
    expect(authorize.origin + authorize.pathname).toBe(`${auth.url}/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${studio.url}/api/v1/integrations/callback/acme_crm`);

    // Verified with the issued bearer token: green, and Connect became Reconnect.
    await expect.poll(status, { timeout: 20_000, interval: 250 }).toBe('active');
    expect(await card.textContent()).toContain('Active');
    await card.getByRole('button', { name: 'Reconnect' }).waitFor();
    const integrations = await studio.api<Array<{ id: string; provider: string; status: string }>>('GET', '/integrations');
    expect(integrations.body.data.find((i) => i.provider === 'acme_crm')).toMatchObject({ id: back.searchParams.get('integration_id'), status: 'active' });
    expect(providerApi.seen.length).toBeGreaterThan(0);
    for (const token of auth.issued) expect(await page.content()).not.toContain(token);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'integrations-oauth-connected-1280.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('shows "stored" only for the secrets the integration holds, and words a refusal as the API does', async () => {
    const { page, consoleErrors, foreign } = await watchedPage(studio, 1280);
    await signIn(page);
    const card = page.getByRole('article', { name: 'Slack', exact: true });
    await card.getByRole('button', { name: 'Configure' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configure Slack' });
    await dialog.getByLabel('Bot token').fill('xoxb-short');
    await dialog.getByRole('button', { name: 'Save and verify' }).click();
    // The browser's message is the API's for the same value, word for word.
    const refused = await studio.api('POST', '/integrations', { provider: 'slack', credentials: { bot_token: 'xoxb-short' } });
    expect(refused.status).toBe(422);
    const apiMessage = (refused.body as unknown as { errors: Record<string, string[]> }).errors['credentials.bot_token']![0]!;
    expect(apiMessage).toBe('is not a valid Bot token: check it for a typing or copying mistake');
    const tokenGroup = dialog.locator('.form-group', { has: page.getByLabel('Bot token') });
    await tokenGroup.getByText(apiMessage, { exact: true }).waitFor();
    expect(await dialog.textContent()).not.toContain('must match');

    await dialog.getByLabel('Bot token').fill(BOT_TOKEN);
    await dialog.getByRole('button', { name: 'Save and verify' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => card.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 }).not.toBe('not_configured');
    // The bot token is stored; the optional signing secret was never given.
    await expect.poll(() => card.textContent()).toContain('Bot token: stored');
    expect(await card.textContent()).not.toContain('Signing secret');

    await card.getByRole('button', { name: 'Rotate credentials' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate Slack credentials' });
    expect(await rotate.getByLabel('Bot token').getAttribute('placeholder')).toBe('stored');
    expect(await rotate.getByLabel('Signing secret').getAttribute('placeholder')).not.toBe('stored');
    await rotate.getByText(/^Not set\./).waitFor();
    await rotate.getByLabel('Signing secret').fill('8f742231b10e8888abcd99yyyzzz85a5');
    await rotate.getByRole('button', { name: 'Save new credentials' }).click();
    await rotate.waitFor({ state: 'detached' });
    await expect.poll(() => card.textContent()).toContain('Signing secret: stored');
    expect(await page.content()).not.toContain(BOT_TOKEN);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'integrations-stored-secrets-1280.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.context().close();
  }, 90_000);
});
