// Inbound provider webhooks over HTTP: signed by the official `stripe` and `twilio` packages,
// verified, stored, deduplicated, mapped by the manifests and fanned out to subscriptions.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const stripe = new Stripe('sk_test_offline_only'); // only its offline signing helper is used
const STRIPE_WEBHOOK_SECRET = 'whsec_InboundTestSecret0123456789';
const TWILIO_TOKEN = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const SLACK_SECRET_ROTATED = 'rotated5b10e8888abcd99yyyzzz85a5';

let pb: TestPlatform;
let t: { id: string; key: string };
let stripeId: string;
let twilioId: string;
let slackId: string;
const delivered: any[] = [];
let receiver: http.Server;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      delivered.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  // Providers are never called here: verification answers come from a loopback stub that says "ok".
  const ok = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'balance', status: 'active', ok: true, url: 'x', team: 'x', user: 'x', team_id: 'T1', user_id: 'U1' }));
  });
  await new Promise<void>((r) => ok.listen(0, '127.0.0.1', r));
  const okUrl = `http://127.0.0.1:${(ok.address() as AddressInfo).port}`;
  pb = await startTestPlatform({
    PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1',
    PLUGBOARD_PUBLIC_URL: 'https://plugboard.example.com',
    PLUGBOARD_BASE_URL_STRIPE: okUrl,
    PLUGBOARD_BASE_URL_TWILIO: okUrl,
    PLUGBOARD_BASE_URL_SLACK: okUrl,
  });
  t = await pb.tenant('Inbound Co');
  const create = async (provider: string, credentials: Record<string, string>) => {
    const r = await pb.api(t.key, 'POST', '/integrations', { provider, credentials });
    expect(r.status, r.text).toBe(201);
    return r.body.data.id as string;
  };
  stripeId = await create('stripe', { secret_key: 'sk_test_InboundKey00000000', webhook_secret: STRIPE_WEBHOOK_SECRET });
  twilioId = await create('twilio', { account_sid: 'AC' + 'd'.repeat(32), auth_token: TWILIO_TOKEN, from_number: '+15005550006' });
  slackId = await create('slack', { bot_token: 'xoxb-1234567890-abcdefghij', signing_secret: SLACK_SECRET });
  const sub = await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`, events: ['payment.*', 'message.*'] });
  expect(sub.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await pb?.close();
  receiver?.closeAllConnections();
  receiver?.close();
});

function post(path: string, body: string, headers: Record<string, string>) {
  return fetch(`${pb.url}${path}`, { method: 'POST', headers, body });
}

const stripeEvent = (id: string) =>
  JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: 1764000000,
    data: { object: { id: 'pi_3InboundTest0001', object: 'payment_intent', amount: 4999, amount_received: 4999, currency: 'eur', customer: null, description: 'Order 77', metadata: { order: '77' }, status: 'succeeded' } },
  });

describe('inbound webhooks', () => {
  it('accepts a Stripe event signed by the stripe package, maps it to payment.completed and fans it out', async () => {
    const body = stripeEvent('evt_InboundOne');
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    const r = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json', 'stripe-signature': header });
    expect(r.status).toBe(202);
    const got = await pb.waitFor(async () => delivered.find((d) => d.type === 'payment.completed'), 'payment.completed delivery');
    expect(got.data).toMatchObject({ payment_id: 'pi_3InboundTest0001', amount: 4999, currency: 'eur', status: 'succeeded', provider: 'stripe', integration_id: stripeId, provider_event_id: 'evt_InboundOne' });
    const list = await pb.api(t.key, 'GET', '/webhooks/inbound-events?status=processed');
    expect(list.body.data.some((e: any) => e.provider_event_id === 'evt_InboundOne' && e.provider_event_type === 'payment_intent.succeeded')).toBe(true);
  });

  it('processes the same Stripe event only once', async () => {
    const body = stripeEvent('evt_InboundTwice');
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    const first = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json', 'stripe-signature': header });
    const second = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json', 'stripe-signature': header });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(((await second.json()) as any).data.duplicate).toBe(true);
    await pb.waitFor(async () => delivered.filter((d) => d.data?.provider_event_id === 'evt_InboundTwice').length === 1, 'one delivery');
    await new Promise((r) => setTimeout(r, 300));
    expect(delivered.filter((d) => d.data?.provider_event_id === 'evt_InboundTwice')).toHaveLength(1);
  });

  it('rejects a tampered body, a stale timestamp and a wrong secret with 401, storing them as rejected', async () => {
    const body = stripeEvent('evt_InboundBad');
    const good = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    const tampered = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body.replace('4999', '1'), { 'content-type': 'application/json', 'stripe-signature': good });
    const stale = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 }) });
    const wrong = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_NotTheSecret000000000' }) });
    const missing = await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json' });
    expect([tampered.status, stale.status, wrong.status, missing.status]).toEqual([401, 401, 401, 401]);
    const rejected = await pb.api(t.key, 'GET', '/webhooks/inbound-events?status=rejected');
    const reasons = rejected.body.data.map((e: any) => e.reason as string);
    expect(reasons.some((r: string) => r.startsWith('timestamp_out_of_tolerance'))).toBe(true);
    expect(reasons.some((r: string) => r.startsWith('signature_mismatch'))).toBe(true);
    expect(reasons.some((r: string) => r.startsWith('missing_signature'))).toBe(true);
    expect(delivered.some((d) => d.data?.provider_event_id === 'evt_InboundBad')).toBe(false);
    // unauthenticated bodies are not kept
    const row = await pb.platform.store.inboundEvents.get(t.id, rejected.body.data[0].id);
    expect(row?.body).toBe('');
    // an unknown integration or a provider mismatch is 404
    expect((await post(`/api/v1/webhooks/inbound/twilio/${stripeId}`, body, { 'content-type': 'application/json' })).status).toBe(404);
  });

  it('accepts a Twilio status callback signed by the twilio package and maps it to message.delivered', async () => {
    const path = `/api/v1/webhooks/inbound/twilio/${twilioId}`;
    const params = { MessageSid: 'SM' + 'e'.repeat(32), MessageStatus: 'delivered', To: '+14155550123', From: '+15005550006', AccountSid: 'AC' + 'd'.repeat(32) };
    const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `https://plugboard.example.com${path}`, params);
    const r = await post(path, new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
    expect(r.status).toBe(202);
    const got = await pb.waitFor(async () => delivered.find((d) => d.type === 'message.delivered'), 'message.delivered');
    expect(got.data).toMatchObject({ message_id: params.MessageSid, channel: 'sms', to: '+14155550123', status: 'delivered', provider: 'twilio' });
    const bad = await post(path, new URLSearchParams({ ...params, MessageStatus: 'failed' }).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
    expect(bad.status).toBe(401);
  });

  it('accepts a Twilio JSON status callback signed over ?bodySHA256= (any query string reaches the signature check)', async () => {
    const path = `/api/v1/webhooks/inbound/twilio/${twilioId}`;
    const body = JSON.stringify({ MessageSid: 'SM' + 'f'.repeat(32), MessageStatus: 'delivered', To: '+14155550124', From: '+15005550006', AccountSid: 'AC' + 'd'.repeat(32) });
    const signedPath = `${path}?bodySHA256=${twilio.getExpectedBodyHash(body)}`;
    const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `https://plugboard.example.com${signedPath}`, {});
    expect(twilio.validateRequestWithBody(TWILIO_TOKEN, signature, `https://plugboard.example.com${signedPath}`, body)).toBe(true);
    const r = await post(signedPath, body, { 'content-type': 'application/json', 'x-twilio-signature': signature });
    expect(r.status, await r.clone().text()).toBe(202);
    const got = await pb.waitFor(async () => delivered.find((d) => d.type === 'message.delivered' && d.data.to === '+14155550124'), 'message.delivered from JSON');
    expect(got.data).toMatchObject({ message_id: 'SM' + 'f'.repeat(32), provider: 'twilio' });
    // the scheme, not the route, judges the query string: a tampered body or a foreign parameter is 401, not 422
    expect((await post(signedPath, body.replace('delivered', 'failed'), { 'content-type': 'application/json', 'x-twilio-signature': signature })).status).toBe(401);
    expect((await post(`${signedPath}&x=1&x=2&query=a`, body, { 'content-type': 'application/json', 'x-twilio-signature': signature })).status).toBe(401);
  });

  it("answers Slack's url_verification handshake and verifies Slack signatures", async () => {
    const path = `/api/v1/webhooks/inbound/slack/${slackId}`;
    const body = JSON.stringify({ token: 'x', challenge: 'c0ffee', type: 'url_verification' });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const r = await post(path, body, { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ challenge: 'c0ffee' });
    const forged = await post(path, body, { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': 'v0=' + '0'.repeat(64) });
    expect(forged.status).toBe(401);
  });

  it('verifies with new credentials from the next request on (an opened signing secret kept in memory is keyed by the sealed credentials)', async () => {
    const path = `/api/v1/webhooks/inbound/slack/${slackId}`;
    const signed = (secret: string, id: string) => {
      const body = JSON.stringify({ type: 'event_callback', event_id: id, event: { type: 'message', channel: 'C1', text: 'hi' } });
      const ts = String(Math.floor(Date.now() / 1000));
      return { body, headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}` } };
    };
    const before = signed(SLACK_SECRET, 'EvRotate1');
    expect((await post(path, before.body, before.headers)).status).toBe(202);
    const patched = await pb.api(t.key, 'PATCH', `/integrations/${slackId}`, { credentials: { signing_secret: SLACK_SECRET_ROTATED } });
    expect(patched.status, patched.text).toBe(200);
    const old = signed(SLACK_SECRET, 'EvRotate2');
    expect((await post(path, old.body, old.headers)).status).toBe(401);
    const fresh = signed(SLACK_SECRET_ROTATED, 'EvRotate3');
    expect((await post(path, fresh.body, fresh.headers)).status).toBe(202);
  });

  it('ignores provider events without a mapping, and can reprocess', async () => {
    const body = JSON.stringify({ id: 'evt_Unmapped', object: 'event', type: 'customer.created', created: 1764000000, data: { object: { id: 'cus_1' } } });
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    expect((await post(`/api/v1/webhooks/inbound/stripe/${stripeId}`, body, { 'content-type': 'application/json', 'stripe-signature': header })).status).toBe(202);
    const ev = await pb.waitFor(async () => (await pb.api(t.key, 'GET', '/webhooks/inbound-events?status=ignored')).body.data.find((e: any) => e.provider_event_id === 'evt_Unmapped'), 'ignored event');
    expect(ev.reason).toContain('customer.created');
    const again = await pb.api(t.key, 'POST', `/webhooks/inbound-events/${ev.id}/reprocess`);
    expect(again.status).toBe(202);
    // a processed event already produced its normalized event: nothing to reprocess
    const processed = (await pb.api(t.key, 'GET', '/webhooks/inbound-events?status=processed')).body.data[0];
    const refused = await pb.api(t.key, 'POST', `/webhooks/inbound-events/${processed.id}/reprocess`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('not_reprocessable');
  });

  it('keeps webhook secrets and provider credentials out of the database, the logs and responses', async () => {
    for (const [name, content] of Object.entries({ database: await pb.dumpDatabase(), log: fs.readFileSync(pb.logFile, 'latin1') })) {
      for (const s of [STRIPE_WEBHOOK_SECRET, TWILIO_TOKEN, SLACK_SECRET, SLACK_SECRET_ROTATED]) expect(content.includes(s), name).toBe(false);
    }
    for (const s of [STRIPE_WEBHOOK_SECRET, TWILIO_TOKEN, SLACK_SECRET, SLACK_SECRET_ROTATED]) expect(pb.responses.join('\n').includes(s)).toBe(false);
  });
});
