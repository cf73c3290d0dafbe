// pagination: none — one page.
import type { Paginator } from './paginator.ts';

export function nonePaginator(): Paginator {
  return { first: () => ({}), next: async () => undefined };
}
