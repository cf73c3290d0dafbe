// pagination: link_header — the RFC 8288 Link header's rel="next" target (GitHub, Shopify, ...),
// resolved against the page's URL; it must stay on the provider's origin.
import { sameOrigin, type Paginator } from './paginator.ts';

/** The target of the first link whose rel (a space-separated list) includes "next". */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const m of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+(?:=(?:"[^"]*"|[^;,]*))?)*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))/i.exec(m[2]);
    if ((rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

export function linkHeaderPaginator(stream: string, baseUrl: string): Paginator {
  return {
    first: () => ({}),
    async next(page) {
      const target = nextLink(page.headers['link']);
      if (!target) return undefined;
      const absolute = new URL(target, page.url).toString();
      return { url: sameOrigin(stream, absolute, baseUrl, 'the Link header\'s next URL') };
    },
  };
}
