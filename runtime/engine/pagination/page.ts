// pagination: page — page numbers from `start` (default 1) in `param`. Only an empty page ends: a
// short one may mean the provider caps page_size below the manifest's, not the end. The current number is read back from the page's URL, so a run
// resumed from a stored PageRequest continues where it was.
import { sizeQuery, type Paginator } from './paginator.ts';

export function pagePaginator(spec: { param: string; page_size?: number; page_size_param?: string; start?: number }): Paginator {
  const start = spec.start ?? 1;
  return {
    first: () => ({ query: { ...sizeQuery(spec), [spec.param]: String(start) } }),
    async next(page, records) {
      if (records.length === 0) return undefined;
      const current = Number(page.params?.[spec.param] ?? new URL(page.url).searchParams.get(spec.param) ?? start);
      return { query: { ...sizeQuery(spec), [spec.param]: String((Number.isFinite(current) ? current : start) + 1) } };
    },
  };
}
