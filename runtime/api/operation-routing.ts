// openapi-backend 5.20 rebuilds its whole operation list (a lodash chain over every path of
// schemas/openapi.yaml) on each getOperations() call, and one request calls it three times or more:
// matching by exact path, matching by template with a RegExp compiled per operation, and looking
// the operation up by id to validate. That was about a tenth of a cheap request's CPU. The
// definition never changes after init, so the list is built once and matched with patterns
// compiled once, by the library's own rules: an exact path first, then templates by specificity
// (longest literal part first), 404 when no path matches, 405 when no method does.
import type { OpenAPIBackend, Operation, Request as ApiRequest } from 'openapi-backend';

const PARAM = /\{.*?\}/g;

export function routeOnce(api: OpenAPIBackend): void {
  const router = api.router;
  const operations = router.getOperations();
  const byId = new Map(operations.map((op) => [op.operationId, op]));
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const templates = operations
    .map((op, i) => ({ op, i, specificity: op.path.replace(PARAM, '').length, pattern: new RegExp(`^${op.path.split(PARAM).map(escape).join('[^/]+')}$`) }))
    // Array.prototype.sort is stable: equal specificity keeps definition order, as lodash's orderBy does.
    .sort((a, b) => b.specificity - a.specificity);

  router.getOperations = () => operations;
  router.getOperation = (operationId: string) => byId.get(operationId);
  router.matchOperation = ((req: ApiRequest, strict?: boolean): Operation | undefined => {
    const normalized = router.normalizeRequest(req);
    const miss = (message: string) => {
      if (strict) throw Error(message);
      return undefined;
    };
    if (!normalized.path.startsWith(router.apiRoot)) return miss('404-notFound: no route matches request');
    const path = router.normalizePath(normalized.path);
    const exact = operations.find((op) => op.path === path && op.method === normalized.method);
    if (exact) return exact;
    let pathMatched = false;
    for (const t of templates) {
      if (!t.pattern.test(path)) continue;
      pathMatched = true;
      if (t.op.method === normalized.method) return t.op;
    }
    return miss(pathMatched ? '405-methodNotAllowed: this method is not registered for the route' : '404-notFound: no route matches request');
  }) as typeof router.matchOperation;
}
