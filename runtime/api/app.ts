// The HTTP API: Express for the server, openapi-backend routing and validating every /api/v1
// request from schemas/openapi.yaml, so an undocumented route cannot exist.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import express, { type Request, type Response, type NextFunction } from 'express';
import { OpenAPIBackend, type Context, type Handler } from 'openapi-backend';
import helmet from 'helmet';
import cors from 'cors';
import { parse as parseYaml } from 'yaml';
import addFormatsModule from 'ajv-formats';
import { SCHEMAS_DIR } from '../config/paths.ts';
import { yamlDocumentCache } from '../manifest/manifest-cache.ts';
import type { Platform } from '../platform/platform.ts';
import type { Principal } from '../access/api-keys.ts';
import { sendError } from './error-response.ts';
import { boundJsonDepth, dateTimeFormat, pageParams, requireDecodablePath, schemaProblem } from './request-input.ts';
import { metricsEndpoint, recordRequests, templateMatcher } from './metrics-route.ts';
import { FORM_PARAMETER_LIMIT, sendBodyError } from './body-errors.ts';
import { fail } from './envelope.ts';
import { registerSecurity } from './security.ts';
import { requestLog } from './request-log.ts';
import { routeOnce } from './operation-routing.ts';
import { STUDIO_PATH, studioRoutes } from './studio-route.ts';
import { integrationHandlers } from './handlers/integrations.ts';
import { syncHandlers } from './handlers/sync.ts';
import { routingHandlers } from './handlers/routing.ts';
import { operationHandlers } from './handlers/operations.ts';
import { providerHandlers } from './handlers/providers.ts';
import { accessHandlers, oauthTokenError } from './handlers/access.ts';
import { webhookHandlers } from './handlers/webhooks.ts';
import { manifestHandlers } from './handlers/manifests.ts';
import { connectHandlers, malformedCallback } from './handlers/connect.ts';
import { MAX_INBOUND_BYTES } from '../webhooks/inbound.ts';
import { mcpRoutes } from '../mcp/route.ts';
import type { ApiHandler, HandlerContext } from './handler.ts';
import { invalid, PlugboardError } from '../errors/plugboard-error.ts';

export const API_BASE = '/api/v1';
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: unknown) => void;
/** Endpoints that take application/x-www-form-urlencoded bodies (OAuth), not JSON. */
const FORM_ENDPOINTS = ['/oauth/token', '/oauth/revoke'];

/** Notes the OpenAPI route template a request matched, for metric and usage labels. */
function matched(c: Context, req: Request): Context {
  if (c.operation?.path) req.routeTemplate = `${API_BASE}${c.operation.path}`;
  return c;
}

export function loadOpenApiDocument(): Record<string, any> {
  const text = fs.readFileSync(path.join(SCHEMAS_DIR, 'openapi.yaml'), 'utf8');
  const cache = yamlDocumentCache('openapi');
  const hit = cache.get(text);
  if (hit) return hit;
  const doc = parseYaml(text) as Record<string, any>;
  cache.put(text, doc);
  return doc;
}

export interface AppOptions {
  /** Benchmarks only: resolve every request to this principal without checking credentials. */
  fixedPrincipal?: Principal;
}


/** Every operation must declare its scope: a route without one cannot be added by mistake. */
export function assertScopesDeclared(definition: Record<string, any>): void {
  for (const [p, item] of Object.entries<Record<string, any>>(definition.paths)) {
    for (const [method, op] of Object.entries<Record<string, any>>(item)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
      const scope = op['x-required-scope'];
      const open = Array.isArray(op['security']) && op['security'].length === 0;
      if (open ? scope !== 'none' : !['read', 'write', 'delete', 'admin'].includes(scope)) {
        throw new PlugboardError('config', `schemas/openapi.yaml: ${method.toUpperCase()} ${p} declares no valid x-required-scope (read, write, delete, admin; "none" with security: [])`);
      }
    }
  }
}

export async function createApp(platform: Platform, options: AppOptions = {}): Promise<express.Express> {
  const definition = loadOpenApiDocument();
  assertScopesDeclared(definition);

  // quick: openapi-backend checks definitions against the 3.0 meta-schema, which rejects valid 3.1
  // (const, type lists); request validation itself is unaffected.
  const api = new OpenAPIBackend({
    definition: definition as never,
    apiRoot: '/',
    validate: true,
    quick: true,
    // Every invalid field at once; bodies are not coerced (a number is not a string). openapi-backend
    // coerces query and path parameters itself.
    ajvOpts: { allErrors: true, verbose: true },
    // date-time, email, uri...: validated, not ignored.
    customizeAjv: (ajv) => {
      addFormats(ajv as never);
      // No leap seconds: a date-time must also be a JavaScript Date (else handlers answered 500).
      (ajv as unknown as { addFormat(name: string, f: typeof dateTimeFormat): void }).addFormat('date-time', dateTimeFormat);
      return ajv;
    },
  });

  registerSecurity(api, platform, options.fixedPrincipal, matched);

  const wrap = (fn: ApiHandler) => async (c: Context, req: Request, res: Response) => {
    matched(c, req);
    const principal = req.principal ?? { tenantId: '', scopes: [], actor: 'anonymous', kind: 'api_key' as const, credentialId: '' };
    const h: HandlerContext = {
      platform,
      principal,
      tenantId: principal.tenantId,
      requestId: String(req.id),
      page: () => pageParams(c.request.query as Record<string, unknown>),
    };
    try {
      await fn(c, h, req, res);
    } catch (err) {
      if (!sendError(res, err)) throw err;
    }
  };

  const handlers: Record<string, ApiHandler> = { ...providerHandlers, ...integrationHandlers, ...routingHandlers, ...operationHandlers, ...accessHandlers, ...webhookHandlers, ...connectHandlers, ...syncHandlers, ...manifestHandlers };
  api.register(Object.fromEntries(Object.entries(handlers).map(([k, fn]) => [k, wrap(fn)])));
  api.register({
    validationFail: (c: Context, req: Request, res: Response) => {
      matched(c, req);
      if (c.operation?.operationId === 'oauthToken' || c.operation?.operationId === 'oauthRevoke') return oauthTokenError(res, 'invalid_request', 'the request is malformed');
      // A browser lands on the OAuth callback: its refusals are pages, never JSON.
      if (c.operation?.operationId === 'integrationCallback') return wrap(malformedCallback)(c, req, res);
      const errors: Record<string, string[]> = {};
      for (const e of c.validation.errors ?? []) {
        let field = (e.instancePath || '').replace(/^\/?(query|requestBody|body|path|params|headers)\/?/, '').replace(/\//g, '.');
        const params = e.params as { missingProperty?: string; additionalProperty?: string };
        if (params.missingProperty) field = [field, params.missingProperty].filter(Boolean).join('.');
        if (params.additionalProperty) field = [field, params.additionalProperty].filter(Boolean).join('.');
        // A schema may word its own message (x-error-message); enums list their values (schemaProblem).
        const msg = params.additionalProperty ? 'is not allowed' : params.missingProperty ? 'is required' : schemaProblem(e);
        (errors[field || 'body'] ??= []).push(msg);
      }
      sendError(res, invalid(errors));
    },
    notFound: (_c: Context, _req: Request, res: Response) => res.status(404).json(fail('Not found.')),
    methodNotAllowed: (_c: Context, _req: Request, res: Response) => res.status(405).json(fail('Method not allowed.')),
  });
  await api.init();
  routeOnce(api);

  const app = express();
  app.disable('x-powered-by');
  // No ETag hashed over every JSON answer (dynamic, per-tenant: conditional GETs are not part of the
  // API); static files (studio, docs) keep theirs from serve-static.
  app.set('etag', false);
  // The client's address (req.ip, for the brute-force throttle): the socket's unless proxies are trusted.
  app.set('trust proxy', platform.config.trustProxy);
  app.use(helmet());
  if (platform.config.corsOrigins.length) {
    app.use(API_BASE, cors({ origin: platform.config.corsOrigins, exposedHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'] }));
  }
  app.use(requestLog(app, platform.logger, (p) => p === '/healthz' || p === '/metrics'));
  app.use(recordRequests(platform, templateMatcher(Object.keys(definition.paths).map((p) => `${API_BASE}${p}`))));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await platform.store.ping();
      checks['store'] = 'ok';
    } catch (err) {
      checks['store'] = `error: ${(err as Error).message}`;
    }
    try {
      await platform.jobsQueueDepth();
      checks['jobs'] = 'ok';
    } catch (err) {
      checks['jobs'] = `error: ${(err as Error).message}`;
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', metricsEndpoint(platform));
  app.get('/openapi.json', (_req, res) => {
    res.json(definition);
  });
  const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  app.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  app.get('/docs/init.js', (_req, res) => {
    res.type('js').send("window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });");
  });
  app.use('/docs/assets', express.static(swaggerDir, { index: false }));
  app.use(STUDIO_PATH, studioRoutes());
  // The MCP server for agents (docs/agents.md): the same keys, scopes, rate limits and services.
  app.use(mcpRoutes(platform, definition));

  app.use(`${API_BASE}/oauth`, express.urlencoded({ extended: false, limit: '16kb', parameterLimit: FORM_PARAMETER_LIMIT }));
  // Providers sign the exact bytes they send: inbound webhooks keep the raw body.
  app.use(`${API_BASE}/webhooks/inbound`, express.raw({ type: () => true, limit: MAX_INBOUND_BYTES }));
  // Strict content type: a body must be declared JSON; the OAuth endpoints take forms only (RFC 6749
  // §4.4.2, RFC 7009 §2.1), and answer anything else in their own error format.
  app.use(API_BASE, (req: Request, res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || req.path.startsWith('/webhooks/inbound/')) return next();
    if (FORM_ENDPOINTS.includes(req.path)) {
      return req.is('application/x-www-form-urlencoded') ? next() : oauthTokenError(res, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    if (!req.is('application/json')) return res.status(415).json(fail('Request bodies must be JSON (Content-Type: application/json).', { 'content-type': ['must be application/json'] }));
    next();
  });
  app.use(API_BASE, requireDecodablePath, express.json({ limit: '1mb' }), boundJsonDepth, (req: Request, res: Response, next: NextFunction) => {
    api
      .handleRequest({ method: req.method, path: req.path, query: req.query as Record<string, string>, headers: req.headers as Record<string, string>, body: Buffer.isBuffer(req.body) ? undefined : req.body }, req, res)
      .catch(next);
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).json(fail('Not found.'));
  });
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    // A body the client got wrong (charset, encoding, size, parameters, syntax) is its 4xx.
    if (sendBodyError(err, req, res, FORM_ENDPOINTS.map((p) => `${API_BASE}${p}`))) return;
    // Every 500 is a bug: logged at error level with the error (type, message, stack).
    (req.log ?? platform.logger).error({ err }, 'unhandled error');
    (res as { err?: unknown }).err = err;
    return res.status(500).json(fail('Internal server error.'));
  });
  return app;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Plugboard API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;
