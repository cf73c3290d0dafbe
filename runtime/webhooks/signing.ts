// Outbound signing per the Standard Webhooks spec (https://www.standardwebhooks.com):
//   webhook-id: <message id>   webhook-timestamp: <unix seconds>
//   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [space-separated, one per secret]
// Secrets are `whsec_` + base64 of the key bytes. During rotation the old and the new secret both sign.
import { createHmac, randomBytes } from 'node:crypto';
import { PlugboardError } from '../errors/plugboard-error.ts';

export const SECRET_PREFIX = 'whsec_';
/** Bytes of key material in a generated secret (the spec allows 24 to 64). */
export const SECRET_BYTES = 32;
/** How long the previous secret keeps signing after a rotation (DESIGN §5). */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The delivered body (DESIGN §5). */
export interface EventEnvelope<T = Record<string, unknown>> {
  type: string;
  /** The event id; receivers may also deduplicate on the `webhook-id` header. */
  id: string;
  schema_version: number;
  occurred_at: string;
  tenant_id: string;
  data: T;
}

export function generateSecret(bytes = SECRET_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < 24 || bytes > 64) throw new PlugboardError('internal', 'a webhook secret needs 24 to 64 random bytes');
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** The HMAC key of a `whsec_<base64>` secret (a bare base64 string is accepted too). */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new PlugboardError('internal', 'a webhook secret must be whsec_ followed by base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new PlugboardError('internal', 'a webhook secret must not be empty');
  return key;
}

export function isValidSecret(secret: unknown): secret is string {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) return false;
  try {
    return secretKey(secret).length >= 24;
  } catch {
    return false;
  }
}

function assertHeaderSafe(id: string): void {
  // The id is part of the signed content and a header value: no separators, no control characters.
  if (!id || !/^[\x21-\x7e]+$/.test(id)) throw new PlugboardError('internal', 'webhook-id must be non-empty printable ASCII without spaces');
}

function toTimestamp(timestampSeconds: number): number {
  if (!Number.isFinite(timestampSeconds) || timestampSeconds < 0) throw new PlugboardError('internal', 'webhook-timestamp must be a non-negative number of seconds');
  return Math.floor(timestampSeconds);
}

/** One `v1,<signature>` per secret, separated by spaces (duplicates removed, order kept). */
export function sign(id: string, timestampSeconds: number, body: string | Buffer, secrets: readonly string[]): string {
  assertHeaderSafe(id);
  if (!secrets.length) throw new PlugboardError('internal', 'at least one secret is needed to sign a webhook');
  const ts = toTimestamp(timestampSeconds);
  const prefix = `${id}.${ts}.`;
  const signatures = secrets.map((s) => `v1,${createHmac('sha256', secretKey(s)).update(prefix, 'utf8').update(body as string, 'utf8').digest('base64')}`);
  return [...new Set(signatures)].join(' ');
}

export function buildHeaders(id: string, timestampSeconds: number, body: string | Buffer, secrets: readonly string[]): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(toTimestamp(timestampSeconds)),
    'webhook-signature': sign(id, timestampSeconds, body, secrets),
  };
}

/**
 * The secrets that sign right now: the current one, plus the previous one while its overlap lasts
 * (`previous_expires_at` = rotation time + ROTATION_OVERLAP_MS).
 */
export function signingSecrets(
  current: string,
  previous?: { secret: string | null | undefined; expires_at: string | Date | null | undefined } | null,
  now: Date = new Date(),
): string[] {
  const out = [current];
  if (previous?.secret && previous.expires_at && new Date(previous.expires_at).getTime() > now.getTime()) out.push(previous.secret);
  return out;
}

export interface EnvelopeInput<T> {
  type: string;
  id: string;
  schema_version: number;
  occurred_at: string | Date;
  tenant_id: string;
  data: T;
}

/** The body of a delivery, with keys in the documented order. */
export function createEnvelope<T>(input: EnvelopeInput<T>): EventEnvelope<T> {
  if (!Number.isInteger(input.schema_version) || input.schema_version < 1) throw new PlugboardError('internal', 'schema_version must be a positive integer');
  const occurred = input.occurred_at instanceof Date ? input.occurred_at : new Date(input.occurred_at);
  if (Number.isNaN(occurred.getTime())) throw new PlugboardError('internal', 'occurred_at must be a date');
  return {
    type: input.type,
    id: input.id,
    schema_version: input.schema_version,
    occurred_at: occurred.toISOString(),
    tenant_id: input.tenant_id,
    data: input.data,
  };
}

/** The exact bytes that are signed and sent; store them so retries and replays send the same body. */
export function serializeEnvelope(envelope: EventEnvelope<unknown>): string {
  return JSON.stringify(envelope);
}

/** Everything one attempt needs: the body once serialized, and headers signed for this attempt's time. */
export function signDelivery(
  opts: { id: string; body: string; secrets: readonly string[]; now?: Date },
): { body: string; headers: WebhookHeaders & { 'content-type': string } } {
  const ts = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return { body: opts.body, headers: { 'content-type': 'application/json', ...buildHeaders(opts.id, ts, opts.body, opts.secrets) } };
}
