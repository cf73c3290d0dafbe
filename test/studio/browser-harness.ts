// The browser harness of the Routing and Webhooks end-to-end tests (the same set-up as
// integrations.e2e.test.ts): a real `plugboard serve` on loopback with a fresh tenant, Debian's
// headless Chromium driven by playwright-core, pages that record console errors and requests to
// other origins, axe-core scans, screenshots in test/artifacts/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { processes, SERVE_READY } from '../helpers/processes.ts';
import { newTestDatabase } from '../helpers/store.ts';
import { openStore } from '../../runtime/store/index.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { ensureStudioBuilt } from './studio-build.ts';

const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts');

export interface Studio {
  url: string;
  apiKey: string;
  browser: Browser;
  /** Calls the REST API with the tenant's key; answers the parsed envelope and status. */
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<{ status: number; body: { data: T; message?: string } }>;
  close(): Promise<void>;
}

/** Builds the studio if needed, starts `plugboard serve` (port 0) with `env` and a new tenant, and launches Chromium. */
export async function startStudio(env: Record<string, string> = {}): Promise<Studio> {
  await ensureStudioBuilt();
  const procs = processes();
  const db = newTestDatabase(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-studio-')));
  const store = await openStore(db.env.PLUGBOARD_DATABASE_URL);
  const apiKey = (await createTenant(store, 'Studio Tenant')).api_key;
  await store.close();
  const started = await procs.start(
    ['serve'],
    { ...db.env, PORT: '0', HOST: '127.0.0.1', PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors'), PLUGBOARD_JOBS_POLL_MS: '100', LOG_LEVEL: 'info', ...env },
    SERVE_READY,
  );
  const url = started.match[1]!;
  // Chromium is a Debian package .ci/run installs, not a service: without it the tests fail, naming it.
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    url,
    apiKey,
    browser,
    async api(method, route, body) {
      const r = await fetch(`${url}/api/v1${route}`, { method, headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as never };
    },
    async close() {
      await browser.close();
      await procs.killAll();
      await db.drop();
    },
  };
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  consoleErrors: string[];
  foreign: string[];
}

/** A page that records console errors, page errors, and every request to an origin other than the server's. */
export async function watchedPage(studio: Studio, width: number, permissions: string[] = []): Promise<WatchedPage> {
  const context = await studio.browser.newContext({ viewport: { width, height: 900 } });
  if (permissions.length) await context.grantPermissions(permissions, { origin: studio.url });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.origin !== studio.url) foreign.push(r.url());
  });
  return { page, context, consoleErrors, foreign };
}

/** Signs in on the sign-in page, then opens the page named `navLabel` through the main navigation. */
export async function signInAndOpen(studio: Studio, page: Page, navLabel: string): Promise<void> {
  await page.goto(`${studio.url}/studio/`);
  expect(await page.title()).toBe('Sign in — Plugboard Studio');
  await page.getByLabel('API key').fill(studio.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: navLabel }).click();
  await page.getByRole('heading', { level: 1, name: navLabel }).waitFor();
  expect(await page.getByRole('link', { name: navLabel }).getAttribute('aria-current')).toBe('page');
  // A client-side navigation names the tab and moves focus to the new page's heading (Integrations,
  // the page signing in shows, is not navigated to again).
  expect(await page.title()).toBe(`${navLabel} — Plugboard Studio`);
  if (navLabel !== 'Integrations') await expect.poll(() => page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent}`)).toMatch(new RegExp(`^H1 .*${navLabel}`, 'i'));
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Screenshots at 1280 and 375 px (`name-1280.png`, `name-375.png`), scanning with axe and checking nothing overflows sideways at 375. */
export async function screenshotsAndScan(page: Page, name: string, ready: () => Promise<unknown>): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 900 });
  await ready();
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await ready();
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 376)
      // Inside a scrolling box (the tab list) is fine: only what widens the page counts.
      .filter((e) => {
        for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return false;
        return true;
      })
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${(e.getAttribute('class') ?? '').replace(/ /g, '.')} "${(e.textContent ?? '').slice(0, 40)}" (right ${Math.round(e.getBoundingClientRect().right)})`),
  );
  expect(wide, 'elements wider than 375 px').toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}
