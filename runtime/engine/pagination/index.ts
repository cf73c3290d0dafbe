// createPaginator: the stream's pagination kind, wrapped in the loop guard (a provider that hands
// out a request already made would page forever). max_pages is enforced by the stream reader,
// which marks the last page it read `truncated`.
import type { CompiledPagination } from '../../manifest/streams.ts';
import { paginationError, sameOrigin, type Paginator, type PageRequest } from './paginator.ts';
import { nonePaginator } from './none.ts';
import { cursorPaginator } from './cursor.ts';
import { pagePaginator } from './page.ts';
import { offsetPaginator } from './offset.ts';
import { linkHeaderPaginator } from './link-header.ts';
import { nextUrlPaginator } from './next-url.ts';

export type { Paginator, PageRequest } from './paginator.ts';

function kind(p: CompiledPagination, baseUrl: string, stream: string): Paginator {
  const spec = p.spec;
  const next = () => {
    if (!p.next) throw paginationError(stream, `${spec.type} pagination has no compiled "next" expression`);
    return p.next;
  };
  switch (spec.type) {
    case 'none': return nonePaginator();
    case 'cursor': return cursorPaginator(spec, next());
    case 'page': return pagePaginator(spec);
    case 'offset': return offsetPaginator(spec);
    case 'link_header': return linkHeaderPaginator(stream, baseUrl);
    case 'next_url': return nextUrlPaginator(stream, baseUrl, next());
  }
}

/** Comparable form of a request (key order does not matter). */
function fingerprint(r: PageRequest): string {
  return JSON.stringify([r.url ?? null, Object.entries(r.query ?? {}).sort(([a], [b]) => a.localeCompare(b))]);
}

/**
 * The paginator of a stream run. Its first() is `start` (a resume token) or the kind's first page;
 * any next request equal to one already made is an error naming the stream.
 */
export function createPaginator(p: CompiledPagination, baseUrl: string, opts: { stream: string; start?: PageRequest }): Paginator {
  const inner = kind(p, baseUrl, opts.stream);
  // A stored resume URL is checked like any next URL: the base URL (environment, instance_url) may
  // have changed since it was stored, and credentials must never go to another origin.
  const start = opts.start ? { ...opts.start, ...(opts.start.url ? { url: sameOrigin(opts.stream, opts.start.url, baseUrl, 'the stored resume URL') } : {}) } : inner.first();
  const seen = new Set<string>([fingerprint(start)]);
  return {
    first: () => ({ ...(start.url ? { url: start.url } : {}), ...(start.query ? { query: start.query } : {}) }),
    async next(page, records) {
      const req = await inner.next(page, records);
      if (!req) return undefined;
      const f = fingerprint(req);
      if (seen.has(f)) throw paginationError(opts.stream, `the provider returned the same next page request twice (${f.slice(0, 300)}): stopped to avoid a loop`);
      seen.add(f);
      return req;
    },
  };
}
