// A record's canonical JSON (keys sorted at every level) and its hash: stored once as it is hashed,
// so key order never makes an unchanged record look changed (a write-back merge appends keys in
// another order than the stream's mapping), and an unchanged hash is no update (no write, no event).
import { createHash } from 'node:crypto';

export function canonical(data: Record<string, unknown>): { json: string; hash: string } {
  const json = JSON.stringify(sortedTop(data));
  return { json, hash: createHash('sha256').update(json).digest('base64url') };
}

/** The last top-level key order seen and its sorted order: a stream's mapping gives every record the same keys in the same order, so a page sorts them once. */
let shape: { keys: string[]; sorted: string[] } = { keys: [], sorted: [] };

/** `sorted(data)` for an object, with the sort of its own keys reused while they come in the same order. */
function sortedTop(data: Record<string, unknown>): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return sorted(data);
  const keys = Object.keys(data);
  let same = keys.length === shape.keys.length;
  for (let i = 0; same && i < keys.length; i++) same = keys[i] === shape.keys[i];
  if (!same) shape = { keys, sorted: [...keys].sort() };
  const out: Record<string, unknown> = {};
  for (const k of shape.sorted) out[k] = sorted(data[k]);
  return out;
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sorted((v as Record<string, unknown>)[k]);
  return out;
}
