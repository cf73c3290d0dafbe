// Issue 8, what a new user hit: 422 messages that say what is allowed (enum values, the leap-second
// rule), a JSON `null` body called what it is, and a bounded `metadata` object.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { loadOpenApiDocument } from '../../runtime/api/app.ts';

let pb: TestPlatform;
let key: string;

beforeAll(async () => {
  // Stripe's verification goes to a closed loopback port: nothing leaves the machine.
  pb = await startTestPlatform({ PLUGBOARD_BASE_URL_STRIPE: 'http://127.0.0.1:9' });
  key = (await pb.tenant('First Run')).key;
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

describe('422 messages', () => {
  it('an enum query parameter lists its allowed values', async () => {
    const r = await pb.api(key, 'GET', '/integrations?status=bogus');
    expect(r.status).toBe(422);
    expect(r.body.errors.status[0]).toMatch(/^must be one of: .*pending_verify.*active/);
    const g = await pb.api(key, 'GET', '/usage?group_by=nope');
    expect(g.body.errors.group_by).toEqual(['must be one of: key, route, status, hour, day']);
  });

  it('a leap second is refused saying that leap seconds are not accepted', async () => {
    const r = await pb.api(key, 'GET', '/usage?from=2016-12-31T23:59:60Z');
    expect(r.status).toBe(422);
    expect(r.body.errors.from[0]).toMatch(/leap seconds \(second 60\) are not accepted/);
    expect(JSON.stringify(r.body)).not.toContain('must match format');
  });

  it('a JSON null (or number, or string) body must be a JSON object, not "not valid JSON"', async () => {
    for (const body of ['null', '1', '"x"']) {
      const r = await pb.api(key, 'POST', '/integrations', body);
      expect(r.status).toBe(422);
      expect(r.body.errors.body).toEqual(['must be a JSON object']);
    }
    const broken = await pb.api(key, 'POST', '/integrations', '{"provider":');
    expect(broken.body.errors.body).toEqual(['is not valid JSON']);
  });
});

describe('metadata size', () => {
  const stripe = { provider: 'stripe', credentials: { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' } };

  it('refuses metadata over 16 KB or 100 keys with 422 naming metadata, on create and on a merging PATCH', async () => {
    const big = await pb.api(key, 'POST', '/integrations', { ...stripe, metadata: { notes: 'x'.repeat(17_000) } });
    expect(big.status).toBe(422);
    expect(big.body.errors.metadata[0]).toMatch(/at most 16 KB/);
    const many = await pb.api(key, 'POST', '/integrations', { ...stripe, metadata: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) });
    expect(many.status).toBe(422);
    expect(Object.keys(many.body.errors)).toEqual(['metadata']);

    const ok = await pb.api(key, 'POST', '/integrations', { ...stripe, metadata: { a: 'x'.repeat(9_000) } });
    expect(ok.status).toBe(201);
    const id = ok.body.data.id;
    // each half fits, the merged object does not
    const merged = await pb.api(key, 'PATCH', `/integrations/${id}`, { metadata: { b: 'y'.repeat(9_000) } });
    expect(merged.status).toBe(422);
    expect(merged.body.errors.metadata[0]).toMatch(/at most 16 KB/);
    const replaced = await pb.api(key, 'PATCH', `/integrations/${id}`, { metadata: { a: null, b: 'y'.repeat(9_000) } });
    expect(replaced.status).toBe(200);
  });
});

describe('the OpenAPI document states 405, 413 and 415', () => {
  it('every operation with a JSON body declares 413 and 415, and the app answers them', async () => {
    const doc = loadOpenApiDocument();
    const withJsonBody: string[] = [];
    for (const [p, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<Record<string, any>>(item)) {
        if (!op?.requestBody?.content?.['application/json']) continue;
        withJsonBody.push(`${method} ${p}`);
        expect(Object.keys(op.responses), `${method} ${p}`).toEqual(expect.arrayContaining(['413', '415']));
      }
    }
    expect(withJsonBody.length).toBeGreaterThanOrEqual(10);
    expect(doc.info.description).toMatch(/405/);
    expect((await pb.api(key, 'POST', '/api-keys', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await pb.api(key, 'PUT', '/integrations', {})).status).toBe(405);
  });
});
