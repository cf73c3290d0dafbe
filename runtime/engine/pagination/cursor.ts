// pagination: cursor — a token from the body (JSONata `next`) sent as the query parameter `param`
// (Stripe starting_after, HubSpot paging.next.after). No token, or an empty one, ends; an empty page
// that still carries a token is followed (some providers page through filtered-out results).
import type { CompiledExpression } from '../../lang/expressions.ts';
import { sizeQuery, tokenOf, type Paginator } from './paginator.ts';

export function cursorPaginator(spec: { param: string; page_size?: number; page_size_param?: string }, next: CompiledExpression): Paginator {
  return {
    first: () => ({ query: sizeQuery(spec) }),
    async next(page) {
      const token = tokenOf(await next.evaluate(page.body, { status: page.status, headers: page.headers }));
      return token === undefined ? undefined : { query: { ...sizeQuery(spec), [spec.param]: token } };
    },
  };
}
