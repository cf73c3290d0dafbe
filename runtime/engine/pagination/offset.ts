// pagination: offset — `param` advances by the records a page held; only an empty page ends (a
// short one may be the provider's own cap on page_size). The current offset is read back from the page's URL (resumable).
import { sizeQuery, type Paginator } from './paginator.ts';

export function offsetPaginator(spec: { param: string; page_size: number; page_size_param?: string }): Paginator {
  return {
    first: () => ({ query: { ...sizeQuery(spec), [spec.param]: '0' } }),
    async next(page, records) {
      if (records.length === 0) return undefined;
      const current = Number(page.params?.[spec.param] ?? new URL(page.url).searchParams.get(spec.param) ?? 0);
      return { query: { ...sizeQuery(spec), [spec.param]: String((Number.isFinite(current) ? current : 0) + records.length) } };
    },
  };
}
