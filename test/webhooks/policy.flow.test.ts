// Without PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS, subscriptions to loopback, private or plain-http
// targets are refused with a 422 naming the field.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let pb: TestPlatform;
let key: string;

beforeAll(async () => {
  pb = await startTestPlatform({ NODE_ENV: 'production' });
  key = (await pb.tenant('Policy')).key;
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

describe('webhook target policy', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'url'],
    ['https://10.0.0.5/hook', 'url'],
    ['https://[::1]/hook', 'url'],
    ['https://localhost/hook', 'url'],
    ['http://hooks.example.com/in', 'url'],
    ['ftp://example.com/x', 'url'],
    ['https://user:pw@1.1.1.1/x', 'url'],
    ['https://user@1.1.1.1/x', 'url'],
  ])('refuses %s', async (url, field) => {
    const r = await pb.api(key, 'POST', '/webhooks/subscriptions', { url, events: ['payment.*'] });
    expect(r.status).toBe(422);
    expect(r.body.errors[field]).toBeDefined();
  });

  it('refuses REST hooks to private targets, naming target_url, and unknown events', async () => {
    const r = await pb.api(key, 'POST', '/hooks', { target_url: 'http://192.168.1.10/zap', event: 'payment.completed' });
    expect(r.status).toBe(422);
    expect(r.body.errors.target_url).toBeDefined();
    const u = await pb.api(key, 'POST', '/hooks', { target_url: 'https://user:pw@1.1.1.1/x', event: 'payment.completed' });
    expect(u.status).toBe(422);
    expect(u.body.errors.target_url[0]).toMatch(/user name or password/);
    expect(JSON.stringify(u.body)).not.toContain('pw@');
    const e = await pb.api(key, 'POST', '/webhooks/subscriptions', { url: 'https://93.184.216.34/in', events: ['nope.nope'] });
    expect(e.status).toBe(422);
    expect(Object.keys(e.body.errors)[0]).toMatch(/^events/);
  });
});
