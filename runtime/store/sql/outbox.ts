// The webhook outbox's rows, written by whichever repository's transaction produced the events (a
// published event, a sync page's record changes), so an event exists exactly when what it
// announces was committed.
import type { OutboxItem } from '../types.ts';
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
