import { createHash, createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import Stripe from 'stripe';
import twilio from 'twilio';
import { Webhook } from 'standardwebhooks';
import { verify, safeEqual, type VerifyResult } from '../../runtime/webhooks/inbound-signatures.ts';
import { generateSecret, buildHeaders } from '../../runtime/webhooks/signing.ts';

// Offline use only: generateTestHeaderString signs locally, nothing is sent to Stripe.
const stripe = new Stripe('sk_test_offline_only');
const nowSec = () => Math.floor(Date.now() / 1000);

function rejected(r: VerifyResult, code: string) {
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.code).toBe(code);
    expect(r.reason.length).toBeGreaterThan(5);
  }
}

describe('stripe scheme (signed by the stripe package)', () => {
  const secret = 'whsec_test_5f2b8a1c9d7e6f4a3b2c1d0e';
  const payload = JSON.stringify({ id: 'evt_3OqK2nLkdIwHu7ix0e9f8g7h', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', amount: 4999 } } });
  const signed = (opts: { timestamp?: number; secret?: string; payload?: string } = {}) =>
    stripe.webhooks.generateTestHeaderString({ payload: opts.payload ?? payload, secret: opts.secret ?? secret, timestamp: opts.timestamp });

  it('accepts a genuine signature', () => {
    const r = verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': signed() }, secret });
    expect(r).toMatchObject({ ok: true });
  });

  it('accepts the header in any case and with several v1 entries (secret roll)', () => {
    const good = signed().split(',').find((p) => p.startsWith('v1='))!;
    const t = signed().split(',')[0];
    const header = `${t},v1=${'0'.repeat(64)},${good},v0=abc`;
    expect(verify('stripe', { rawBody: Buffer.from(payload), headers: { 'Stripe-Signature': header }, secret }).ok).toBe(true);
  });

  it('accepts any of several configured secrets', () => {
    const r = verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': signed() }, secret: ['whsec_other', secret] });
    expect(r.ok).toBe(true);
  });

  it('rejects a tampered body, a wrong secret, a stale timestamp and a missing header', () => {
    const header = signed();
    rejected(verify('stripe', { rawBody: Buffer.from(payload.replace('4999', '1')), headers: { 'stripe-signature': header }, secret }), 'signature_mismatch');
    rejected(verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': header }, secret: 'whsec_wrong' }), 'signature_mismatch');
    const old = signed({ timestamp: nowSec() - 301 });
    rejected(verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': old }, secret }), 'timestamp_out_of_tolerance');
    rejected(verify('stripe', { rawBody: Buffer.from(payload), headers: {}, secret }), 'missing_signature');
    rejected(verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': 'v1=abc' }, secret }), 'malformed_signature');
    rejected(verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': header } }), 'missing_secret');
  });

  it('applies the tolerance with an injectable clock', () => {
    const t = 1_700_000_000;
    const header = signed({ timestamp: t });
    const at = (sec: number) => verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': header }, secret, options: { now: () => sec * 1000 } });
    expect(at(t + 300).ok).toBe(true);
    rejected(at(t + 301), 'timestamp_out_of_tolerance');
    rejected(at(t - 301), 'timestamp_out_of_tolerance');
    const wide = verify('stripe', { rawBody: Buffer.from(payload), headers: { 'stripe-signature': header }, secret, options: { now: () => (t + 3000) * 1000, tolerance_seconds: 3600 } });
    expect(wide.ok).toBe(true);
  });

  it('agrees with the stripe package\'s own verifier', () => {
    const header = signed();
    expect(() => stripe.webhooks.constructEvent(payload, header, secret)).not.toThrow();
  });
});

describe('twilio scheme (signed by the twilio package)', () => {
  const token = '9f2c4e6a8b0d1f3a5c7e9b1d3f5a7c9e';
  const url = 'https://hooks.plugboard.example/api/v1/webhooks/inbound/twilio/01j9z3k8q2m4n6p8r0s2t4v6w8';
  const params = { MessageSid: 'SM2f9c1a7e4b8d4f0c9a1e3b5d7f9a2c4e', MessageStatus: 'delivered', To: '+14155550123', From: '+14155550100', AccountSid: 'AC0123456789abcdef0123456789abcdef', Body: 'Hi & bye + more' };
  const form = new URLSearchParams(params).toString();
  const headersFor = (sig: string) => ({ 'x-twilio-signature': sig, 'content-type': 'application/x-www-form-urlencoded' });

  it('accepts a form-encoded status callback signed with getExpectedTwilioSignature', () => {
    const sig = twilio.getExpectedTwilioSignature(token, url, params);
    expect(twilio.validateRequest(token, sig, url, params)).toBe(true);
    expect(verify('twilio', { rawBody: Buffer.from(form), headers: headersFor(sig), url, secret: token })).toEqual({ ok: true });
  });

  it('accepts repeated form keys as Twilio sorts them', () => {
    const multi = { ...params, MediaUrl: ['https://b.example/2.jpg', 'https://a.example/1.jpg'] };
    const body = new URLSearchParams([...Object.entries(params), ['MediaUrl', 'https://b.example/2.jpg'], ['MediaUrl', 'https://a.example/1.jpg']]).toString();
    const sig = twilio.getExpectedTwilioSignature(token, url, multi);
    expect(verify('twilio', { rawBody: Buffer.from(body), headers: headersFor(sig), url, secret: token }).ok).toBe(true);
  });

  it('accepts a signature made over the URL with an explicit :443 port', () => {
    const sig = twilio.getExpectedTwilioSignature(token, url.replace('.example/', '.example:443/'), params);
    expect(verify('twilio', { rawBody: Buffer.from(form), headers: headersFor(sig), url, secret: token }).ok).toBe(true);
  });

  it('accepts a JSON body with a bodySHA256 query parameter', () => {
    const json = JSON.stringify({ event: 'com.twilio.messaging.message.delivered', sid: 'SM1' });
    const signedUrl = `${url}?bodySHA256=${twilio.getExpectedBodyHash(json)}`;
    const sig = twilio.getExpectedTwilioSignature(token, signedUrl, {});
    expect(twilio.validateRequestWithBody(token, sig, signedUrl, json)).toBe(true);
    const input = { rawBody: Buffer.from(json), headers: { 'x-twilio-signature': sig, 'content-type': 'application/json' }, url: signedUrl, secret: token };
    expect(verify('twilio', input).ok).toBe(true);
    rejected(verify('twilio', { ...input, rawBody: Buffer.from(json.replace('SM1', 'SM2')) }), 'body_hash_mismatch');
    rejected(verify('twilio', { ...input, url }), 'malformed_signature');
  });

  it('rejects a tampered body, a wrong token, another URL and a missing signature', () => {
    const sig = twilio.getExpectedTwilioSignature(token, url, params);
    rejected(verify('twilio', { rawBody: Buffer.from(form.replace('delivered', 'failed')), headers: headersFor(sig), url, secret: token }), 'signature_mismatch');
    rejected(verify('twilio', { rawBody: Buffer.from(form), headers: headersFor(sig), url, secret: 'a'.repeat(32) }), 'signature_mismatch');
    rejected(verify('twilio', { rawBody: Buffer.from(form), headers: headersFor(sig), url: url + 'x', secret: token }), 'signature_mismatch');
    rejected(verify('twilio', { rawBody: Buffer.from(form), headers: {}, url, secret: token }), 'missing_signature');
    rejected(verify('twilio', { rawBody: Buffer.from(form), headers: headersFor(sig), secret: token }), 'missing_url');
  });
});

describe('hmac_sha256 scheme', () => {
  const body = Buffer.from(JSON.stringify({ action: 'opened', number: 42, note: 'naïve ✓' }));
  const secret = 'It\'s a Secret to Everybody';

  it('verifies GitHub style (X-Hub-Signature-256: sha256=<hex>)', () => {
    const sig = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
    const options = { header: 'X-Hub-Signature-256', prefix: 'sha256=', encoding: 'hex' as const };
    expect(verify('hmac_sha256', { rawBody: body, headers: { 'x-hub-signature-256': sig }, secret, options }).ok).toBe(true);
    expect(verify('hmac_sha256', { rawBody: body, headers: { 'x-hub-signature-256': sig.toUpperCase().replace('SHA256=', 'sha256=') }, secret, options }).ok).toBe(true);
    rejected(verify('hmac_sha256', { rawBody: Buffer.from(body.toString().replace('42', '43')), headers: { 'x-hub-signature-256': sig }, secret, options }), 'signature_mismatch');
    rejected(verify('hmac_sha256', { rawBody: body, headers: { 'x-hub-signature-256': sig }, secret: 'wrong', options }), 'signature_mismatch');
    rejected(verify('hmac_sha256', { rawBody: body, headers: { 'x-hub-signature-256': sig.slice(7) }, secret, options }), 'malformed_signature');
    rejected(verify('hmac_sha256', { rawBody: body, headers: {}, secret, options }), 'missing_signature');
  });

  it('verifies Shopify style (X-Shopify-Hmac-Sha256: <base64>)', () => {
    const sig = createHmac('sha256', secret).update(body).digest('base64');
    const options = { header: 'x-shopify-hmac-sha256', encoding: 'base64' as const };
    expect(verify('hmac_sha256', { rawBody: body, headers: { 'X-Shopify-Hmac-Sha256': sig }, secret, options }).ok).toBe(true);
    rejected(verify('hmac_sha256', { rawBody: body, headers: { 'X-Shopify-Hmac-Sha256': sig.toLowerCase() }, secret, options }), 'signature_mismatch');
  });

  it('verifies HubSpot v1 (X-HubSpot-Signature: hex SHA-256 of client secret + body)', () => {
    const sig = createHash('sha256').update(secret + body.toString('utf8')).digest('hex');
    const options = { header: 'x-hubspot-signature', digest: 'sha256_secret_body' as const };
    expect(verify('hmac_sha256', { rawBody: body, headers: { 'x-hubspot-signature': sig }, secret, options }).ok).toBe(true);
    rejected(verify('hmac_sha256', { rawBody: Buffer.concat([body, Buffer.from(' ')]), headers: { 'x-hubspot-signature': sig }, secret, options }), 'signature_mismatch');
  });

  it('uses x-signature, no prefix and hex by default', () => {
    const sig = createHmac('sha256', secret).update(body).digest('hex');
    expect(verify('hmac_sha256', { rawBody: body, headers: { 'x-signature': sig }, secret }).ok).toBe(true);
  });
});

describe('slack scheme', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body = Buffer.from('token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070');
  const sign = (ts: number, b = body, s = secret) => 'v0=' + createHmac('sha256', s).update(`v0:${ts}:`).update(b).digest('hex');

  it('accepts a genuine request and rejects tampered, wrong-secret, stale and malformed ones', () => {
    const ts = nowSec();
    const headers = { 'x-slack-signature': sign(ts), 'x-slack-request-timestamp': String(ts) };
    expect(verify('slack', { rawBody: body, headers, secret })).toEqual({ ok: true, timestamp: ts });
    rejected(verify('slack', { rawBody: Buffer.from(body.toString().replace('94070', '94071')), headers, secret }), 'signature_mismatch');
    rejected(verify('slack', { rawBody: body, headers, secret: 'another-secret' }), 'signature_mismatch');
    rejected(verify('slack', { rawBody: body, headers: { ...headers, 'x-slack-request-timestamp': String(ts + 1) }, secret }), 'signature_mismatch');
    const old = ts - 600;
    rejected(verify('slack', { rawBody: body, headers: { 'x-slack-signature': sign(old), 'x-slack-request-timestamp': String(old) }, secret }), 'timestamp_out_of_tolerance');
    rejected(verify('slack', { rawBody: body, headers: { 'x-slack-request-timestamp': String(ts) }, secret }), 'missing_signature');
    rejected(verify('slack', { rawBody: body, headers: { ...headers, 'x-slack-signature': sign(ts).slice(3) }, secret }), 'malformed_signature');
  });

  it('uses the injected clock', () => {
    const ts = 1_531_420_618;
    const headers = { 'x-slack-signature': sign(ts), 'x-slack-request-timestamp': String(ts) };
    expect(verify('slack', { rawBody: body, headers, secret, options: { now: () => (ts + 299) * 1000 } }).ok).toBe(true);
    rejected(verify('slack', { rawBody: body, headers, secret, options: { now: () => (ts + 301) * 1000 } }), 'timestamp_out_of_tolerance');
  });
});

describe('standard_webhooks scheme', () => {
  const payload = JSON.stringify({ type: 'invoice.paid', id: 'evt_1', data: { amount: 100 } });

  it('accepts what the standardwebhooks package signs, and what we sign during rotation', () => {
    const secret = generateSecret();
    const ts = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', ts, payload) };
    expect(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers, secret }).ok).toBe(true);
    const other = generateSecret();
    const rotated = buildHeaders('msg_2', nowSec(), payload, [other, secret]);
    expect(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers: { ...rotated }, secret }).ok).toBe(true);
    // svix-* header names carry the same scheme
    const svix = { 'svix-id': 'msg_1', 'svix-timestamp': headers['webhook-timestamp'], 'svix-signature': headers['webhook-signature'] };
    expect(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers: svix, secret }).ok).toBe(true);
  });

  it('rejects tampered body, wrong secret, stale timestamp and missing headers', () => {
    const secret = generateSecret();
    const headers = { ...buildHeaders('msg_1', nowSec(), payload, [secret]) };
    rejected(verify('standard_webhooks', { rawBody: Buffer.from(payload.replace('100', '101')), headers, secret }), 'signature_mismatch');
    rejected(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers, secret: generateSecret() }), 'signature_mismatch');
    const stale = { ...buildHeaders('msg_1', nowSec() - 600, payload, [secret]) };
    rejected(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers: stale, secret }), 'timestamp_out_of_tolerance');
    rejected(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers: { 'webhook-id': 'msg_1' }, secret }), 'missing_signature');
    rejected(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers, secret, options: { now: () => Date.now() + 400_000 } }), 'timestamp_out_of_tolerance');
    rejected(verify('standard_webhooks', { rawBody: Buffer.from(payload), headers, secret: 'not base64 !' }), 'signature_mismatch');
  });
});

describe('verify()', () => {
  it('accepts anything with scheme none and refuses unknown schemes', () => {
    expect(verify('none', { rawBody: Buffer.from('x'), headers: {} })).toEqual({ ok: true });
    rejected(verify('md5', { rawBody: Buffer.from('x'), headers: {}, secret: 's' }), 'unsupported_scheme');
  });

  it('compares in constant time without throwing on unequal lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
