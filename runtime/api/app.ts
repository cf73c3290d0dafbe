// The HTTP API: Express for the server, openapi-backend routing and validating every /api/v1
// request from schemas/openapi.yaml, so an undocumented route cannot exist.
import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, type NextFunction } from 'express';
import { OpenAPIBackend, type Context } from 'openapi-backend';
import { parse as parseYaml } from 'yaml';
import type { Logger } from 'pino';
import type { Connector } from '../manifest/connector.ts';
import { SCHEMAS_DIR } from '../manifest/paths.ts';
import { ok, list, fail } from './envelope.ts';

export interface AppDeps {
  connectors: Map<string, Connector>;
  logger: Logger;
}

const API_BASE = '/api/v1';

export function loadOpenApiDocument(): Record<string, unknown> {
  return parseYaml(fs.readFileSync(path.join(SCHEMAS_DIR, 'openapi.yaml'), 'utf8')) as Record<string, unknown>;
}

export async function createApp(deps: AppDeps): Promise<express.Express> {
  const definition = loadOpenApiDocument();
  // quick: openapi-backend checks definitions against the 3.0 meta-schema, which rejects valid 3.1
  // (const, type lists); request validation itself is unaffected.
  const api = new OpenAPIBackend({ definition: definition as never, apiRoot: '/', validate: true, quick: true });

  api.register({
    listProviders: (c: Context, req: Request, res: Response) => {
      const q = c.request.query as Record<string, string | undefined>;
      const page = { page: Number(q.page ?? 1), perPage: Number(q.per_page ?? 25) };
      const providers = [...deps.connectors.values()]
        .filter((p) => !q.category || p.category === q.category)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((p) => ({
          name: p.name,
          display_name: p.displayName,
          description: p.description,
          category: p.category,
          auth_type: p.manifest.auth.type,
          capabilities: [...p.capabilities.keys()],
          environments: Object.keys(p.environments),
          credential_schema: p.credentialSchema,
          is_configured: false,
        }));
      res.json(list(providers, page, req.originalUrl));
    },
    validationFail: (c: Context, _req: Request, res: Response) => {
      const errors: Record<string, string[]> = {};
      for (const e of c.validation.errors ?? []) {
        const field = (e.instancePath || '').replace(/^\/?(query|body|path|headers)\/?/, '').replace(/\//g, '.') || (e.params as { missingProperty?: string })?.missingProperty || 'request';
        (errors[field] ??= []).push(e.message ?? 'is invalid');
      }
      res.status(422).json(fail('The given data was invalid.', errors));
    },
    notFound: (_c: Context, _req: Request, res: Response) => res.status(404).json(fail('Not found.')),
    methodNotAllowed: (_c: Context, _req: Request, res: Response) => res.status(405).json(fail('Method not allowed.')),
  });
  await api.init();

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(definition);
  });
  app.use(express.json({ limit: '1mb' }));
  app.use(API_BASE, (req: Request, res: Response, next: NextFunction) => {
    api
      .handleRequest({ method: req.method, path: req.path, query: req.query as Record<string, string>, headers: req.headers as Record<string, string>, body: req.body }, req, res)
      .catch(next);
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).json(fail('Not found.'));
  });
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return res.status(413).json(fail('Request body too large.'));
    if (err.type === 'entity.parse.failed') return res.status(422).json(fail('The request body is not valid JSON.', { body: ['is not valid JSON'] }));
    deps.logger.error({ err: { message: err.message, stack: err.stack }, path: req.path }, 'unhandled error');
    return res.status(500).json(fail('Internal server error.'));
  });
  return app;
}
