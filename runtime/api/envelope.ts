// The response envelope of DESIGN.md §3.
export interface Page {
  page: number;
  perPage: number;
}

export function ok<T>(data: T, message = 'OK', meta?: Record<string, unknown>) {
  return { success: true as const, message, data, ...(meta ? { meta } : {}) };
}

/** A list envelope from an in-memory list (sliced here). */
export function list<T>(all: T[], page: Page, baseUrl: string, message = 'OK') {
  return listPage(all.slice((page.page - 1) * page.perPage, page.page * page.perPage), all.length, page, baseUrl, message);
}

/** A list envelope from one page already fetched and the total count. */
export function listPage<T>(data: T[], total: number, page: Page, baseUrl: string, message = 'OK') {
  const lastPage = Math.max(1, Math.ceil(total / page.perPage));
  const link = (p: number) => {
    const u = new URL(baseUrl, 'http://x');
    u.searchParams.set('page', String(p));
    u.searchParams.set('per_page', String(page.perPage));
    return `${u.pathname}${u.search}`;
  };
  return {
    success: true as const,
    message,
    data,
    meta: { current_page: page.page, per_page: page.perPage, total, last_page: lastPage },
    links: { first: link(1), last: link(lastPage), prev: page.page > 1 ? link(page.page - 1) : null, next: page.page < lastPage ? link(page.page + 1) : null },
  };
}

export function fail(message: string, errors?: Record<string, string[]>, code?: string) {
  return { success: false as const, message, ...(code ? { code } : {}), ...(errors ? { errors } : {}) };
}
