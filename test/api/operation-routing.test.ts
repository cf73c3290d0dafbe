// The memoized router (runtime/api/operation-routing.ts) must match exactly as openapi-backend's own
// matchOperation does: every documented path and method, near misses, trailing slashes, 404s and 405s.
import { describe, it, expect } from 'vitest';
import { OpenAPIBackend } from 'openapi-backend';
import { loadOpenApiDocument, API_BASE } from '../../runtime/api/app.ts';
import { routeOnce } from '../../runtime/api/operation-routing.ts';

async function backend(): Promise<OpenAPIBackend> {
  const api = new OpenAPIBackend({ definition: loadOpenApiDocument() as never, apiRoot: '/', validate: false, quick: true });
  await api.init();
  return api;
}

const METHODS = ['get', 'post', 'patch', 'put', 'delete', 'head', 'options'];

function outcome(api: OpenAPIBackend, method: string, path: string): string {
  try {
    const op = api.router.matchOperation({ method, path, headers: {} }, true);
    return `${op?.method} ${op?.path} ${op?.operationId}`;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('memoized OpenAPI routing', () => {
  it('matches every request as openapi-backend does', async () => {
    const original = await backend();
    const memoized = await backend();
    routeOnce(memoized);
    const templates = Object.keys(loadOpenApiDocument().paths as Record<string, unknown>);
    const paths = new Set<string>(['/', '/nothing', '/integrations/a/b/c/d', '/integrations//', '/webhooks/inbound', '/integrations/connect']);
    for (const t of templates) {
      paths.add(t.replace(/\{.*?\}/g, 'x1'));
      paths.add(t.replace(/\{.*?\}/g, 'connect'));
      paths.add(`${t.replace(/\{.*?\}/g, 'id_9')}/`);
      paths.add(`${t.replace(/\{.*?\}/g, 'a')}/extra`);
      paths.add(t.replace(/\/[^/]+$/, ''));
    }
    let compared = 0;
    for (const p of paths) {
      for (const m of METHODS) {
        expect(outcome(memoized, m, p), `${m} ${p}`).toBe(outcome(original, m, p));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(templates.length * METHODS.length);
    // The routes the API serves are all found (a path the router missed would be a 404 for a user).
    for (const t of templates) expect(outcome(memoized, 'get', t.replace(/\{.*?\}/g, 'x1'))).not.toMatch(/404-notFound/);
    expect(API_BASE).toBe('/api/v1');
  });

  it('looks operations up by id from the list built once', async () => {
    const memoized = await backend();
    routeOnce(memoized);
    expect(memoized.router.getOperations()).toBe(memoized.router.getOperations());
    expect(memoized.router.getOperation('listIntegrations')?.path).toBe('/integrations');
    expect(memoized.router.getOperation('noSuchOperation')).toBeUndefined();
  });
});
