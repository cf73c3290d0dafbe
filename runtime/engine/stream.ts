// Engine.readStream (DESIGN §2, issue 10): a stream read page by page. Each page's request is the
// stream's request plus the incremental cursor (param or header; templates read sync.cursor) plus
// the paginator's query or URL, sent through the engine's own exchange (auth, OAuth refresh, rate
// limit, retries, Retry-After). Records are selected, mapped, validated against the model; a page
// says which request fetches the next one, so a killed run resumes from its last committed page.
import type { Connector } from '../manifest/connector.ts';
import type { CompiledRequest } from '../manifest/compiled-request.ts';
import type { CompiledStream } from '../manifest/streams.ts';
import { modelErrors } from '../manifest/models.ts';
import type { HttpResponse } from '../http/transport.ts';
import { EngineError, failure, type EngineFailure } from '../http/errors.ts';
import type { PageParts } from './request.ts';
import type { RunOptions, RunMeta } from './run-types.ts';
import { createPaginator, type PageRequest } from './pagination/index.ts';

export interface StreamOptions extends Omit<RunOptions, 'input'> {
  /** The last committed incremental cursor (sync.cursor; the baseline of this run's cursor); null: a full read. */
  cursor?: string | null;
  /** Continue from this page request (a killed run's resume token); null: the first page. */
  resume?: PageRequest | null;
}

export interface StreamPage {
  /** 1-based page number in this run. */
  number: number;
  /** Mapped and valid against the stream's model. */
  records: Array<{ key: string; data: Record<string, unknown> }>;
  /** Mapped but invalid (counted, never stored). */
  invalid: Array<{ key: string | null; errors: string[] }>;
  /** The largest cursor field of the valid records so far this run (never below the input cursor), else the input cursor. */
  cursor: string | null;
  /** The request of the following page (store it as the resume token); null: this was the last page. */
  next: PageRequest | null;
  /** Stopped by max_pages: there are more pages, from `next`. */
  truncated?: boolean;
}

/** What Engine lends the reader: its exchange and error handling, so a stream page is sent exactly as a capability call is. */
export interface StreamHost {
  exchange(connector: Connector, request: CompiledRequest, opts: RunOptions, meta: RunMeta, secrets: string[], stream: { page: PageParts; sync: { cursor: string; page?: Record<string, string> }; url?: string }): Promise<{ response: HttpResponse; body: unknown }>;
  raiseProviderError(connector: Connector, response: HttpResponse, body: unknown): Promise<void>;
  baseUrl(connector: Connector, opts: RunOptions): string;
  secretValues(connector: Connector, credentials: Record<string, unknown>): string[];
  toFailure(err: unknown, secrets: string[]): EngineFailure;
}

export async function* readStream(host: StreamHost, connector: Connector, name: string, opts: StreamOptions): AsyncGenerator<StreamPage> {
  const secrets = host.secretValues(connector, opts.credentials);
  try {
    const s = connector.streams.get(name);
    if (!s) throw new EngineError(failure('unsupported', `connector ${connector.name} has no stream "${name}"`, { retryable: false }));
    // The filter (sync.cursor, the cursor param/header) stays the one the run started with, also when
    // it resumes: the resume token carries it.
    const filter = opts.resume && opts.resume.cursor !== undefined ? opts.resume.cursor : opts.cursor ?? null;
    const paginator = createPaginator(s.pagination, host.baseUrl(connector, opts), { stream: name, start: opts.resume ?? undefined });
    let request: PageRequest = paginator.first();
    let cursor = opts.cursor ?? null;
    for (let number = 1; ; number++) {
      // Pagination `in: body` (GraphQL variables): the paginator's parameters are sync.page, not the query.
      const inBody = 'in' in s.pagination.spec && s.pagination.spec.in === 'body';
      const sync = { cursor: filter ?? '', ...(inBody ? { page: request.query ?? {} } : {}) };
      const slot = { page: pageParts(s, inBody ? { ...request, query: undefined } : request, filter), sync } as { page: PageParts; sync: { cursor: string; page?: Record<string, string> }; url?: string };
      const { response, body } = await host.exchange(connector, s.request, opts, { attempts: 0, duration_ms: 0 }, secrets, slot);
      // 304 Not Modified answers a conditional request (a cursor sent as If-Modified-Since, Zoho):
      // nothing changed since the cursor, so this is an empty last page, not an error.
      if (response.status === 304) {
        yield { number, records: [], invalid: [], cursor, next: null };
        return;
      }
      await host.raiseProviderError(connector, response, body);
      const raw = await evaluate(s, 'records', () => s.records.evaluate(body, { status: response.status, headers: response.headers }));
      const selected = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
      const page: StreamPage = { number, records: [], invalid: [], cursor, next: null };
      for (const record of selected) {
        const one = await mapRecord(s, record);
        if ('errors' in one) {
          page.invalid.push(one);
          continue;
        }
        page.records.push(one);
        if (s.cursor) cursor = later(cursor, one.data[s.cursor.field]);
      }
      page.cursor = cursor;
      const next = await paginator.next({ status: response.status, headers: response.headers, body, url: slot.url ?? '', params: request.query }, selected);
      page.next = next ? { ...next, cursor: filter } : null;
      // max_pages: the run stops here, still saying where the next page is (the next run resumes there).
      if (next && number >= s.pagination.maxPages) {
        yield { ...page, truncated: true };
        return;
      }
      yield page;
      if (!next) return;
      request = next;
    }
  } catch (err) {
    throw new EngineError(host.toFailure(err, secrets));
  }
}

/** The cursor param or header (only when there is a cursor), then the paginator's query or URL. */
function pageParts(s: CompiledStream, request: PageRequest, filter: string | null): PageParts {
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  if (filter !== null && filter !== '' && s.cursor?.param) query[s.cursor.param] = filter;
  if (filter !== null && filter !== '' && s.cursor?.header) headers[s.cursor.header] = filter;
  Object.assign(query, request.query);
  return { ...(request.url ? { url: request.url } : {}), query, headers };
}

async function evaluate(s: CompiledStream, what: string, fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn();
  } catch (err) {
    throw new EngineError(failure('invalid_output', `stream "${s.name}": the ${what} expression failed: ${(err as Error).message}`, { retryable: false }));
  }
}

async function mapRecord(s: CompiledStream, record: unknown): Promise<{ key: string; data: Record<string, unknown> } | { key: string | null; errors: string[] }> {
  let mapped: unknown;
  try {
    mapped = s.mapping ? await s.mapping.evaluate(record) : record;
  } catch (err) {
    return { key: keyOf(record, s.primaryKey), errors: [`mapping failed: ${(err as Error).message}`] };
  }
  if (!mapped || typeof mapped !== 'object' || Array.isArray(mapped)) return { key: null, errors: [`the mapping gave ${Array.isArray(mapped) ? 'an array' : mapped === undefined ? 'nothing' : typeof mapped}, not a ${s.model} object`] };
  const data = mapped as Record<string, unknown>;
  const key = keyOf(data, s.primaryKey);
  const errors = modelErrors(s.model, data);
  if (key === null) errors.unshift(`primary key "${s.primaryKey}" is missing or empty`);
  const keyProblem = key === null ? undefined : badKey(key);
  if (keyProblem) return { key: key!.slice(0, 100), errors: [keyProblem, ...errors] };
  return errors.length ? { key, errors } : { key: key!, data };
}

/** Longest primary key stored (bytes): providers' ids are far shorter; a longer one is a mapping error. */
const MAX_KEY_BYTES = 512;

/** A record's primary key as stored: a non-empty string or a finite number, else null. */
export function keyOf(value: unknown, field: string): string | null {
  const k = value && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
  return (typeof k === 'string' && k !== '') || (typeof k === 'number' && Number.isFinite(k)) ? String(k) : null;
}

/** Why a key cannot be stored (too long for an index, or control characters PostgreSQL text refuses). */
function badKey(key: string): string | undefined {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `primary key is longer than ${MAX_KEY_BYTES} bytes`;
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'primary key contains control characters';
  return undefined;
}

/** The later of a cursor and a record's value: numbers by value, dates by time, else as strings. */
function later(current: string | null, value: unknown): string | null {
  const v = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' && value !== '' ? value : null;
  if (v === null) return current;
  if (current === null) return v;
  return compareCursors(v, current) > 0 ? v : current;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
interface ParsedCursor { text: string; numeric: boolean; time: number }
const parseCursor = (text: string): ParsedCursor => ({ text, numeric: NUMERIC.test(text), time: Date.parse(text) });
/** The cursor records are compared with, parsed once (it changes far less often than it is compared). */
let held: ParsedCursor = parseCursor('');

function compareCursors(a: string, b: string): number {
  if (a === b) return 0;
  const pb = held.text === b ? held : (held = parseCursor(b));
  const numeric = NUMERIC.test(a);
  if (numeric && pb.numeric) return Number(a) - Number(b);
  const ta = Date.parse(a);
  if (!Number.isNaN(ta) && !Number.isNaN(pb.time) && ta !== pb.time) return ta - pb.time;
  return a < b ? -1 : a > b ? 1 : 0;
}
