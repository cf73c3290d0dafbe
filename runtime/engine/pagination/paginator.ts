// One Paginator per stream run: given a page (the response and its selected records) it says which
// request fetches the following page, or undefined when this was the last. A PageRequest is plain
// JSON: the sync service stores it as the resume token of a run killed mid-way.
import { EngineError, failure } from '../../http/errors.ts';

export interface PageRequest {
  /** Query parameters set on the stream's request (the page number, offset or token). */
  query?: Record<string, string>;
  /** A whole URL on the provider's origin that replaces the stream's path and query (next_url, link_header). */
  url?: string;
  /** The sync.cursor the run started with, so a resumed run keeps the same incremental filter (set by stream.ts). */
  cursor?: string | null;
}

export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** The URL this page was fetched from. */
  url: string;
  /** The paginator's parameters this page was fetched with (in the URL's query, or in the body with `in: body`). */
  params?: Record<string, string>;
}

export interface Paginator {
  /** The first page's parameters (a page size, the first page number); {} when none. */
  first(): PageRequest;
  next(page: PageResponse, records: unknown[]): Promise<PageRequest | undefined>;
}

export function paginationError(stream: string, message: string): EngineError {
  return new EngineError(failure('provider_error', `stream "${stream}": ${message}`, { retryable: false }));
}

/** A token or URL a `next` expression gave: strings and numbers count, empty/null/false end. */
export function tokenOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The page size query parameter, when the manifest names one. */
export function sizeQuery(spec: { page_size?: number; page_size_param?: string }): Record<string, string> {
  return spec.page_size_param && spec.page_size ? { [spec.page_size_param]: String(spec.page_size) } : {};
}

/**
 * Resolves an absolute or root-relative URL against the base URL and refuses any other origin: the
 * engine sends the integration's credentials with it.
 */
export function sameOrigin(stream: string, raw: string, baseUrl: string, what: string): string {
  if (!/^https?:\/\//i.test(raw) && !(raw.startsWith('/') && !raw.startsWith('//'))) {
    throw paginationError(stream, `${what} "${raw.slice(0, 200)}" is neither an absolute URL nor root-relative (/...)`);
  }
  const base = new URL(baseUrl);
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw paginationError(stream, `${what} "${raw.slice(0, 200)}" is not a valid URL`);
  }
  if (url.origin !== base.origin) throw paginationError(stream, `${what} ${url.origin} is not the provider's origin ${base.origin}: refused`);
  return url.toString();
}
