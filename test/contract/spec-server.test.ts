// Self-test of the contract-test judge (spec-server.ts): it must reject what the spec rejects, or
// the connector contract tests would prove nothing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startSpecServer, type SpecServer } from './spec-server.ts';

const tiny = {
  openapi: '3.0.0',
  info: { title: 'tiny', version: '1' },
  servers: [{ url: 'https://api.example.com/v2' }],
  security: [{ basicAuth: [] }, { key: [], version: [] }],
  components: {
    securitySchemes: {
      basicAuth: { type: 'http', scheme: 'basic' },
      key: { type: 'apiKey', in: 'header', name: 'X-Key' },
      version: { type: 'apiKey', in: 'header', name: 'X-Version' },
    },
  },
  paths: {
    '/things': {
      post: {
        operationId: 'createThing',
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object', additionalProperties: false, required: ['name'],
                properties: { name: { type: 'string' }, count: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } }, metadata: { type: 'object', additionalProperties: { type: 'string' } }, at: { type: 'integer', format: 'unix-time' } },
              },
            },
          },
        },
        responses: { '201': { description: 'ok', content: { 'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^th_' } } } } } } },
      },
    },
    '/things/{id}': {
      get: {
        operationId: 'getThing',
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^th_[a-z0-9]+$' } }, { name: 'expand', in: 'query', schema: { type: 'boolean' } }],
        responses: { '200': { description: 'ok', content: { 'application/json': { example: { id: 'th_1', name: 'from example' }, schema: { type: 'object' } } } } },
      },
    },
    '/deep': {
      post: {
        operationId: 'deep',
        security: [],
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } },
              encoding: { tags: { style: 'deepObject', explode: true } },
            },
          },
        },
        responses: { '200': { description: 'ok' } },
      },
    },
    '/json': {
      post: {
        operationId: 'postJson',
        security: [],
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['n', 'email'], properties: { n: { type: 'integer' }, email: { type: 'string', format: 'email' } } } } } },
        responses: { '202': { description: 'accepted' } },
      },
    },
  },
};
(tiny.components.securitySchemes as Record<string, unknown>).bearer = { type: 'http', scheme: 'bearer' };

const basic = `Basic ${Buffer.from('user:pass').toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('spec-server (the judge of the contract tests)', () => {
  let s: SpecServer;
  beforeAll(async () => {
    s = await startSpecServer(tiny, { respond: (req) => (req.headers['x-test-bad-mock'] ? { body: { id: 'nope' } } : undefined) });
  });
  afterAll(() => s?.close());

  const post = (path: string, body: string, headers: Record<string, string>) => fetch(s.url + path, { method: 'POST', headers, body });
  const locations = () => s.violations.map((v) => v.location);

  it('serves under the spec base path and accepts a valid form post (coercing form strings, nesting qs keys)', async () => {
    s.reset();
    const res = await post('/things', 'name=a&count=3&tags[]=x&tags[]=y&metadata[k]=v&at=1700000000', { ...form, authorization: basic });
    expect(res.status, JSON.stringify(s.violations)).toBe(201);
    expect(s.violations).toEqual([]);
    expect(s.requests[0]).toMatchObject({ operationId: 'createThing', body: { name: 'a', count: '3', tags: ['x', 'y'], metadata: { k: 'v' } } });
    expect(await res.json()).toMatchObject({ id: expect.any(String) });
  });

  it('flags unknown fields, missing required fields and wrong types in a form body', async () => {
    s.reset();
    const res = await post('/things', 'nam=a&count=three', { ...form, authorization: basic });
    expect(res.status).toBe(400);
    expect(locations()).toEqual(expect.arrayContaining(['request.body.nam', 'request.body.name', 'request.body.count']));
  });

  it('form arrays: one repeated-key value is a one-item array (style form), but not under style deepObject', async () => {
    s.reset();
    expect((await post('/things', 'name=a&tags=x', { ...form, authorization: basic })).status).toBe(201);
    expect((await post('/deep', 'tags=x', { ...form })).status).toBe(400);
    expect(locations()).toEqual(['request.body.tags']);
    expect((await post('/deep', 'tags[0]=x', { ...form })).status).toBe(200);
  });

  it('flags a content type the operation does not accept', async () => {
    s.reset();
    await post('/things', JSON.stringify({ name: 'a' }), { 'content-type': 'application/json', authorization: basic });
    expect(locations()).toContain('content-type');
  });

  it('security: alternatives are OR, schemes inside one requirement are AND', async () => {
    s.reset();
    expect((await post('/things', 'name=a', { ...form, 'x-key': 'k', 'x-version': '1' })).status).toBe(201); // 2nd alternative, both headers
    expect((await post('/things', 'name=a', { ...form, 'x-key': 'k' })).status).toBe(401); // 2nd alternative, one header missing
    expect((await post('/things', 'name=a', { ...form, authorization: 'Bearer t' })).status).toBe(401); // wrong scheme
    expect(s.violations.map((v) => v.location)).toEqual(['security', 'security']);
    expect(s.violations[0]!.message).toMatch(/X-Version/);
  });

  it('checks path and query parameters, and answers with the spec example', async () => {
    s.reset();
    const ok = await fetch(`${s.url}/things/th_abc?expand=true`, { headers: { authorization: 'Bearer t' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 'th_1', name: 'from example' });
    await fetch(`${s.url}/things/xx?expand=maybe&extra=1`, { headers: { authorization: 'Bearer t' } });
    expect(locations()).toEqual(expect.arrayContaining(['request.path.id', 'request.query.expand', 'request.query.extra']));
  });

  it('flags unknown routes and methods', async () => {
    s.reset();
    expect((await fetch(`${s.origin}/things`, { method: 'POST', headers: form, body: 'name=a' })).status).toBe(404); // outside the base path
    expect((await fetch(`${s.url}/things`, { method: 'DELETE' })).status).toBe(405);
    expect(locations()).toEqual(['route', 'route']);
  });

  it('does not coerce JSON bodies, and checks formats', async () => {
    s.reset();
    expect((await post('/json', JSON.stringify({ n: 1, email: 'a@example.com' }), { 'content-type': 'application/json' })).status).toBe(202);
    expect(s.violations).toEqual([]);
    await post('/json', JSON.stringify({ n: '1', email: 'not-an-email' }), { 'content-type': 'application/json' });
    expect(locations()).toEqual(expect.arrayContaining(['request.body.n', 'request.body.email']));
  });

  it('records respond() bodies that do not match the spec response schema', async () => {
    s.reset();
    await post('/things', 'name=a', { ...form, authorization: basic, 'x-test-bad-mock': '1' });
    expect(s.violations).toEqual([]);
    expect(s.responseIssues.length).toBeGreaterThan(0);
  });
});
