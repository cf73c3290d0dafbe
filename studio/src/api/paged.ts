// List endpoints answer `{data: [...], meta: {current_page, per_page, total, last_page}}`; `unwrap`
// keeps only `data`, this keeps the page facts too (for "Older"/"Newer" buttons and counts).
import { unwrap } from './client';

export interface Paged<T> {
  items: T[];
  page: number;
  lastPage: number;
  total: number;
}

interface ListAnswer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

export async function paged<T>(call: Promise<ListAnswer>): Promise<Paged<T>> {
  // A network failure becomes the same ApiError `unwrap` gives ("The server could not be reached").
  const answer = await call.catch((err: Error) => unwrap<never>(Promise.reject(err)));
  const items = await unwrap<T[]>(Promise.resolve(answer));
  const meta = (answer.data as { meta?: { current_page?: number; last_page?: number; total?: number } } | undefined)?.meta ?? {};
  return { items, page: meta.current_page ?? 1, lastPage: Math.max(1, meta.last_page ?? 1), total: meta.total ?? items.length };
}
