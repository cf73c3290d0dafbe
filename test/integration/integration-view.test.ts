// What the studio reads of an integration and of webhook traffic, over real HTTP: `credentials_set`
// names the credential fields holding a value (a secret never given is not "stored"), never their
// values; refused credentials are worded for people (the studio's form words them alike); and the
// test-event answer, a delivery's attempts, inbound events, event types and a subscription's secret
// match the schemas openapi.yaml gives their `data`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { OpenAPIBackend } from 'openapi-backend';
import addFormatsModule from 'ajv-formats';
import { loadOpenApiDocument } from '../../runtime/api/app.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { startTestPlatform, type TestPlatform, type ApiResponse } from '../helpers/platform.ts';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: unknown) => void;

const BOT_TOKEN = 'xoxb-1234567890-' + 'S3cr3tB0t'.repeat(3);
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
let pb: TestPlatform;
let key: string;
let openapi: OpenAPIBackend;
let receiver: http.Server;
let receiverUrl: string;

beforeAll(async () => {
  // Slack's and Twilio's verifications go to a closed loopback port: nothing leaves the machine.
  // Only the two connectors used here, as shipped.
  const connectors = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-view-connectors-'));
  for (const f of ['slack.yaml', 'twilio.yaml']) fs.copyFileSync(path.join(PROJECT_ROOT, 'connectors', f), path.join(connectors, f));
  pb = await startTestPlatform({ PLUGBOARD_CONNECTORS_DIR: connectors, PLUGBOARD_BASE_URL_SLACK: 'http://127.0.0.1:9', PLUGBOARD_BASE_URL_TWILIO: 'http://127.0.0.1:9', PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1' });
  key = (await pb.tenant('View Co')).key;
  openapi = new OpenAPIBackend({ definition: loadOpenApiDocument() as never, quick: true, validate: true, customizeAjv: (ajv) => (addFormats(ajv as never), ajv) });
  await openapi.init();
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
}, 60_000);

afterAll(async () => {
  await pb?.close();
  receiver?.closeAllConnections();
  receiver?.close();
});

function conforms(operationId: string, r: ApiResponse): void {
  const v = openapi.validateResponse(r.body, operationId, r.status);
  expect(v.errors ?? [], `${operationId} ${r.status}: ${r.text.slice(0, 300)}`).toEqual([]);
}

describe('credentials_set', () => {
  it('names the fields holding a value, sensitive ones included, and never a value', async () => {
    const created = await pb.api(key, 'POST', '/integrations', { provider: 'slack', credentials: { bot_token: BOT_TOKEN } });
    expect(created.status, created.text).toBe(201);
    conforms('createIntegration', created);
    const id = created.body.data.id;
    // The optional signing secret was never given: not set. The token is set but shown as null.
    expect(created.body.data.credentials_set).toEqual(['bot_token']);
    expect(created.body.data.credentials).toEqual({ bot_token: null, default_channel: null, signing_secret: null });

    const patched = await pb.api(key, 'PATCH', `/integrations/${id}`, { credentials: { signing_secret: SIGNING_SECRET, default_channel: '#general' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.data.credentials_set).toEqual(['bot_token', 'default_channel', 'signing_secret']);
    const got = await pb.api(key, 'GET', `/integrations/${id}`);
    conforms('getIntegration', got);
    expect(got.body.data.credentials_set).toEqual(['bot_token', 'default_channel', 'signing_secret']);
    const listed = await pb.api(key, 'GET', '/integrations');
    conforms('listIntegrations', listed);
    expect(listed.body.data.find((i: { id: string }) => i.id === id).credentials_set).toEqual(['bot_token', 'default_channel', 'signing_secret']);

    // A null removes a field: it is no longer set.
    const removed = await pb.api(key, 'PATCH', `/integrations/${id}`, { credentials: { signing_secret: null } });
    expect(removed.body.data.credentials_set).toEqual(['bot_token', 'default_channel']);
    await pb.api(key, 'PATCH', `/integrations/${id}`, { credentials: { signing_secret: SIGNING_SECRET } });

    for (const text of pb.responses) {
      expect(text).not.toContain(BOT_TOKEN);
      expect(text).not.toContain(SIGNING_SECRET);
    }
  });
});

describe('refused credentials', () => {
  it('are worded for people, not as JSON Schema patterns, naming the field', async () => {
    const r = await pb.api(key, 'POST', '/integrations', { provider: 'twilio', credentials: { account_sid: 'AC-not-a-sid', auth_token: 'f'.repeat(32), from_number: '555-0100', extra: 1 } });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual({
      'credentials.account_sid': ['is not a valid Account SID: check it for a typing or copying mistake'],
      'credentials.from_number': ['must be a phone number in E.164 form: + and the country code, digits only (e.g. +15551234567)'],
      'credentials.extra': ['is not a field of this provider'],
    });
    expect(r.text).not.toMatch(/must match|\^AC/);
    const missing = await pb.api(key, 'POST', '/integrations', { provider: 'twilio', credentials: { account_sid: 'AC' + 'a'.repeat(32) } });
    expect(missing.body.errors).toEqual({ 'credentials.auth_token': ['is required'], 'credentials.from_number': ['is required'] });
  });
});

describe('webhook data schemas', () => {
  it('a test event, its delivery with attempts, and inbound events match openapi.yaml', async () => {
    const sub = await pb.api(key, 'POST', '/webhooks/subscriptions', { url: receiverUrl, events: ['integration.*'] });
    expect(sub.status, sub.text).toBe(201);
    conforms('createWebhookSubscription', sub);
    conforms('listEventTypes', await pb.api(key, 'GET', '/events/types'));
    conforms('rotateWebhookSecret', await pb.api(key, 'POST', `/webhooks/subscriptions/${sub.body.data.id}/rotate-secret`));
    const tested = await pb.api(key, 'POST', `/webhooks/subscriptions/${sub.body.data.id}/test`);
    expect(tested.status, tested.text).toBe(200);
    conforms('testWebhookSubscription', tested);
    expect(tested.body.data).toMatchObject({ delivered: true, status_code: 200, response_excerpt: 'thanks', error: null });

    const delivery = await pb.api(key, 'GET', `/webhooks/deliveries/${tested.body.data.delivery_id}`);
    conforms('getWebhookDelivery', delivery);
    expect(delivery.body.data.attempt_log).toHaveLength(1);
    expect(delivery.body.data.attempt_log[0]).toMatchObject({ attempt: 1, status_code: 200, error: null });

    // An event from Slack that Plugboard does not map: stored, then ignored.
    const slack = (await pb.api(key, 'GET', '/integrations?per_page=100')).body.data.find((i: { provider: string }) => i.provider === 'slack');
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev0VIEW', event: { type: 'reaction_added' } });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const posted = await fetch(`${pb.url}/api/v1/webhooks/inbound/slack/${slack.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig }, body });
    expect(posted.status, await posted.text()).toBe(202);
    const events = await pb.waitFor(async () => {
      const r = await pb.api(key, 'GET', '/webhooks/inbound-events');
      return r.body.data.some((e: { status: string }) => e.status !== 'received') && r;
    }, 'the inbound event processed');
    conforms('listInboundEvents', events);
    expect(events.body.data[0]).toMatchObject({ provider: 'slack', provider_event_id: 'Ev0VIEW', status: 'ignored' });
    expect(events.body.data[0]).not.toHaveProperty('body');
  });
});
