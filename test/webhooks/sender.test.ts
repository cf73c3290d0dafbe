import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startServer } from '../helpers/http.ts';
import { sendWebhook, deliverWebhook, closeSenderAgents } from '../../runtime/webhooks/sender.ts';
import { generateSecret, createEnvelope, serializeEnvelope } from '../../runtime/webhooks/signing.ts';
import { getEventType } from '../../runtime/webhooks/catalog.ts';
import type { Resolver, UrlPolicy } from '../../runtime/webhooks/url-policy.ts';

// What PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1 means; the caller passes it, the sender does not read env here.
const LOOPBACK_OK: UrlPolicy = { allowHttp: true, allowPrivate: true };
const DEV_STRICT: UrlPolicy = { allowHttp: true, allowPrivate: false };

const oldSecret = generateSecret();
const newSecret = generateSecret();
const verifiers = [new Webhook(oldSecret), new Webhook(newSecret)];
const verifiedBy: string[][] = [];

let server: Awaited<ReturnType<typeof startServer>>;
const big = 'z'.repeat(3 * 1024 * 1024);

beforeAll(async () => {
  server = await startServer((req) => {
    const path = req.url.split('?')[0];
    if (path === '/verify') {
      // The receiver checks with the reference package, as a customer would.
      const ok: string[] = [];
      verifiers.forEach((wh, i) => {
        try {
          wh.verify(req.body, req.headers as Record<string, string>);
          ok.push(i === 0 ? 'old' : 'new');
        } catch { /* not this secret */ }
      });
      verifiedBy.push(ok);
      return ok.length ? { status: 204 } : { status: 401, body: { error: 'bad signature' } };
    }
    if (path === '/fail') return { status: 503, body: 'upstream down: ' + 'é'.repeat(2000) };
    if (path === '/gone') return { status: 410, body: { error: 'subscription removed' } };
    if (path === '/redirect') return { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' }, body: '' };
    if (path === '/slow') return { status: 200, body: 'late', delayMs: 1500 };
    if (path === '/big') return { status: 200, body: big };
    return { status: 404, body: 'no route' };
  });
});

afterAll(async () => {
  await closeSenderAgents();
  await server.close();
});

function eventBody() {
  const info = getEventType('message.delivered')!;
  return serializeEnvelope(createEnvelope({ type: info.type, id: '01j9zc3d5e7f9g1h3j5k7m9n1p', schema_version: info.schema_version, occurred_at: new Date(), tenant_id: '01j9za1b3c5d7e9f1g3h5j7k9m', data: info.sample }));
}

const count = (path: string) => server.seen.filter((r) => r.url.startsWith(path)).length;

describe('sender (loopback receiver)', () => {
  it('delivers a signed event that the standardwebhooks package verifies, with either secret during rotation', async () => {
    const body = eventBody();
    const one = await deliverWebhook({ url: `${server.url}/verify`, webhookId: 'msg_01j9zc3d', body, secrets: [newSecret], policy: LOOPBACK_OK });
    expect(one).toMatchObject({ status: 204, outcome: 'delivered', error: null, response_excerpt: '' });
    expect(one.duration_ms).toBeGreaterThan(0);
    const both = await deliverWebhook({ url: `${server.url}/verify`, webhookId: 'msg_01j9zc3d', body, secrets: [newSecret, oldSecret], policy: LOOPBACK_OK });
    expect(both.outcome).toBe('delivered');
    const onlyOld = await deliverWebhook({ url: `${server.url}/verify`, webhookId: 'msg_01j9zc3d', body, secrets: [oldSecret], policy: LOOPBACK_OK });
    expect(onlyOld.outcome).toBe('delivered');
    expect(verifiedBy).toEqual([['new'], ['old', 'new'], ['old']]);

    const seen = server.seen.filter((r) => r.url === '/verify');
    expect(seen.map((r) => r.headers['webhook-id'])).toEqual(['msg_01j9zc3d', 'msg_01j9zc3d', 'msg_01j9zc3d']);
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(seen[0].headers['user-agent']).toMatch(/^Plugboard-Webhooks\//);
    expect(String(seen[1].headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(JSON.parse(seen[0].body)).toMatchObject({ type: 'message.delivered', schema_version: 1, data: { status: 'delivered' } });
  });

  it('reports a wrong signature as the receiver\'s 401 (retry)', async () => {
    const r = await deliverWebhook({ url: `${server.url}/verify`, webhookId: 'msg_bad', body: eventBody(), secrets: [generateSecret()], policy: LOOPBACK_OK });
    expect(r).toMatchObject({ status: 401, outcome: 'retry', error: 'receiver answered 401' });
    expect(JSON.parse(r.response_excerpt!)).toEqual({ error: 'bad signature' });
  });

  it('records status, a UTF-8-safe 1 KB excerpt and retry for a 5xx', async () => {
    const r = await sendWebhook({ url: `${server.url}/fail`, body: '{}', headers: {}, policy: LOOPBACK_OK });
    expect(r.status).toBe(503);
    expect(r.outcome).toBe('retry');
    expect(r.error).toBe('receiver answered 503');
    expect(r.response_excerpt!.startsWith('upstream down: é')).toBe(true);
    expect(r.response_excerpt!.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(r.response_excerpt!.slice(0, -1))).toBeLessThanOrEqual(1024);
    expect(r.response_excerpt).not.toContain('\ufffd');
  });

  it('marks 410 Gone as disable', async () => {
    const r = await sendWebhook({ url: `${server.url}/gone`, body: '{}', headers: {}, policy: LOOPBACK_OK });
    expect(r).toMatchObject({ status: 410, outcome: 'disable', error: 'receiver answered 410 Gone' });
  });

  it('does not follow redirects', async () => {
    const before = server.seen.length;
    const r = await sendWebhook({ url: `${server.url}/redirect`, body: '{}', headers: {}, policy: LOOPBACK_OK });
    expect(r).toMatchObject({ status: 302, outcome: 'retry' });
    expect(r.error).toMatch(/redirects are not followed; location: http:\/\/127\.0\.0\.1:1\/elsewhere/);
    expect(server.seen.length).toBe(before + 1);
  });

  it('gives up after the timeout', async () => {
    const r = await sendWebhook({ url: `${server.url}/slow`, body: '{}', headers: {}, policy: LOOPBACK_OK, timeoutMs: 200 });
    expect(r).toMatchObject({ status: null, outcome: 'retry', response_excerpt: null, error: 'timeout: no answer within 200 ms' });
    expect(r.duration_ms).toBeGreaterThanOrEqual(190);
    expect(r.duration_ms).toBeLessThan(1400);
  });

  it('reads a large answer only up to the cap', async () => {
    const r = await sendWebhook({ url: `${server.url}/big`, body: '{}', headers: {}, policy: LOOPBACK_OK, maxResponseBytes: 16 * 1024 });
    expect(r.status).toBe(200);
    expect(r.outcome).toBe('delivered');
    expect(r.response_excerpt).toBe('z'.repeat(1024) + '…');
  });

  it('reports connection errors', async () => {
    const r = await sendWebhook({ url: 'http://127.0.0.1:1/h', body: '{}', headers: {}, policy: LOOPBACK_OK, timeoutMs: 2000 });
    expect(r).toMatchObject({ status: null, outcome: 'retry', response_excerpt: null });
    expect(r.error).toMatch(/ECONNREFUSED/);
  });

  it('refuses loopback targets unless the caller allows private targets, before sending anything', async () => {
    const before = server.seen.length;
    const strict = await sendWebhook({ url: `${server.url}/verify`, body: '{}', headers: {}, policy: DEV_STRICT });
    expect(strict).toMatchObject({ status: null, outcome: 'retry' });
    expect(strict.error).toMatch(/loopback address \(127\.0\.0\.1\)/);
    const https = await sendWebhook({ url: `${server.url}/verify`, body: '{}', headers: {}, policy: { allowHttp: false, allowPrivate: false } });
    expect(https.error).toMatch(/must use https/);
    expect(server.seen.length).toBe(before);
  });

  it('checks the addresses a host name resolves to at connect time (DNS rebinding)', async () => {
    const port = new URL(server.url).port;
    const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const before = count('/verify');
    const refused = await sendWebhook({ url: `http://receiver.example.com:${port}/verify`, body: '{}', headers: {}, policy: DEV_STRICT, resolver: toLoopback });
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/resolves to a loopback address \(receiver\.example\.com -> 127\.0\.0\.1\)/);
    expect(count('/verify')).toBe(before);

    const allowed = await deliverWebhook({ url: `http://receiver.example.com:${port}/verify`, webhookId: 'msg_dns', body: eventBody(), secrets: [newSecret], policy: LOOPBACK_OK, resolver: toLoopback });
    expect(allowed).toMatchObject({ status: 204, outcome: 'delivered' });
    expect(server.seen.at(-1)!.headers.host).toBe(`receiver.example.com:${port}`);
  });
});
