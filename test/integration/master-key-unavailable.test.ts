// Credentials sealed under a master key this server does not hold (started with another
// PLUGBOARD_MASTER_KEY, a stale key file after a rotation with --prune) are a deployment state, not
// a bug: a typed `unavailable` error (master_key_unavailable, naming the key id) everywhere that
// opens them. Inbound webhooks answer 503 with Retry-After and log once per integration per minute;
// operations answer the 503 envelope and free their key; verification records a readable error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sqlOne, sqlQuery } from '../helpers/store.ts';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let pb: TestPlatform;
let twilio: SpecServer;
let stripeApi: http.Server;
let t: { id: string; key: string };

const GONE = 'mk_rotated_away';
const setMasterKeyId = (id: string, master: string) => sqlQuery(pb.platform.store, 'UPDATE integrations SET master_key_id = ? WHERE id = ?', master, id);
const loseMasterKey = (id: string) => setMasterKeyId(id, GONE);
const logLines = () => fs.readFileSync(pb.logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });

async function activeIntegration(provider: string, credentials: Record<string, unknown>, tenant = t): Promise<{ id: string; master: string }> {
  const r = await pb.api(tenant.key, 'POST', '/integrations', { provider, credentials });
  expect(r.status, r.text).toBe(201);
  const id = r.body.data.id as string;
  await pb.waitFor(async () => (await pb.api(tenant.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', `${provider} active`);
  return { id, master: (await sqlOne<{ master_key_id: string }>(pb.platform.store, 'SELECT master_key_id FROM integrations WHERE id = ?', id))!.master_key_id };
}

beforeAll(async () => {
  stripeApi = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'balance' }));
  });
  await new Promise<void>((r) => stripeApi.listen(0, '127.0.0.1', r));
  twilio = await startSpecServer('twilio');
  pb = await startTestPlatform({
    PLUGBOARD_BASE_URL_STRIPE: `http://127.0.0.1:${(stripeApi.address() as AddressInfo).port}`,
    PLUGBOARD_BASE_URL_TWILIO: twilio.baseUrlFor('https://api.twilio.com'),
    PLUGBOARD_INBOUND_RATE_PER_SECOND: '100000',
  });
  t = await pb.tenant('Rotated Keys Co');
}, 60_000);

afterAll(async () => {
  await pb?.close();
  await twilio?.close();
  stripeApi?.close();
});

describe('credentials under a master key this server does not hold', () => {
  it('inbound webhooks answer 503 with Retry-After, logged once per integration at warn, never "unhandled error"', async () => {
    const { id } = await activeIntegration('stripe', { secret_key: 'sk_test_MissingMasterKey0000', webhook_secret: 'whsec_MissingMasterKeySecret0123' });
    await loseMasterKey(id);
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } });
    const answers = await Promise.all(Array.from({ length: 40 }, () =>
      fetch(`${pb.url}/api/v1/webhooks/inbound/stripe/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }, body })));
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
      const text = await a.text();
      expect(text).not.toContain(GONE); // the unauthenticated caller learns nothing about keys
      expect(JSON.parse(text)).toMatchObject({ success: false, code: 'unavailable' });
    }
    const lines = logLines();
    expect(lines.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    const warned = lines.filter((l) => l.msg.startsWith('inbound webhook answered 503'));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.level).toBe(40);
    expect(JSON.stringify(warned[0])).toContain(`master key ${GONE} is not available`);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('operations answer the 503 envelope naming the key id, and the idempotency key stays usable', async () => {
    const { id, master } = await activeIntegration('twilio', { account_sid: 'AC' + 'c'.repeat(32), auth_token: 'c'.repeat(32), from_number: '+15005550006' });
    await loseMasterKey(id);
    const body = { input: { to: '+14155550123', body: 'key lost' }, idempotency_key: 'mk-1' };
    const r = await pb.api(t.key, 'POST', '/operations/send_sms', body);
    expect(r.status, r.text).toBe(503);
    expect(r.body).toMatchObject({ success: false, code: 'master_key_unavailable' });
    expect(r.body.message).toContain(`master key ${GONE} is not available`);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(twilio.requests.filter((q) => q.operationId === 'CreateMessage')).toEqual([]);
    expect((await pb.api(t.key, 'GET', '/deliveries')).body.data).toEqual([]);
    // Once the key is back, the same idempotency key runs the operation.
    await setMasterKeyId(id, master);
    const again = await pb.api(t.key, 'POST', '/operations/send_sms', body);
    expect(again.status, again.text).toBe(200);
    expect(logLines().filter((l) => l.msg === 'unhandled error')).toEqual([]);
  });

  it('verification records a readable verification_error naming the key id', async () => {
    const other = await pb.tenant('Verifying Co');
    const { id } = await activeIntegration('twilio', { account_sid: 'AC' + 'd'.repeat(32), auth_token: 'd'.repeat(32), from_number: '+15005550007' }, other);
    await loseMasterKey(id);
    const row = (await sqlOne<{ credentials_version: number }>(pb.platform.store, 'SELECT credentials_version FROM integrations WHERE id = ?', id))!;
    await sqlQuery(pb.platform.store, `UPDATE integrations SET status = 'pending_verify' WHERE id = ?`, id);
    expect(await pb.platform.integrations.runVerification(other.id, id, row.credentials_version)).toBe('error');
    const got = await pb.api(other.key, 'GET', `/integrations/${id}`);
    expect(got.body.data.status).toBe('error');
    expect(got.body.data.metadata.verification_error).toBe(`master key ${GONE} is not available: credentials of integration ${id} cannot be opened`);
  });
});
