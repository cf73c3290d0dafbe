// Durations in configuration: `500ms`, `30s`, `2m`, `6h`, `1d`; bare numbers are milliseconds.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
import { PlugboardError } from '../errors/plugboard-error.ts';

/** DESIGN §5: immediately, 30 s, 2 min, 10 min, 30 min, 2 h, 6 h. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '0,30s,2m,10m,30m,2h,6h';

/** One duration in ms; throws with a message naming the bad text. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new PlugboardError('validation', `invalid duration "${text.trim()}" (use e.g. 0, 500ms, 30s, 2m, 6h)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** A comma-separated list of durations such as `0,30s,2m,10m,30m,2h,6h`. */
export function parseDurationList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) throw new PlugboardError('validation', 'a retry schedule needs at least one entry, e.g. "0,30s,2m"');
  return parts.map(parseDuration);
}
