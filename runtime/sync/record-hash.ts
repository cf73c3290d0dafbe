// The hash a record is stored with: an unchanged hash is no update (no write, no event).
import { createHash } from 'node:crypto';

/** Stable across key order, so an unchanged record is recognised as unchanged. */
export function hashOf(data: Record<string, unknown>): string {
  return createHash('sha256').update(stableJson(data)).digest('base64url');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
