// Verification of inbound provider webhooks, per the manifest's `webhooks.signature.scheme`.
// Every check runs over the raw request bytes (never a re-serialized body) and every signature
// comparison is constant-time (crypto.timingSafeEqual). A result never contains secret values.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SIGNATURE_SCHEMES = ['stripe', 'twilio', 'hmac_sha256', 'slack', 'standard_webhooks', 'none'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const DEFAULT_TOLERANCE_SECONDS = 300;

export type RejectCode =
  | 'unsupported_scheme'
  | 'missing_secret'
  | 'missing_url'
  | 'missing_signature'
  | 'malformed_signature'
  | 'timestamp_out_of_tolerance'
  | 'body_hash_mismatch'
  | 'signature_mismatch';

export type VerifyResult = { ok: true; /** Signed timestamp (unix seconds), for schemes that have one. */ timestamp?: number } | { ok: false; code: RejectCode; reason: string };

export interface VerifyOptions {
  /** hmac_sha256: header carrying the signature (default `x-signature`), e.g. `x-hub-signature-256`. */
  header?: string;
  /** hmac_sha256: text before the digest in the header, e.g. `sha256=` (GitHub). Default none. */
  prefix?: string;
  /** hmac_sha256: digest encoding, `hex` (GitHub, HubSpot) or `base64` (Shopify). Default hex. */
  encoding?: 'hex' | 'base64';
  /**
   * hmac_sha256: `hmac` (default) = HMAC-SHA256(secret, body); `sha256_secret_body` = SHA-256(secret + body),
   * the construction of HubSpot's v1 `X-HubSpot-Signature`.
   */
  digest?: 'hmac' | 'sha256_secret_body';
  /** stripe, slack, standard_webhooks: accepted clock skew in seconds (default 300). */
  tolerance_seconds?: number;
  /** Clock in milliseconds (tests). Default Date.now. */
  now?: () => number;
}

export interface VerifyInput {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** The full public URL the provider called, query string included (needed by `twilio`). */
  url?: string;
  /** The signing secret; several during a rotation at the provider (any one may match). */
  secret?: string | readonly string[];
  options?: VerifyOptions;
}

function reject(code: RejectCode, reason: string): VerifyResult {
  return { ok: false, code, reason };
}

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** Constant-time string equality; unequal lengths still cost one comparison. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    timingSafeEqual(bb, bb);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

function secretsOf(input: VerifyInput): string[] {
  const s = input.secret;
  const list = typeof s === 'string' ? [s] : s ? [...s] : [];
  return list.filter((x) => typeof x === 'string' && x.length > 0);
}

function hmac(alg: 'sha256' | 'sha1', key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const h = createHmac(alg, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

function checkTolerance(timestamp: number, opts: VerifyOptions): VerifyResult | undefined {
  const tolerance = opts.tolerance_seconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = Math.floor((opts.now ?? Date.now)() / 1000);
  if (Math.abs(now - timestamp) > tolerance) {
    return reject('timestamp_out_of_tolerance', `the signed timestamp is ${now - timestamp} s from now (tolerance ${tolerance} s)`);
  }
  return undefined;
}

// ---- stripe -------------------------------------------------------------------------------
// Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=...][,v0=...]

function verifyStripe(input: VerifyInput, secrets: string[], opts: VerifyOptions): VerifyResult {
  const value = header(input.headers, 'stripe-signature');
  if (!value) return reject('missing_signature', 'the Stripe-Signature header is missing');
  let t: number | undefined;
  const v1: string[] = [];
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const k = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (k === 't') t = /^\d+$/.test(v) ? Number(v) : NaN;
    else if (k === 'v1') v1.push(v.toLowerCase());
  }
  if (t === undefined || !Number.isSafeInteger(t)) return reject('malformed_signature', 'the Stripe-Signature header has no valid t= timestamp');
  if (!v1.length) return reject('missing_signature', 'the Stripe-Signature header has no v1 signature');
  const matched = secrets.some((secret) => {
    const expected = hmac('sha256', secret, `${t}.`, input.rawBody).toString('hex');
    // Evaluate every candidate so timing does not reveal which one matched.
    return v1.map((sig) => safeEqual(sig, expected)).includes(true);
  });
  if (!matched) return reject('signature_mismatch', 'no v1 signature in Stripe-Signature matches the body and secret');
  return checkTolerance(t, opts) ?? { ok: true, timestamp: t };
}

// ---- twilio -------------------------------------------------------------------------------
// X-Twilio-Signature: base64 HMAC-SHA1(auth token, URL + every form param as key+value, keys sorted).
// JSON bodies: the URL carries ?bodySHA256=<hex SHA-256 of the body> and no params are appended.

const URL_PREFIX = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

function urlVariants(url: string): string[] {
  const m = URL_PREFIX.exec(url);
  if (!m) return [url];
  const [prefix, scheme, authority] = m;
  const rest = url.slice(prefix.length);
  const at = authority.lastIndexOf('@');
  const userInfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1);
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  // Twilio may sign the URL with or without the port; accept both, as its own helper does.
  return [...new Set([url, scheme + userInfo + host + rest, scheme + userInfo + host + (colon < 0 ? defaultPort : hostPort.slice(colon)) + rest])];
}

function twilioFormData(rawBody: Buffer): string {
  const params = new URLSearchParams(rawBody.toString('utf8'));
  const byKey = new Map<string, string[]>();
  for (const [k, v] of params) (byKey.get(k) ?? byKey.set(k, []).get(k)!).push(v);
  let out = '';
  for (const key of [...byKey.keys()].sort()) {
    const values = byKey.get(key)!;
    const list = values.length > 1 ? [...new Set(values)].sort() : values;
    for (const v of list) out += key + v;
  }
  return out;
}

function verifyTwilio(input: VerifyInput, secrets: string[]): VerifyResult {
  const signature = header(input.headers, 'x-twilio-signature');
  if (!signature) return reject('missing_signature', 'the X-Twilio-Signature header is missing');
  if (!input.url) return reject('missing_url', 'the twilio scheme needs the full URL the request was sent to');
  let bodyHash: string | null;
  try {
    bodyHash = new URL(input.url).searchParams.get('bodySHA256');
  } catch {
    return reject('missing_url', 'the request URL is not an absolute URL');
  }
  const contentType = (header(input.headers, 'content-type') ?? '').toLowerCase();
  if (bodyHash === null && contentType.includes('json')) {
    return reject('malformed_signature', 'a JSON body from Twilio must come with a bodySHA256 query parameter');
  }
  const suffix = bodyHash === null ? twilioFormData(input.rawBody) : '';
  const variants = urlVariants(input.url);
  const matched = secrets.some((token) =>
    variants.map((u) => safeEqual(signature, hmac('sha1', token, Buffer.from(u + suffix, 'utf8')).toString('base64'))).includes(true),
  );
  if (!matched) return reject('signature_mismatch', 'X-Twilio-Signature does not match the URL, parameters and auth token');
  if (bodyHash !== null && !safeEqual(bodyHash.toLowerCase(), createHash('sha256').update(input.rawBody).digest('hex'))) {
    return reject('body_hash_mismatch', 'the body does not match the signed bodySHA256 query parameter');
  }
  return { ok: true };
}

// ---- hmac_sha256 (GitHub, Shopify, HubSpot v1, many others) -------------------------------

function verifyHmacSha256(input: VerifyInput, secrets: string[], opts: VerifyOptions): VerifyResult {
  const name = opts.header ?? 'x-signature';
  const prefix = opts.prefix ?? '';
  const encoding = opts.encoding ?? 'hex';
  const value = header(input.headers, name)?.trim();
  if (!value) return reject('missing_signature', `the ${name} header is missing`);
  if (prefix && !value.toLowerCase().startsWith(prefix.toLowerCase())) return reject('malformed_signature', `the ${name} header does not start with "${prefix}"`);
  let given = value.slice(prefix.length).trim();
  if (encoding === 'hex') given = given.toLowerCase();
  const matched = secrets.some((secret) => {
    const digest = opts.digest === 'sha256_secret_body'
      ? createHash('sha256').update(secret, 'utf8').update(input.rawBody).digest()
      : hmac('sha256', secret, input.rawBody);
    return safeEqual(given, digest.toString(encoding));
  });
  return matched ? { ok: true } : reject('signature_mismatch', `the ${name} header does not match the body and secret`);
}

// ---- slack --------------------------------------------------------------------------------
// X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:<X-Slack-Request-Timestamp>:<body>")>

function verifySlack(input: VerifyInput, secrets: string[], opts: VerifyOptions): VerifyResult {
  const signature = header(input.headers, 'x-slack-signature');
  const ts = header(input.headers, 'x-slack-request-timestamp');
  if (!signature) return reject('missing_signature', 'the X-Slack-Signature header is missing');
  if (!ts || !/^\d+$/.test(ts)) return reject('malformed_signature', 'the X-Slack-Request-Timestamp header is missing or not a number');
  if (!signature.startsWith('v0=')) return reject('malformed_signature', 'X-Slack-Signature must start with v0=');
  const given = signature.toLowerCase();
  const matched = secrets.some((secret) => safeEqual(given, `v0=${hmac('sha256', secret, `v0:${ts}:`, input.rawBody).toString('hex')}`));
  if (!matched) return reject('signature_mismatch', 'X-Slack-Signature does not match the body and signing secret');
  const t = Number(ts);
  return checkTolerance(t, opts) ?? { ok: true, timestamp: t };
}

// ---- standard_webhooks --------------------------------------------------------------------
// Verified by the reference `standardwebhooks` package (its comparison is constant-time too).
// `svix-*` headers (same scheme, older names) are accepted as well.

function verifyStandardWebhooks(input: VerifyInput, secrets: string[], opts: VerifyOptions): VerifyResult {
  const pick = (n: string) => header(input.headers, `webhook-${n}`) ?? header(input.headers, `svix-${n}`);
  const id = pick('id');
  const ts = pick('timestamp');
  const signature = pick('signature');
  if (!id || !signature) return reject('missing_signature', 'the webhook-id and webhook-signature headers are required');
  if (!ts || !/^\d+$/.test(ts)) return reject('malformed_signature', 'the webhook-timestamp header is missing or not a number');
  // Our window check first (configurable tolerance, injectable clock); the package then applies its
  // own fixed ±5 minutes against the system clock.
  const t = Number(ts);
  const stale = checkTolerance(t, opts);
  if (stale) return stale;
  const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': signature };
  let lastError = 'no signature matches';
  for (const secret of secrets) {
    let wh: Webhook;
    try {
      wh = new Webhook(secret);
    } catch (err) {
      lastError = `the configured secret is not a valid whsec_ secret (${(err as Error).message})`;
      continue;
    }
    try {
      wh.verify(input.rawBody.toString('utf8'), headers, { jsonParse: false });
      return { ok: true, timestamp: t };
    } catch (err) {
      lastError = (err as Error).message;
    }
  }
  if (/timestamp/i.test(lastError)) return reject('timestamp_out_of_tolerance', lastError);
  return reject('signature_mismatch', `webhook-signature does not match: ${lastError}`);
}

// ---- entry point --------------------------------------------------------------------------

export function isSignatureScheme(s: unknown): s is SignatureScheme {
  return typeof s === 'string' && (SIGNATURE_SCHEMES as readonly string[]).includes(s);
}

/** Verifies one inbound request. Never throws for bad input; returns a reason to store instead. */
export function verify(scheme: string, input: VerifyInput): VerifyResult {
  if (!isSignatureScheme(scheme)) return reject('unsupported_scheme', `unknown signature scheme "${scheme}"`);
  if (scheme === 'none') return { ok: true };
  const secrets = secretsOf(input);
  if (!secrets.length) return reject('missing_secret', `no signing secret is configured for the ${scheme} scheme`);
  const opts = input.options ?? {};
  const body = Buffer.isBuffer(input.rawBody) ? input.rawBody : Buffer.from(input.rawBody ?? '');
  const req = { ...input, rawBody: body };
  switch (scheme) {
    case 'stripe':
      return verifyStripe(req, secrets, opts);
    case 'twilio':
      return verifyTwilio(req, secrets);
    case 'hmac_sha256':
      return verifyHmacSha256(req, secrets, opts);
    case 'slack':
      return verifySlack(req, secrets, opts);
    case 'standard_webhooks':
      return verifyStandardWebhooks(req, secrets, opts);
  }
}
