import { describe, it, expect } from 'vitest';
import { PlugboardError } from '../../runtime/errors/plugboard-error.ts';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  nextAttemptDelay,
  nextAttemptAt,
  classifyResponse,
  shouldDisableAfterContinuousFailure,
  truncateExcerpt,
} from '../../runtime/webhooks/retry-schedule.ts';
import { parseDurationList } from '../../runtime/config/durations.ts';

describe('retry schedule', () => {
  it('is immediately, 30 s, 2 min, 10 min, 30 min, 2 h, 6 h by default', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([0, 30_000, 120_000, 600_000, 1_800_000, 7_200_000, 21_600_000]);
    const mid = () => 0.5; // no jitter at the midpoint
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nextAttemptDelay(n, DEFAULT_RETRY_SCHEDULE_MS, mid))).toEqual([...DEFAULT_RETRY_SCHEDULE_MS]);
    expect(nextAttemptDelay(8)).toBeUndefined();
    expect(() => nextAttemptDelay(0)).toThrow(PlugboardError);
  });

  it('adds ±10 % jitter, never to the immediate first attempt', () => {
    expect(nextAttemptDelay(1, DEFAULT_RETRY_SCHEDULE_MS, () => 0.99)).toBe(0);
    expect(nextAttemptDelay(2, DEFAULT_RETRY_SCHEDULE_MS, () => 0)).toBe(27_000);
    expect(nextAttemptDelay(2, DEFAULT_RETRY_SCHEDULE_MS, () => 0.999999)).toBe(33_000);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = nextAttemptDelay(7)!;
      expect(d).toBeGreaterThanOrEqual(21_600_000 * 0.9);
      expect(d).toBeLessThanOrEqual(21_600_000 * 1.1);
      seen.add(d);
    }
    expect(seen.size).toBeGreaterThan(100);
    expect(nextAttemptDelay(2, DEFAULT_RETRY_SCHEDULE_MS, () => 0, 0)).toBe(30_000);
  });

  it('accepts a configured schedule', () => {
    const schedule = parseDurationList('0, 500ms, 1s, 2m, 1.5h');
    expect(schedule).toEqual([0, 500, 1000, 120_000, 5_400_000]);
    expect(nextAttemptDelay(3, schedule, () => 0.5)).toBe(1000);
    expect(nextAttemptDelay(6, schedule)).toBeUndefined();
    expect(parseDurationList('0,30s,2m,10m,30m,2h,6h')).toEqual([...DEFAULT_RETRY_SCHEDULE_MS]);
    expect(() => parseDurationList('0,soon')).toThrow(/"soon"/);
    expect(() => parseDurationList(' , ')).toThrow(/at least one/);
  });

  it('computes the due time of the next attempt', () => {
    const from = new Date('2025-03-14T00:00:00Z');
    expect(nextAttemptAt(0, from)?.toISOString()).toBe('2025-03-14T00:00:00.000Z');
    expect(nextAttemptAt(1, from, { random: () => 0.5 })?.toISOString()).toBe('2025-03-14T00:00:30.000Z');
    expect(nextAttemptAt(7, from)).toBeUndefined();
  });

  it('classifies answers: 2xx delivered, 410 disables, everything else retries', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(classifyResponse(s)).toBe('delivered');
    expect(classifyResponse(410)).toBe('disable');
    for (const s of [100, 301, 302, 400, 401, 404, 408, 429, 500, 502, 503]) expect(classifyResponse(s)).toBe('retry');
    expect(classifyResponse(null)).toBe('retry');
    expect(classifyResponse(undefined)).toBe('retry');
  });

  it('disables after 24 h of continuous failure', () => {
    const now = new Date('2025-03-15T10:00:00Z');
    expect(shouldDisableAfterContinuousFailure('2025-03-14T10:00:00Z', now)).toBe(true);
    expect(shouldDisableAfterContinuousFailure('2025-03-14T10:00:01Z', now)).toBe(false);
    expect(shouldDisableAfterContinuousFailure(null, now)).toBe(false);
  });

  it('truncates response excerpts on a UTF-8 boundary', () => {
    expect(truncateExcerpt('ok')).toBe('ok');
    expect(truncateExcerpt(null)).toBe('');
    expect(truncateExcerpt('a'.repeat(2000))).toBe('a'.repeat(1024) + '…');
    // 'é' is 2 bytes, '€' 3, '😀' 4: a cut in the middle of any of them backs off to the boundary.
    for (const ch of ['é', '€', '😀']) {
      for (let pad = 0; pad < 4; pad++) {
        const text = 'x'.repeat(pad) + ch.repeat(600);
        const out = truncateExcerpt(Buffer.from(text), 1024);
        expect(out.endsWith('…')).toBe(true);
        const kept = out.slice(0, -1);
        expect(kept).not.toContain('\ufffd');
        expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(1024);
        expect(Buffer.byteLength(kept)).toBeGreaterThan(1024 - Buffer.byteLength(ch));
        expect(text.startsWith(kept)).toBe(true);
      }
    }
    expect(truncateExcerpt('€€', 4)).toBe('€…');
  });
});
