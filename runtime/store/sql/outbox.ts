// The webhook outbox's rows, written by whichever repository's transaction produced the events (a
// published event, a sync page's record changes), so an event exists exactly when what it
// announces was committed.
import type { EventRow, OutboxItem, WebhookDeliveryRow } from '../types.ts';
import type { Compilable } from 'kysely';
import { marks, type Db, type SqlConnection } from './connection.ts';
import { json } from './rows.ts';

/** Rows per multi-row INSERT (well under SQLite's bound-parameter limit). */
const INSERT_CHUNK = 100;

export const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

// Every column of each outbox row, checked by the compiler (a Record of all its keys).
const EVENT_COLUMN_SET: Record<keyof EventRow, true> = { id: true, tenant_id: true, type: true, schema_version: true, occurred_at: true, data: true, source: true, created_at: true };
const DELIVERY_COLUMN_SET: Record<keyof WebhookDeliveryRow, true> = {
  id: true, tenant_id: true, event_id: true, event_type: true, subscription_id: true, body: true, status: true, attempts: true, next_attempt_at: true,
  locked_until: true, last_status_code: true, last_error: true, created_at: true, updated_at: true, delivered_at: true,
};
const EVENT_COLUMNS = Object.keys(EVENT_COLUMN_SET) as Array<keyof EventRow>;
const DELIVERY_COLUMNS = Object.keys(DELIVERY_COLUMN_SET) as Array<keyof WebhookDeliveryRow>;
const insertTexts = new Map<string, string>();

/** `INSERT INTO table (columns) VALUES (?, ...), ...` for `rows` rows (built once per shape; c.raw numbers the marks for PostgreSQL). */
export function insertText(table: string, columns: readonly string[], rows: number): string {
  const key = `${table}:${rows}`;
  let text = insertTexts.get(key);
  if (!text) {
    const row = `(${marks(columns.length)})`;
    text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
    if (insertTexts.size < 500) insertTexts.set(key, text);
  }
  return text;
}

/**
 * The INSERTs of events and their deliveries as constant SQL text per shape: a published event pays
 * no query-builder compile (it cost a fifth of a publish).
 */
function outboxStatements(items: OutboxItem[]): Array<{ text: string; params: unknown[] }> {
  const out: Array<{ text: string; params: unknown[] }> = [];
  const add = <R>(table: string, columns: Array<keyof R>, rows: R[], value: (r: R, col: keyof R) => unknown) => {
    for (const part of chunks(rows, INSERT_CHUNK)) out.push({ text: insertText(table, columns as string[], part.length), params: part.flatMap((r) => columns.map((col) => value(r, col))) });
  };
  add('events', EVENT_COLUMNS, items.map((i) => i.event), (r, col) => (col === 'data' ? json(r.data) : r[col]));
  add('webhook_deliveries', DELIVERY_COLUMNS, items.flatMap((i) => i.deliveries), (r, col) => r[col]);
  return out;
}

/** The outbox rows as statements for `writeAll` (a publish: one transaction of writes only). */
export function outboxInsertsCompiled(c: SqlConnection, items: OutboxItem[]): Compilable[] {
  return outboxStatements(items).map((st) => c.statement(st.text, st.params));
}

/** Writes the outbox rows inside the caller's transaction (a sync page's record events). */
export async function writeOutbox(c: SqlConnection, trx: Db, items: OutboxItem[]): Promise<void> {
  for (const st of outboxStatements(items)) await c.raw(trx, st.text, st.params);
}
