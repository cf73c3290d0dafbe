// The seed's business scenarios over real HTTP: Plugboard on 127.0.0.1:0, providers served from
// their official OpenAPI specs (test/contract/spec-server.ts) with base URLs overridden per
// DESIGN.md §7 (PLUGBOARD_BASE_URL_<PROVIDER>).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startSpecServer, type SpecServer, type CapturedRequest } from '../contract/spec-server.ts';
import { startTestPlatform, connectorsDirWith, secondTwilioManifest, type TestPlatform } from '../helpers/platform.ts';

const STRIPE_KEY = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const STRIPE_KEY_2 = 'sk_test_51RotatedKeyValue0000001';
const STRIPE_WRONG = 'sk_test_WrongKeyWrongKey123456';
const TWILIO_TOKEN = '3f2a0c9d8e7b6a5f4e3d2c1b0a998877';
const TWILIO_TOKEN_2 = '0badc0de0badc0de0badc0de0badc0de';
const SECRETS = [STRIPE_KEY, STRIPE_KEY_2, STRIPE_WRONG, TWILIO_TOKEN, TWILIO_TOKEN_2];

let stripe: SpecServer;
let twilio: SpecServer;
let twilio2: SpecServer;
let pb: TestPlatform;
let tenant: { id: string; key: string };

const paymentIntent = (body: Record<string, any>) => ({
  id: 'pi_3OrTestIntent000001',
  object: 'payment_intent',
  amount: Number(body['amount'] ?? 0),
  currency: String(body['currency'] ?? 'usd'),
  status: 'requires_payment_method',
  capture_method: 'automatic',
  confirmation_method: 'automatic',
  created: 1700000000,
  livemode: false,
  payment_method_types: ['card'],
  client_secret: 'pi_3OrTestIntent000001_secret_x',
});

beforeAll(async () => {
  stripe = await startSpecServer('stripe', {
    respond: (req) => {
      const auth = String(req.headers['authorization'] ?? '');
      if (auth.includes(STRIPE_WRONG)) {
        return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****3456' } } };
      }
      if (req.method === 'POST' && req.path === '/v1/payment_intents') return { status: 200, body: paymentIntent(req.body as Record<string, any>) };
      return undefined;
    },
  });
  twilio = await startSpecServer('twilio');
  twilio2 = await startSpecServer('twilio');
  pb = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ twilio_secondary: secondTwilioManifest() }),
    PLUGBOARD_BASE_URL_TWILIO_SECONDARY: twilio2.baseUrlFor('https://api.twilio.com'),
    PLUGBOARD_BASE_URL_STRIPE: stripe.baseUrlFor('https://api.stripe.com'),
    PLUGBOARD_BASE_URL_TWILIO: twilio.baseUrlFor('https://api.twilio.com'),
  });
  tenant = await pb.tenant('Acme');
}, 60_000);

afterAll(async () => {
  await pb?.close();
  await Promise.all([stripe?.close(), twilio?.close(), twilio2?.close()]);
});

// Activation schedules Stripe's sync streams, which read GetCharges and
// GetPaymentIntents in the background; capability assertions count only the
// calls a capability makes.
const SYNC_READS = new Set(['GetCharges', 'GetPaymentIntents']);
const capabilityCalls = (server: { requests: CapturedRequest[] }) => server.requests.filter((r) => !SYNC_READS.has(String(r.operationId)));

async function waitStatus(id: string, status: string, key = tenant.key) {
  return pb.waitFor(async () => {
    const r = await pb.api(key, 'GET', `/integrations/${id}`);
    return r.body?.data?.status === status ? r.body.data : undefined;
  }, `integration ${id} to become ${status}`);
}

describe('business scenarios', () => {
  let stripeId: string;
  let ruleId: string;

  it('sets up Stripe for the first time: providers, create, poll to active, rule, initiate_payment', async () => {
    const providers = await pb.api(tenant.key, 'GET', '/providers');
    expect(providers.status).toBe(200);
    const stripeProvider = providers.body.data.find((p: any) => p.name === 'stripe');
    expect(stripeProvider).toMatchObject({ category: 'payment', auth_type: 'bearer', is_configured: false, credential_schema: { secret_key: { type: 'string', sensitive: true, required: true } } });
    expect(stripeProvider.streams).toEqual([{ name: 'charges', model: 'payment', schedule: '15 minutes' }, { name: 'payment_intents', model: 'payment', schedule: '15 minutes' }]);

    const created = await pb.api(tenant.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: STRIPE_KEY }, metadata: { label: 'main account' } });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ provider: 'stripe', status: 'pending_verify', credentials: { secret_key: null } });
    expect(created.body.data.id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
    stripeId = created.body.data.id;

    const active = await waitStatus(stripeId, 'active');
    expect(active.verified_at).toBeTruthy();
    expect(stripe.requests.some((r) => r.operationId === 'GetBalance')).toBe(true);
    expect((await pb.api(tenant.key, 'GET', '/providers')).body.data.find((p: any) => p.name === 'stripe').is_configured).toBe(true);

    const rule = await pb.api(tenant.key, 'POST', '/routing-rules', { capability: 'initiate_payment', integration_id: stripeId, is_default: true });
    expect(rule.status).toBe(201);
    ruleId = rule.body.data.id;

    stripe.reset();
    const op = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', { input: { amount: 2000, currency: 'usd', description: 'Order 1001', metadata: { order_id: '1001' } } });
    expect(op.status, op.text).toBe(200);
    expect(op.body.data).toMatchObject({ integration_id: stripeId, provider: 'stripe', output: { payment_id: 'pi_3OrTestIntent000001', status: 'pending', amount: 2000, currency: 'usd' } });
    expect(stripe.violations).toEqual([]);
    expect(capabilityCalls(stripe).map((r) => r.operationId)).toEqual(['PostPaymentIntents']);

    const deliveries = await pb.api(tenant.key, 'GET', `/deliveries?operation_id=${op.body.data.operation_id}`);
    expect(deliveries.body.data).toHaveLength(1);
    expect(deliveries.body.data[0]).toMatchObject({ status: 'succeeded', provider_status_code: 200, capability: 'initiate_payment', integration_id: stripeId });
  });

  it('rotates credentials: PATCH -> pending_verify -> active, same id, rules still valid', async () => {
    const patched = await pb.api(tenant.key, 'PATCH', `/integrations/${stripeId}`, { credentials: { secret_key: STRIPE_KEY_2 } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ id: stripeId, status: 'pending_verify', credentials: { secret_key: null } });
    await waitStatus(stripeId, 'active');
    stripe.reset();
    const op = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', { input: { amount: 500, currency: 'eur' } });
    expect(op.status, op.text).toBe(200);
    expect(op.body.data.integration_id).toBe(stripeId);
    expect(String(capabilityCalls(stripe)[0]?.headers['authorization'])).toBe(`Bearer ${STRIPE_KEY_2}`);
    expect((await pb.api(tenant.key, 'GET', `/routing-rules/${ruleId}`)).body.data.integration_id).toBe(stripeId);
  });

  it('honours idempotency keys: same body replays without a provider call, another body is refused', async () => {
    const body = { input: { amount: 750, currency: 'usd' }, idempotency_key: 'order-77' };
    stripe.reset();
    const first = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', body);
    const again = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', body);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(capabilityCalls(stripe)).toHaveLength(1);
    const other = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', { ...body, input: { amount: 751, currency: 'usd' } });
    expect(other.status).toBe(422);
    expect(other.body.errors.idempotency_key).toBeDefined();
  });

  it('ends wrong credentials in error with a readable verification_error and no secret in it', async () => {
    const other = await pb.tenant('Wrong Co');
    const created = await pb.api(other.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: STRIPE_WRONG } });
    expect(created.status).toBe(201);
    const failed = await waitStatus(created.body.data.id, 'error', other.key);
    expect(failed.metadata.verification_error).toMatch(/Stripe answered 401: Invalid API Key provided/);
    expect(JSON.stringify(failed)).not.toContain(STRIPE_WRONG);
  });

  it('switches SMS from one integration to another via rules and disables the old one', async () => {
    const sms = await pb.tenant('Texting Inc');
    const creds = (sid: string, token: string) => ({ account_sid: sid, auth_token: token, from_number: '+15005550006' });
    const first = await pb.api(sms.key, 'POST', '/integrations', { provider: 'twilio', credentials: creds('AC' + '1'.repeat(32), TWILIO_TOKEN) });
    expect(first.status).toBe(201);
    const dup = await pb.api(sms.key, 'POST', '/integrations', { provider: 'twilio', credentials: creds('AC' + '1'.repeat(32), TWILIO_TOKEN) });
    expect(dup.status).toBe(422);
    expect(dup.body.message).toBe('An integration for this provider already exists.');
    const second = await pb.api(sms.key, 'POST', '/integrations', { provider: 'twilio_secondary', credentials: creds('AC' + '2'.repeat(32), TWILIO_TOKEN_2) });
    expect(second.status).toBe(201);
    const oldId = first.body.data.id;
    const newId = second.body.data.id;
    await waitStatus(oldId, 'active', sms.key);
    await waitStatus(newId, 'active', sms.key);

    const rule = await pb.api(sms.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: oldId, is_default: true });
    expect(rule.status).toBe(201);
    twilio.reset();
    twilio2.reset();
    const viaOld = await pb.api(sms.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'hello' } });
    expect(viaOld.status, viaOld.text).toBe(200);
    expect(viaOld.body.data.integration_id).toBe(oldId);
    expect(twilio.requests.map((r) => r.operationId)).toEqual(['CreateMessage']);
    expect(twilio.violations).toEqual([]);

    const switched = await pb.api(sms.key, 'PATCH', `/routing-rules/${rule.body.data.id}`, { integration_id: newId });
    expect(switched.status, switched.text).toBe(200);
    const disabled = await pb.api(sms.key, 'POST', `/integrations/${oldId}/disable`);
    expect(disabled.body.data.status).toBe('inactive');
    const viaNew = await pb.api(sms.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'hello again' }, idempotency_key: 'sms-again' });
    expect(viaNew.status, viaNew.text).toBe(200);
    expect(viaNew.body.data).toMatchObject({ integration_id: newId, provider: 'twilio_secondary' });
    expect(twilio2.requests.filter((r) => r.operationId === 'CreateMessage')).toHaveLength(1);
    expect(twilio2.violations).toEqual([]);
    expect(twilio.requests).toHaveLength(1); // the disabled integration got nothing more

    // With the new one disabled too, nothing can send: 409 no_active_provider.
    await pb.api(sms.key, 'POST', `/integrations/${newId}/disable`);
    const none = await pb.api(sms.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'hello' } });
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('no_active_provider');
    // A key already used still answers what it answered: the replay comes before routing.
    const replayed = await pb.api(sms.key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'hello again' }, idempotency_key: 'sms-again' });
    expect(replayed.status, replayed.text).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(viaNew.body);
  });
});

describe('lifecycle edge cases', () => {
  it('frees an idempotency key when the request never reached a provider', async () => {
    const bad = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', { input: { amount: 900, currency: 'usd' }, integration_id: '01aaaaaaaaaaaaaaaaaaaaaaaa', idempotency_key: 'retry-me' });
    expect(bad.status).toBe(422);
    const good = await pb.api(tenant.key, 'POST', '/operations/initiate_payment', { input: { amount: 900, currency: 'usd' }, idempotency_key: 'retry-me' });
    expect(good.status, good.text).toBe(200);
  });

  it('does not let activate skip the check of credentials changed while it was disabled', async () => {
    const t = await pb.tenant('Sneaky');
    const created = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: STRIPE_KEY } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.data.id as string;
    await waitStatus(id, 'active', t.key);
    await pb.api(t.key, 'POST', `/integrations/${id}/disable`);
    const patched = await pb.api(t.key, 'PATCH', `/integrations/${id}`, { credentials: { secret_key: STRIPE_WRONG } });
    expect(patched.body.data.verified_at).toBeNull();
    const activated = await pb.api(t.key, 'POST', `/integrations/${id}/activate`);
    expect(activated.body.data.status).toBe('pending_verify');
    const failed = await waitStatus(id, 'error', t.key);
    expect(failed.metadata.verification_error).toMatch(/401/);
  });

  it('drops routing rules of a deleted integration', async () => {
    const t = await pb.tenant('Cleanup');
    const created = await pb.api(t.key, 'POST', '/integrations', { provider: 'stripe', credentials: { secret_key: STRIPE_KEY } });
    const id = created.body.data.id as string;
    await waitStatus(id, 'active', t.key);
    const rule = await pb.api(t.key, 'POST', '/routing-rules', { capability: 'verify_payment', integration_id: id });
    expect(rule.status).toBe(201);
    expect((await pb.api(t.key, 'DELETE', `/integrations/${id}`)).status).toBe(200);
    expect((await pb.api(t.key, 'GET', `/routing-rules/${rule.body.data.id}`)).status).toBe(404);
  });
});

describe('secrets at rest, in logs and in responses', () => {
  it('never stores, logs or returns a plaintext secret', async () => {
    // The database (SQLite: its file and WAL; PostgreSQL: every row) and the log.
    const haystacks = { database: await pb.dumpDatabase(), [path.basename(pb.logFile)]: fs.readFileSync(pb.logFile, 'latin1') };
    expect(haystacks.database.length).toBeGreaterThan(1000);
    for (const [name, content] of Object.entries(haystacks)) {
      for (const s of SECRETS) expect(content.includes(s), `${name} contains ${s.slice(0, 8)}...`).toBe(false);
    }
    const all = pb.responses.join('\n');
    for (const s of SECRETS) expect(all.includes(s), `a response contains ${s.slice(0, 8)}...`).toBe(false);
    // The search can fail: the log does hold non-secret values the suite used.
    expect(fs.readFileSync(pb.logFile, 'utf8')).toContain('integration verification finished');
  });
});
