// When to attempt a delivery again, and what a receiver's answer means (DESIGN §5).
// Attempt 1 runs immediately, then 30 s, 2 min, 10 min, 30 min, 2 h and 6 h after the previous
// attempt; after the last one the delivery is `failed` (dead letter, replayable).
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE, parseDurationList } from '../config/durations.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

/** Delay before each attempt, in ms; index 0 is the first attempt. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze(parseDurationList(DEFAULT_WEBHOOK_RETRY_SCHEDULE));

/** Jitter spreads retries of many deliveries that failed together: each delay is scaled by 1 ± ratio. */
export const DEFAULT_JITTER_RATIO = 0.1;

/** A subscription whose deliveries have failed without a success for this long is disabled. */
export const CONTINUOUS_FAILURE_DISABLE_MS = 24 * 60 * 60 * 1000;

export interface RetryOptions {
  schedule?: readonly number[];
  jitterRatio?: number;
  /** Returns a number in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * Delay in ms before attempt `attemptNumber` (1-based: 1 = the first attempt), with jitter, or
 * undefined when the schedule is exhausted (the delivery becomes `failed`). A zero delay stays zero.
 */
export function nextAttemptDelay(
  attemptNumber: number,
  schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS,
  random: () => number = Math.random,
  jitterRatio = DEFAULT_JITTER_RATIO,
): number | undefined {
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) throw new PlugboardError('internal', 'attemptNumber is 1-based');
  const base = schedule[attemptNumber - 1];
  if (base === undefined) return undefined;
  if (base <= 0 || jitterRatio <= 0) return Math.max(0, base);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.round(base * (1 + jitterRatio * (2 * r - 1))));
}

/** When the attempt after `attemptsMade` failed attempts is due, or undefined when none is left. */
export function nextAttemptAt(attemptsMade: number, from: Date, opts: RetryOptions = {}): Date | undefined {
  const delay = nextAttemptDelay(attemptsMade + 1, opts.schedule ?? DEFAULT_RETRY_SCHEDULE_MS, opts.random ?? Math.random, opts.jitterRatio ?? DEFAULT_JITTER_RATIO);
  return delay === undefined ? undefined : new Date(from.getTime() + delay);
}

export type DeliveryOutcome = 'delivered' | 'disable' | 'retry';

/**
 * What a receiver's answer means: any 2xx = delivered; 410 Gone = stop and disable the
 * subscription; anything else (other statuses, redirects, timeouts, network errors) = retry.
 */
export function classifyResponse(status: number | null | undefined): DeliveryOutcome {
  if (status !== null && status !== undefined && status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'disable';
  return 'retry';
}

/** True when a subscription has failed without a single success for the whole window. */
export function shouldDisableAfterContinuousFailure(
  failingSince: Date | string | null | undefined,
  now: Date = new Date(),
  windowMs = CONTINUOUS_FAILURE_DISABLE_MS,
): boolean {
  if (!failingSince) return false;
  return now.getTime() - new Date(failingSince).getTime() >= windowMs;
}

export const DEFAULT_EXCERPT_BYTES = 1024;

/**
 * The first `maxBytes` bytes of a response as text, cut on a UTF-8 character boundary (never a
 * broken character), with `…` appended when something was cut.
 */
export function truncateExcerpt(body: Buffer | string | null | undefined, maxBytes = DEFAULT_EXCERPT_BYTES): string {
  if (body === null || body === undefined) return '';
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  // NUL never reaches the store (PostgreSQL text refuses it, failing the write of the attempt).
  if (buf.length <= maxBytes) return buf.toString('utf8').replace(/\0/g, '');
  let end = Math.max(0, maxBytes);
  // Step back over continuation bytes (10xxxxxx) so a multi-byte character is never split.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8').replace(/\0/g, '') + '…';
}
