// The webhook outbox's rows, written by whichever repository's transaction produced the events (a
// published event, a sync page's record changes), so an event exists exactly when what it
// announces was committed.
import { CompiledQuery } from 'kysely';
import type { EventRow, OutboxItem, WebhookDeliveryRow } from '../types.ts';
import type { Db } from './connection.ts';
import { json } from './rows.ts';

/** Rows per multi-row INSERT (well under SQLite's bound-parameter limit). */
const INSERT_CHUNK = 100;

export const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The INSERTs of events and their deliveries, built on `on` (the database, or a transaction). */
export function outboxInserts(on: Db, items: OutboxItem[]) {
  const events = items.map(({ event }) => ({ ...event, data: json(event.data) }));
  const deliveries = items.flatMap((i) => i.deliveries);
  return [
    ...chunks(events, INSERT_CHUNK).map((part) => on.insertInto('events').values(part)),
    ...chunks(deliveries, INSERT_CHUNK).map((part) => on.insertInto('webhook_deliveries').values(part)),
  ];
}

/** Writes the outbox rows inside the caller's transaction. */
export async function writeOutbox(trx: Db, items: OutboxItem[]): Promise<void> {
  for (const q of outboxInserts(trx, items)) await q.execute();
}

// Every column of each outbox row, checked by the compiler (a Record of all its keys).
const EVENT_COLUMN_SET: Record<keyof EventRow, true> = { id: true, tenant_id: true, type: true, schema_version: true, occurred_at: true, data: true, source: true, created_at: true };
const DELIVERY_COLUMN_SET: Record<keyof WebhookDeliveryRow, true> = {
  id: true, tenant_id: true, event_id: true, event_type: true, subscription_id: true, body: true, status: true, attempts: true, next_attempt_at: true,
  locked_until: true, last_status_code: true, last_error: true, created_at: true, updated_at: true, delivered_at: true,
};
const EVENT_COLUMNS = Object.keys(EVENT_COLUMN_SET) as Array<keyof EventRow>;
const DELIVERY_COLUMNS = Object.keys(DELIVERY_COLUMN_SET) as Array<keyof WebhookDeliveryRow>;
const insertTexts = new Map<string, string>();

/** `INSERT INTO table (columns) VALUES (...), ...` for `rows` rows, in the dialect's placeholders (built once per shape). */
export function insertText(table: string, columns: readonly string[], rows: number, postgres: boolean): string {
  const key = `${table}:${rows}:${postgres ? 1 : 0}`;
  let text = insertTexts.get(key);
  if (!text) {
    let n = 0;
    const row = () => `(${columns.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`;
    text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, row).join(', ')}`;
    if (insertTexts.size < 500) insertTexts.set(key, text);
  }
  return text;
}

/**
 * The same INSERTs as outboxInserts, as constant SQL text per shape: a published event pays no
 * query-builder compile (it cost a fifth of a publish).
 */
export function outboxInsertsCompiled(items: OutboxItem[], postgres: boolean): Array<{ compile(): CompiledQuery }> {
  const out: Array<{ compile(): CompiledQuery }> = [];
  const add = <R>(table: string, columns: Array<keyof R>, rows: R[], value: (r: R, col: keyof R) => unknown) => {
    for (const part of chunks(rows, INSERT_CHUNK)) {
      const query = CompiledQuery.raw(insertText(table, columns as string[], part.length, postgres), part.flatMap((r) => columns.map((col) => value(r, col))));
      out.push({ compile: () => query });
    }
  };
  add('events', EVENT_COLUMNS, items.map((i) => i.event), (r, col) => (col === 'data' ? json(r.data) : r[col]));
  add('webhook_deliveries', DELIVERY_COLUMNS, items.flatMap((i) => i.deliveries), (r, col) => r[col]);
  return out;
}
