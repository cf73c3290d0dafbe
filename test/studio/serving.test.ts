// `plugboard serve` serves the studio's build at /studio: index.html never cached, hashed assets
// immutable, the app's own routes answered with index.html, a strict CSP for /studio only (the API
// keeps helmet's), a 404 for a missing asset, and a 503 page naming the build command when there is
// no build. The first-load JavaScript stays within its budget (DESIGN §10), and the API client's
// generated types match schemas/openapi.yaml.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import express from 'express';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { studioCsp, studioRoutes } from '../../runtime/api/studio-route.ts';
import { FIRST_LOAD_BUDGET, firstLoadJs } from '../../studio/scripts/bundle-size.ts';
import { ensureStudioBuilt } from './studio-build.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

let p: TestPlatform;
let dist: string;

beforeAll(async () => {
  dist = await ensureStudioBuilt();
  p = await startTestPlatform();
});
afterAll(async () => {
  await p?.close();
});

const get = (url: string) => fetch(url, { redirect: 'manual' });

describe('serving the studio', () => {
  it('serves index.html at /studio and /studio/ with no-cache and the studio CSP', async () => {
    const nonces = new Set<string>();
    for (const route of ['/studio', '/studio/']) {
      const res = await get(p.url + route);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy')!;
      const html = await res.text();
      expect(html).toContain('<div id="root"></div>');
      // React Aria's own <style> elements carry this response's nonce: one per response, in the CSP.
      const nonce = /<meta name="csp-nonce" nonce="([A-Za-z0-9+/=]{24})"/.exec(html)![1]!;
      expect(csp).toBe(studioCsp(nonce));
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(2);
  });

  it('answers the app routes under /studio with index.html (SPA fallback)', async () => {
    const res = await get(`${p.url}/studio/integrations/01abc?tab=all`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect((await res.text()).replace(/\n\s*<meta name="csp-nonce"[^>]*>/, '')).toBe(fs.readFileSync(path.join(dist, 'index.html'), 'utf8'));
  });

  it('serves the hashed assets as immutable for a year, and a missing one as 404 (not the app)', async () => {
    const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    const script = /src="(\/studio\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const res = await get(p.url + script);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-security-policy')).toBe(studioCsp());
    const missing = await get(`${p.url}/studio/assets/nothing-1234.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toContain('<div id="root">');
  });

  it('allows only its own origin in the studio CSP; unsafe-eval for Ajv, no unsafe-inline', () => {
    const directives = Object.fromEntries(studioCsp('abc').split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'", "'unsafe-eval'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['style-src']).toEqual(["'self'", "'nonce-abc'"]);
    expect(studioCsp('abc')).not.toMatch(/unsafe-inline|https?:|\*/);
  });

  it("keeps the API's own CSP (helmet's, without unsafe-eval)", async () => {
    for (const route of ['/api/v1/providers', '/healthz', '/docs']) {
      const csp = (await get(p.url + route)).headers.get('content-security-policy');
      expect(csp).toBeTruthy();
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).not.toBe(studioCsp());
    }
  });

  it('answers 503 with the build command when there is no build', async () => {
    const app = express();
    app.use('/studio', studioRoutes(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-no-studio-'))));
    const server: Server = await new Promise((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const route of ['/studio', '/studio/integrations']) {
        const res = await get(url + route);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/text\/html/);
        expect(await res.text()).toContain('npm run build:studio');
      }
    } finally {
      server.close();
    }
  });

  it(`keeps the first-load JavaScript under ${FIRST_LOAD_BUDGET / 1024} KB gzipped`, () => {
    const size = firstLoadJs(dist);
    console.log(`studio first-load JavaScript: ${(size.gzipped / 1024).toFixed(1)} KB gzipped in ${size.files.length} file(s)`);
    expect(size.files.length).toBeGreaterThan(0);
    expect(size.gzipped).toBeGreaterThan(10 * 1024); // a real React bundle, not an empty file
    expect(size.gzipped).toBeLessThan(FIRST_LOAD_BUDGET);
  });
});

describe('the generated API client types', () => {
  it('are up to date with schemas/openapi.yaml (npm run studio:types)', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-types-')), 'schema.d.ts');
    const r = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'openapi-typescript'), ['schemas/openapi.yaml', '--empty-objects-unknown', '-o', out], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const committed = fs.readFileSync(path.join(PROJECT_ROOT, 'generated', 'api', 'openapi.d.ts'), 'utf8');
    expect(committed === fs.readFileSync(out, 'utf8'), 'generated/api/openapi.d.ts is stale: run `npm run studio:types`').toBe(true);
  });
});
