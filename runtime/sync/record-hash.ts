// A record's canonical JSON (keys sorted at every level) and its hash: stored once as it is hashed,
// so key order never makes an unchanged record look changed (a write-back merge appends keys in
// another order than the stream's mapping), and an unchanged hash is no update (no write, no event).
import { createHash } from 'node:crypto';

export function canonical(data: Record<string, unknown>): { json: string; hash: string } {
  const json = JSON.stringify(sorted(data));
  return { json, hash: createHash('sha256').update(json).digest('base64url') };
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sorted((v as Record<string, unknown>)[k]);
  return out;
}
