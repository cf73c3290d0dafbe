// Streams (DESIGN §2): compiled once when a manifest loads, with the checks Ajv cannot do: the model
// exists, the schedule parses, a request reads sync.* only as sync.cursor, a cursor is sent one way.
// connector.ts hands in its template/expression compilers so positions and rules stay the same.
import type { StreamSpec, StreamExampleSpec, RequestSpec, PaginationSpec, CapabilitySpec } from './types.ts';
import type { PathSegment } from './source-map.ts';
import type { CompiledRequest } from './compiled-request.ts';
import type { CompiledExpression } from '../lang/expressions.ts';
import type { TemplateRoot } from '../lang/templates.ts';
import { models } from './models.ts';
import { didYouMean } from './suggest.ts';

/** Roots a stream's request may read: no input (a stream has none) reaches the "no input" check. */
export const STREAM_ROOTS: readonly TemplateRoot[] = ['credentials', 'input', 'integration', 'connection', 'sync'];
const SYNC_FIELDS = ['cursor'];
/** With pagination `in: body`, the paginator's parameters are sync.page.<param>. */
const BODY_PAGED_SYNC_FIELDS = ['cursor', 'page'];
export const DEFAULT_MAX_PAGES = 1000;

export type Schedule = { kind: 'interval'; ms: number; source: string } | { kind: 'cron'; source: string };

export interface CompiledPagination {
  spec: PaginationSpec;
  /** cursor and next_url: the JSONata giving the next token or URL. */
  next?: CompiledExpression;
  maxPages: number;
}

export interface CompiledStream {
  name: string;
  description: string;
  model: string;
  request: CompiledRequest;
  /** JSONata over a page's body giving its records. */
  records: CompiledExpression;
  /** JSONata over one record giving the model object; absent: the record itself. */
  mapping?: CompiledExpression;
  primaryKey: string;
  cursor?: { field: string; param?: string; header?: string };
  pagination: CompiledPagination;
  /** The manifest's schedule, validated: an interval ("15 minutes") or a 5-field cron (Agenda takes both). */
  schedule?: string;
  /** The same, parsed. */
  scheduleSpec?: Schedule;
  /** Recorded pages for `plugboard contract` (empty: the spec's own example answers). */
  examples: StreamExampleSpec[];
}

/** What connector.ts lends: its issue reporter and compilers (same positions, same rules). */
export interface StreamCompiler {
  issue(segs: PathSegment[], message: string, rule: string, at?: { line: number; column?: number }): void;
  request(spec: RequestSpec, segs: PathSegment[]): CompiledRequest;
  expression(source: string, segs: PathSegment[]): CompiledExpression;
}

export function compileStreams(specs: Record<string, StreamSpec>, c: StreamCompiler): Map<string, CompiledStream> {
  const out = new Map<string, CompiledStream>();
  const known = [...models().keys()];
  for (const [name, s] of Object.entries(specs)) {
    const segs = ['streams', name];
    if (!known.includes(s.model)) c.issue([...segs, 'model'], `unknown model "${s.model}": no schemas/models/${s.model}.json (known: ${known.join(', ')})${didYouMean(s.model, known)}`, 'unknown_model');
    const request = c.request(s.request, [...segs, 'request']);
    const bodyPaged = !!s.pagination && 'in' in s.pagination && s.pagination.in === 'body';
    checkSyncRefs(c, request, [...segs, 'request'], bodyPaged ? BODY_PAGED_SYNC_FIELDS : SYNC_FIELDS);
    if (s.cursor?.param && s.cursor.header) c.issue([...segs, 'cursor'], 'a cursor is sent either "param" or "header", not both', 'cursor_param');
    const p: PaginationSpec = s.pagination ?? { type: 'none' };
    const pagination: CompiledPagination = { spec: p, maxPages: p.max_pages ?? DEFAULT_MAX_PAGES };
    if ((p.type === 'cursor' || p.type === 'next_url') && p.next) pagination.next = c.expression(p.next, [...segs, 'pagination', 'next']);
    let schedule: Schedule | undefined;
    if (s.schedule !== undefined) {
      const parsed = parseSchedule(s.schedule);
      if (typeof parsed === 'string') c.issue([...segs, 'schedule'], parsed, 'schedule');
      else schedule = parsed;
    }
    out.set(name, {
      name,
      description: s.description ?? '',
      model: s.model,
      request,
      records: c.expression(s.records, [...segs, 'records']),
      ...(s.mapping ? { mapping: c.expression(s.mapping, [...segs, 'mapping']) } : {}),
      primaryKey: s.primary_key ?? 'id',
      ...(s.cursor ? { cursor: s.cursor } : {}),
      pagination,
      ...(schedule ? { schedule: schedule.source, scheduleSpec: schedule } : {}),
      examples: s.examples ?? [],
    });
  }
  return out;
}

/** A capability's write-back into a stream's records (`record:`), checked against this manifest's streams. */
export interface CompiledWriteBack {
  stream: string;
  /** JSONata over { input, output } giving the record's fields (null: nothing to write). */
  mapping: CompiledExpression;
  /** Only over a record the stream already has. */
  updateOnly: boolean;
}

export function compileWriteBacks(capabilities: Record<string, CapabilitySpec>, streams: Map<string, CompiledStream>, c: StreamCompiler): Map<string, CompiledWriteBack> {
  const out = new Map<string, CompiledWriteBack>();
  for (const [name, spec] of Object.entries(capabilities)) {
    if (!spec.record) continue;
    const segs = ['capabilities', name, 'record'];
    const known = [...streams.keys()];
    if (!streams.has(spec.record.stream)) {
      c.issue([...segs, 'stream'], `record.stream "${spec.record.stream}" is no stream of this manifest (streams: ${known.join(', ') || 'none'})${didYouMean(spec.record.stream, known)}`, 'unknown_stream');
      continue;
    }
    out.set(name, { stream: spec.record.stream, mapping: c.expression(spec.record.mapping, [...segs, 'mapping']), updateOnly: spec.record.update_only === true });
  }
  return out;
}

/** sync.cursor (the last committed incremental cursor, or empty); sync.page with pagination `in: body`. */
function checkSyncRefs(c: StreamCompiler, req: CompiledRequest, segs: PathSegment[], fields: string[]): void {
  const templates = [['path', req.path], ...req.query.map(([k, t]) => [`query/${k}`, t] as const), ...req.headers.map(([k, t]) => [`headers/${k}`, t] as const), ...(req.bodyTemplate ? [['body', req.bodyTemplate] as const] : [])] as const;
  for (const [where, t] of templates) {
    for (const ref of t.refs) {
      if (ref.path[0] === 'sync' && !fields.includes(ref.path[1] ?? '')) {
        c.issue([...segs, ...where.split('/')], `template reads "${ref.path.join('.')}": a stream's sync.* offers only ${fields.map((f) => `sync.${f}`).join(', ')}`, 'sync_field', { line: ref.line - 1, column: ref.column });
      }
    }
  }
  for (const ref of req.bodyExpression?.refs ?? []) {
    if (ref.path[0] === 'sync' && !fields.includes(ref.path[1] ?? '')) c.issue([...segs, 'body'], `expression reads "${ref.path.join('.')}": a stream's sync.* offers only ${fields.map((f) => `sync.${f}`).join(', ')}`, 'sync_field');
  }
}

const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const CRON_FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** An interval ("15 minutes", "1 hour") or a 5-field cron expression; a string says what is wrong. */
export function parseSchedule(source: string): Schedule | string {
  const text = source.trim();
  const interval = /^(\d+)\s*(second|minute|hour|day)s?$/i.exec(text);
  if (interval) {
    const ms = Number(interval[1]) * UNITS[interval[2].toLowerCase()];
    return ms > 0 ? { kind: 'interval', ms, source: text } : `schedule "${text}" must be longer than zero`;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5 || !/^[\d*]/.test(text)) {
    return `schedule "${text}" is neither an interval ("N seconds|minutes|hours|days") nor a 5-field cron expression ("*/15 * * * *")`;
  }
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    const value = (v: string) => {
      const n = f.names?.indexOf(v.toLowerCase()) ?? -1;
      return n >= 0 ? n + (f.min === 1 ? 1 : 0) : /^\d+$/.test(v) ? Number(v) : NaN;
    };
    const ok = fields[i].split(',').every((item) => {
      const m = /^(\*|([^-/]+)(?:-([^-/]+))?)(?:\/(\d+))?$/.exec(item);
      if (!m) return false;
      if (m[4] !== undefined && Number(m[4]) < 1) return false;
      if (m[1] === '*') return true;
      const lo = value(m[2]);
      const hi = m[3] === undefined ? lo : value(m[3]);
      return lo >= f.min && hi <= f.max && lo <= hi;
    });
    if (!ok) return `schedule "${text}": cron ${f.name} field "${fields[i]}" is not valid (${f.min}-${f.max}${f.names ? `, ${f.names[0]}-${f.names[f.names.length - 1]}` : ''}, *, lists, ranges, /steps)`;
  }
  return { kind: 'cron', source: text };
}
