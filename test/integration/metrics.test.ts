// /metrics stays bounded under requests to unknown paths (route label = OpenAPI template or
// "unmatched", never the raw path) and, with PLUGBOARD_METRICS_TOKEN, answers only its bearer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { readConfig } from '../../runtime/config/env.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
let pb: TestPlatform;
let key: string;

beforeAll(async () => {
  pb = await startTestPlatform({ PLUGBOARD_METRICS_TOKEN: TOKEN });
  const t = await pb.tenant('Metrics Co');
  key = t.key;
  await pb.platform.store.tenants.update(t.id, { rate_limits: { per_hour: 1_000_000, burst: 1_000_000, burst_window_seconds: 60 } });
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

const scrape = async () => {
  const r = await pb.api(undefined, 'GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` });
  expect(r.status).toBe(200);
  return r.text;
};
const series = (text: string) => text.split('\n').filter((l) => l.startsWith('plugboard_http_requests_total{'));

describe('/metrics', () => {
  it('keeps a bounded number of series however many distinct unknown paths are requested', async () => {
    const before = series(await scrape()).length;
    const paths = [
      ...Array.from({ length: 300 }, (_, i) => `/api/v1/no-such-route/${i}`),
      ...Array.from({ length: 300 }, (_, i) => `/random-${i}/x?y=${i}`),
      ...Array.from({ length: 100 }, (_, i) => `/api/v1/integrations/01aaaaaaaaaaaaaaaaaaaaaa${String(i).padStart(2, '0')}`),
      ...Array.from({ length: 100 }, (_, i) => `/docs/assets/missing-${i}.js`),
      ...Array.from({ length: 50 }, (_, i) => `/api/v1/%C0%AF${i}`),
    ];
    for (let i = 0; i < paths.length; i += 50) await Promise.all(paths.slice(i, i + 50).map((p) => pb.api(key, 'GET', p)));
    const after = series(await scrape());
    // unknown paths: one "unmatched" series per status; the integration ids share /integrations/{id}
    expect(after.length - before).toBeLessThanOrEqual(4);
    expect(after.some((l) => l.includes('route="unmatched"'))).toBe(true);
    expect(after.some((l) => l.includes('route="/api/v1/integrations/{id}",status="404"'))).toBe(true);
    expect(after.join('\n')).not.toMatch(/no-such-route|random-|missing-|01aaaaaaaa/);
    const histogramLines = (await scrape()).split('\n').filter((l) => l.startsWith('plugboard_http_request_duration_seconds_bucket{'));
    expect(histogramLines.join('\n')).not.toMatch(/no-such-route|random-/);
  });

  it('labels known routes by their OpenAPI template', async () => {
    await pb.api(key, 'GET', '/integrations?page=1');
    await pb.api(key, 'GET', '/healthz');
    const text = series(await scrape()).join('\n');
    expect(text).toContain('route="/api/v1/integrations",status="200"');
    expect(text).toContain('route="/healthz"');
  });

  it('labels bodies refused before routing (413, 415, not JSON) by the template of their path', async () => {
    expect((await pb.api(key, 'POST', '/integrations', JSON.stringify({ metadata: { pad: 'x'.repeat(1_100_000) } }))).status).toBe(413);
    expect((await pb.api(key, 'POST', '/integrations', 'provider=stripe', { 'content-type': 'text/plain' })).status).toBe(415);
    const notJson = await pb.api(key, 'POST', '/integrations', '{"provider":');
    expect(notJson.status).toBeGreaterThanOrEqual(400);
    expect((await pb.api(key, 'PATCH', '/integrations/01bbbbbbbbbbbbbbbbbbbbbbbb', 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    const text = series(await scrape()).join('\n');
    for (const status of ['413', '415', String(notJson.status)]) expect(text).toContain(`method="POST",route="/api/v1/integrations",status="${status}"`);
    expect(text).toContain('method="PATCH",route="/api/v1/integrations/{id}",status="415"');
    expect(text).not.toMatch(/route="unmatched",status="41[35]"/);
    expect(text).not.toContain('01bbbbbbbb');
  });

  it('requires the bearer token when PLUGBOARD_METRICS_TOKEN is set', async () => {
    const none = await pb.api(undefined, 'GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false });
    expect(none.text).not.toContain('plugboard_http_requests_total');
    expect((await pb.api(undefined, 'GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await pb.api(undefined, 'GET', '/metrics', undefined, { authorization: `Bearer ${key}` })).status).toBe(401);
    expect((await scrape()).length).toBeGreaterThan(0);
  });

  it('refuses a metrics token too short to be a secret', () => {
    expect(() => readConfig({ PLUGBOARD_METRICS_TOKEN: 'short' })).toThrow(/PLUGBOARD_METRICS_TOKEN/);
  });
});
