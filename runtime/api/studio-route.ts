// The studio (DESIGN §9): the single-page app built into studio/dist, served at /studio with its own
// strict Content-Security-Policy (the API keeps helmet's). index.html is never cached (a new build
// takes effect at once); hashed assets are immutable for a year; other paths under /studio are the
// app's own routes and answer index.html. Without a build, /studio explains how to make one (503).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, type NextFunction } from 'express';
import { PROJECT_ROOT } from '../config/paths.ts';

export const STUDIO_PATH = '/studio';
export const STUDIO_DIST = path.join(PROJECT_ROOT, 'studio', 'dist');

/**
 * Same origin only, no inline script, no framing. 'unsafe-eval' because the credential form's
 * validator (Ajv, via @rjsf/validator-ajv8) compiles each provider's credential_schema, which
 * arrives from the API, into a function at run time (DESIGN §10; docs/operations.md). React Aria
 * adds two small <style> elements of its own; they carry the page's per-response nonce (read from
 * <meta name="csp-nonce">), so no other inline style is allowed.
 */
export function studioCsp(styleNonce?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval'",
    styleNonce ? `style-src 'self' 'nonce-${styleNonce}'` : "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Plugboard Studio is not built</title></head>
<body><main><h1>The studio is not built</h1>
<p>This server has no studio build (studio/dist). Run <code>npm run build:studio</code> (or <code>npm ci</code>, which builds it) and reload this page.</p>
<p>The API is unaffected: <a href="/docs">/docs</a>.</p></main></body></html>`;

export function studioRoutes(dist = STUDIO_DIST): express.Router {
  const router = express.Router();
  const indexFile = path.join(dist, 'index.html');

  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', studioCsp());
    next();
  });
  // Content-hashed file names: a changed file is a new name.
  router.use(
    '/assets',
    express.static(path.join(dist, 'assets'), {
      index: false,
      fallthrough: false,
      immutable: true,
      maxAge: '365d',
    }),
  );
  // Unhashed files (favicon.svg): revalidated each time.
  router.use(express.static(dist, { index: false, redirect: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let html: string;
    try {
      html = fs.readFileSync(indexFile, 'utf8');
    } catch {
      res.status(503).setHeader('Cache-Control', 'no-store');
      return res.type('html').send(NOT_BUILT);
    }
    const nonce = crypto.randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', studioCsp(nonce));
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html.replace('<head>', `<head>\n    <meta name="csp-nonce" nonce="${nonce}" />`));
  });
  // A missing asset is a 404 page, not the app (the browser asked for a script, not a route).
  router.use((err: Error & { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (err.status !== 404) return next(err);
    res.status(404).setHeader('Cache-Control', 'no-store');
    res.type('text').send('Not found.');
  });
  return router;
}
