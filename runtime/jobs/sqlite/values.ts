// The jobs table of the SQLite Agenda backend: its columns and row type, and the conversions between
// Agenda's job values (Dates, JSON data, booleans) and what SQLite stores (epoch ms, JSON text, 0/1).
import type Database from 'better-sqlite3';
import { toJobId } from 'agenda';
import type { JobParameters, SortDirection } from 'agenda';

export type Db = Database.Database;
export type SqlValue = string | number | bigint | Buffer | null;

/** A row of the jobs table as better-sqlite3 returns it. */
export interface JobRow {
  id: string;
  name: string;
  priority: number;
  next_run_at: number | null;
  type: 'normal' | 'single';
  locked_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  repeat_timezone: string | null;
  last_run_at: number | null;
  repeat_interval: string | number | null;
  data: string | null;
  repeat_at: string | null;
  disabled: number;
  progress: number | null;
  fork: number;
  last_modified_by: string | null;
  debounce_started_at: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
  created_at: number;
  updated_at: number;
}

export const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const JSON_CONTAINS_FN = 'agenda_json_contains';

/** Columns, in order, with their declared SQLite types (a column without a type keeps whatever type is bound). */
export const JOB_COLUMNS: Array<[string, string]> = [
  ['id', 'TEXT PRIMARY KEY'],
  ['name', 'TEXT NOT NULL'],
  ['priority', 'INTEGER NOT NULL DEFAULT 0'],
  ['next_run_at', 'INTEGER'],
  ['type', "TEXT NOT NULL DEFAULT 'normal' CHECK (type IN ('normal', 'single'))"],
  ['locked_at', 'INTEGER'],
  ['last_finished_at', 'INTEGER'],
  ['failed_at', 'INTEGER'],
  ['fail_count', 'INTEGER'],
  ['fail_reason', 'TEXT'],
  ['repeat_timezone', 'TEXT'],
  ['last_run_at', 'INTEGER'],
  ['repeat_interval', ''], // string (cron / human interval) or number (ms): keep the bound type
  ['data', 'TEXT'], // JSON text; NULL means undefined
  ['repeat_at', 'TEXT'],
  ['disabled', 'INTEGER NOT NULL DEFAULT 0'],
  ['progress', 'REAL'],
  ['fork', 'INTEGER NOT NULL DEFAULT 0'],
  ['last_modified_by', 'TEXT'],
  ['debounce_started_at', 'INTEGER'],
  ['start_date', 'INTEGER'],
  ['end_date', 'INTEGER'],
  ['skip_days', 'TEXT'], // JSON array
  ['created_at', 'INTEGER NOT NULL DEFAULT 0'],
  ['updated_at', 'INTEGER NOT NULL DEFAULT 0'],
];
export const COLUMN_NAMES = new Set(JOB_COLUMNS.map(([c]) => c));
const DATE_COLUMNS = new Set([
  'next_run_at', 'locked_at', 'last_finished_at', 'failed_at', 'last_run_at',
  'debounce_started_at', 'start_date', 'end_date', 'created_at', 'updated_at',
]);
const BOOLEAN_COLUMNS = new Set(['disabled', 'fork']);

// ---------------------------------------------------------------------------------------------
// value conversion

export function toMs(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function toDate(ms: number | null): Date | null {
  return ms === null || ms === undefined ? null : new Date(ms);
}

export function toJsonText(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value) ?? null;
}

export function fromJsonText(text: string | null): unknown {
  if (text === null || text === undefined) return undefined;
  return JSON.parse(text);
}

export function bool(v: unknown): number {
  return v ? 1 : 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** PostgreSQL `jsonb @>` containment: objects contain sub-objects, arrays contain each wanted element somewhere, scalars are equal. */
export function jsonContains(have: unknown, want: unknown): boolean {
  if (isPlainObject(want)) {
    if (!isPlainObject(have)) return false;
    return Object.keys(want).every((k) => Object.prototype.hasOwnProperty.call(have, k) && jsonContains(have[k], want[k]));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return false;
    return want.every((w) => have.some((h) => jsonContains(h, w)));
  }
  return have === want;
}

/** 'a.b' → the SQLite JSON path '$."a"."b"'. */
export function jsonPath(dotted: string): string {
  const parts = dotted.split('.');
  for (const p of parts) {
    if (p === '' || p.includes('"')) throw new Error(`Invalid unique constraint field: "data.${dotted}"`);
  }
  return '$' + parts.map((p) => `."${p}"`).join('');
}

/** A value for a direct-column comparison in a unique constraint. */
export function columnValue(column: string, value: unknown): SqlValue {
  if (DATE_COLUMNS.has(column)) return toMs(value);
  if (BOOLEAN_COLUMNS.has(column)) return bool(value);
  if (column === 'data' || column === 'skip_days') return toJsonText(value);
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return value;
  if (value instanceof Date) return value.getTime();
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// connection

export function rowToJob(row: JobRow): JobParameters {
  return {
    _id: toJobId(row.id),
    name: row.name,
    priority: row.priority,
    nextRunAt: toDate(row.next_run_at),
    type: row.type,
    lockedAt: toDate(row.locked_at) ?? undefined,
    lastFinishedAt: toDate(row.last_finished_at) ?? undefined,
    failedAt: toDate(row.failed_at) ?? undefined,
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    repeatTimezone: row.repeat_timezone ?? undefined,
    lastRunAt: toDate(row.last_run_at) ?? undefined,
    repeatInterval: row.repeat_interval ?? undefined,
    data: fromJsonText(row.data),
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === 1,
    progress: row.progress ?? undefined,
    fork: row.fork === 1,
    lastModifiedBy: row.last_modified_by ?? undefined,
    debounceStartedAt: toDate(row.debounce_started_at) ?? undefined,
    startDate: toDate(row.start_date) ?? undefined,
    endDate: toDate(row.end_date) ?? undefined,
    skipDays: (fromJsonText(row.skip_days) as number[] | undefined) ?? undefined,
  };
}

/** An Agenda sort direction as SQL. */
export function sqlDir(d: SortDirection | undefined, fallback: 'ASC' | 'DESC'): 'ASC' | 'DESC' {
  if (d === undefined) return fallback;
  return d === 'asc' ? 'ASC' : 'DESC';
}
