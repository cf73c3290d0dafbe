// Every route of schemas/openapi.yaml, sent malformed, oversized, deeply nested and out-of-range
// input: each answer is a 4xx envelope (`success: false`; a 422 names the field), never a 500, and
// nothing is logged at error level. The table is built from the OpenAPI document itself, so a new
// route is covered the day it is added.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { loadOpenApiDocument } from '../../runtime/api/app.ts';

const doc = loadOpenApiDocument();
const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;
const FAKE_ID = '01aaaaaaaaaaaaaaaaaaaaaaaa';
const LEAP_SECOND = '2016-12-31T23:59:60Z';

type Schema = Record<string, any>;

/** $ref and allOf resolved far enough to see a schema's type and properties. */
function resolve(schema: Schema | undefined): Schema {
  if (!schema) return {};
  if (schema['$ref']) return resolve(String(schema['$ref']).replace(/^#\//, '').split('/').reduce((o: any, k) => o[k], doc));
  if (schema['allOf']) {
    const parts = (schema['allOf'] as Schema[]).map(resolve);
    return { ...Object.assign({}, ...parts), properties: Object.assign({}, ...parts.map((p) => p['properties'] ?? {})) };
  }
  return schema;
}

interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}

interface Operation {
  method: (typeof METHODS)[number];
  path: string;
  operationId: string;
  params: Param[];
  /** The JSON body schema, when the operation takes one. */
  jsonBody?: Schema;
  form: boolean;
  /** Answers in RFC 6749 §5.2 form (`{error}`), not the envelope. */
  oauth: boolean;
  /** Documented to answer errors as an HTML page (a browser's redirect target), not JSON. */
  html: boolean;
  /** Takes no API key (security: []): sent without one, as an attacker would. */
  open: boolean;
}

const operations: Operation[] = Object.entries<Record<string, any>>(doc.paths).flatMap(([p, item]) =>
  METHODS.filter((m) => item[m]).map((method) => {
    const op = item[method];
    const params = [...(item['parameters'] ?? []), ...(op['parameters'] ?? [])].map((x: Schema) => resolve(x)).map((x: Schema) => ({ ...x, schema: resolve(x['schema']) }) as Param);
    const content = op['requestBody']?.content ?? {};
    return {
      method,
      path: p,
      operationId: op['operationId'],
      params,
      jsonBody: content['application/json'] ? resolve(content['application/json'].schema) : undefined,
      form: !!content['application/x-www-form-urlencoded'],
      oauth: op['operationId'] === 'oauthToken' || op['operationId'] === 'oauthRevoke',
      html: Object.values<Record<string, any>>(op['responses'] ?? {}).some((r) => r['content']?.['text/html']),
      open: Array.isArray(op['security']) && op['security'].length === 0 && op['operationId'] !== 'oauthToken' && op['operationId'] !== 'oauthRevoke',
    };
  }),
);

interface Case {
  what: string;
  path?: Record<string, string>;
  query?: string;
  body?: string;
  contentType?: string;
  /** Further request headers (content-encoding). */
  headers?: Record<string, string>;
  /** The field a 422 must name (prefix match on the errors keys); with `status`, the field that answer names. */
  field?: string;
  /** The exact status expected (body-parser errors: 413, 415, 400). */
  status?: number;
  /** The limit a 413 must state. */
  limit?: string;
}

const NOT_GZIP = '{"this is": "not gzip"}';
/** Bodies the body parsers refuse before any route sees them: each is the client's 4xx, never a 500. */
function unreadableBodies(contentType: string, fields: string): Case[] {
  return [
    { what: 'body: charset=latin1', body: fields, contentType: `${contentType}; charset=latin1`, status: 415, field: 'content-type' },
    { what: 'body: content-encoding br, not brotli', body: NOT_GZIP, contentType, headers: { 'content-encoding': 'br' }, status: 400, field: 'body' },
    { what: 'body: content-encoding gzip, not gzip', body: NOT_GZIP, contentType, headers: { 'content-encoding': 'gzip' }, status: 400, field: 'body' },
    { what: 'body: content-encoding compress (unsupported)', body: fields, contentType, headers: { 'content-encoding': 'compress' }, status: 415, field: 'content-encoding' },
  ];
}

const deep = (field: string, levels: number, open = '{"a":', close = '}') => `{${JSON.stringify(field)}:${open.repeat(levels)}1${close.repeat(levels)}}`;

/** Values of the wrong kind or out of range for one schema; none of them is valid. */
function badValues(schema: Schema): Array<[string, unknown]> {
  const s = resolve(schema);
  const type = Array.isArray(s['type']) ? s['type'].find((t: string) => t !== 'null') : s['type'];
  const out: Array<[string, unknown]> = [];
  if (type === 'string') {
    out.push(['a number for a string', 12345], ['an object for a string', { a: 1 }]);
    if (s['maxLength']) out.push(['a string over maxLength', 'x'.repeat(Number(s['maxLength']) + 1)]);
    if (s['pattern'] || s['enum'] || s['$ref']) out.push(['control characters and a lone surrogate', 'a\u0000b\r\nc\ud800']);
    if (s['enum']) out.push(['a value outside the enum', 'not-in-the-enum']);
    if (s['format'] === 'date-time') out.push(['a leap second', LEAP_SECOND], ['not a date', 'yesterday']);
  } else if (type === 'integer' || type === 'number') {
    out.push(['text for a number', 'many'], ['1e20', 1e20], ['a fraction', 1.5], ['a negative number', -1]);
  } else if (type === 'boolean') {
    out.push(['an object for a boolean', { a: 1 }]);
  } else if (type === 'array') {
    out.push(['a string for an array', 'x']);
    if (s['maxItems']) out.push(['too many items', Array.from({ length: Number(s['maxItems']) + 1 }, (_, i) => `item${i}`)]);
  } else if (type === 'object') {
    out.push(['a string for an object', 'x']);
  }
  if (s['oneOf']) out.push(['none of its alternatives', { a: [1] }]);
  return out;
}

function queryValues(schema: Schema): Array<[string, string]> {
  const s = resolve(schema);
  if (s['type'] === 'integer' || s['type'] === 'number') {
    return [['page-style overflow', '99999999999999999999'], ['Infinity', 'Infinity'], ['NaN', 'NaN'], ['a negative number', '-1'], ['a fraction', '1.5'], ['text', 'abc']];
  }
  const out: Array<[string, string]> = [];
  if (s['maxLength']) out.push(['a value over maxLength', 'x'.repeat(Number(s['maxLength']) + 1)]);
  if (s['format'] === 'date-time') out.push(['a leap second', LEAP_SECOND], ['not a date', '31/12/2016'], ['an out-of-range day', '2021-02-30T00:00:00Z'], ['a 6-digit year', '+275761-01-01T00:00:00Z']);
  if (s['enum']) out.push(['a value outside the enum', 'not-in-the-enum']);
  if (s['pattern']) out.push(['control characters', 'a\u0000b\r\n']);
  return out;
}

/** Every hostile request for one operation. */
function casesFor(op: Operation): Case[] {
  const cases: Case[] = [];
  const bodyMethod = op.method !== 'get';
  for (const p of op.params.filter((x) => x.in === 'path')) {
    for (const [what, v] of [['a malformed id', 'not-an-id'], ['a 300-character value', 'A'.repeat(300)], ['an encoded traversal', '..%2F..%2Fetc%2Fpasswd'], ['an encoded NUL', 'a%00b'], ['a non-UTF-8 escape', '%C0%AF']] as const) {
      cases.push({ what: `path ${p.name}: ${what}`, path: { [p.name]: v } });
    }
  }
  for (const p of op.params.filter((x) => x.in === 'query' && x.schema['type'] !== undefined)) {
    for (const [what, v] of queryValues(p.schema)) cases.push({ what: `query ${p.name}: ${what}`, query: `${p.name}=${encodeURIComponent(v)}`, field: p.name });
    cases.push({ what: `query ${p.name}: repeated`, query: `${p.name}=1&${p.name}=%00`, field: p.name });
  }
  if (bodyMethod) {
    if (op.form) {
      cases.push({ what: 'body: JSON to a form endpoint', body: '{"grant_type":"client_credentials","token":"x"}', contentType: 'application/json' });
      cases.push({ what: 'body: oversized form', body: `token=${'x'.repeat(1_100_000)}`, contentType: 'application/x-www-form-urlencoded' });
      cases.push({ what: 'body: malformed form without its required fields', body: 'token_type_hint=%E0%A4%A&&=', contentType: 'application/x-www-form-urlencoded' });
      cases.push({ what: 'body: oversized form (limit 16 KB)', body: `token=${'x'.repeat(17 * 1024)}`, contentType: 'application/x-www-form-urlencoded', status: 413, limit: '16 KB' });
      cases.push({ what: 'body: 1,001 form parameters', body: Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&'), contentType: 'application/x-www-form-urlencoded', status: 413 });
      cases.push(...unreadableBodies('application/x-www-form-urlencoded', 'grant_type=client_credentials'));
    } else if (op.operationId !== 'receiveInboundWebhook') {
      const fields = Object.keys(op.jsonBody?.['properties'] ?? {});
      const field = fields.find((f) => !['string', 'integer', 'number', 'boolean'].includes(resolve(op.jsonBody!['properties'][f])['type'])) ?? fields[0] ?? 'anything';
      cases.push({ what: 'body: malformed JSON', body: '{"a": [1, 2', field: 'body' });
      cases.push({ what: 'body: text/plain', body: 'provider=stripe', contentType: 'text/plain' });
      cases.push({ what: `body: ${field} nested 10,000 deep`, body: deep(field, 10_000), field });
      cases.push({ what: `body: ${field} nested 1,000 deep`, body: deep(field, 1_000), field });
      cases.push({ what: `body: ${field} arrays nested 200,000 deep`, body: deep(field, 200_000, '[', ']'), field });
      cases.push({ what: `body: ${field} nested 33 deep`, body: deep(field, 32), field });
      cases.push({ what: 'body: oversized (limit 1 MB)', body: JSON.stringify({ [field]: 'y'.repeat(1_100_000) }), status: 413, field: 'body', limit: '1 MB' });
      cases.push(...unreadableBodies('application/json', '{}'));
      if (op.jsonBody) {
        cases.push({ what: 'body: an array instead of an object', body: '[1,2,3]', field: 'body' });
        cases.push({ what: 'body: a JSON string', body: '"hello"', field: 'body' });
        cases.push({ what: 'body: an unknown field', body: JSON.stringify({ zz_not_a_field: 1 }) });
        for (const f of fields) {
          for (const [what, v] of badValues(op.jsonBody['properties'][f])) cases.push({ what: `body ${f}: ${what}`, body: JSON.stringify({ [f]: v }), field: f });
        }
      }
    } else {
      cases.push({ what: 'body: oversized (limit 1 MB)', body: 'y'.repeat(1_100_000), contentType: 'application/json', status: 413, field: 'body', limit: '1 MB' });
      cases.push({ what: 'body: nested 10,000 deep', body: deep('data', 10_000), contentType: 'application/json' });
      cases.push({ what: 'body: malformed JSON', body: '{"a": [1, 2', contentType: 'application/json' });
      cases.push(...unreadableBodies('application/json', '{}').filter((c) => c.headers));
    }
  }
  return cases;
}

let pb: TestPlatform;
let adminKey: string;
/** Real ids per path, so hostile requests get past "not found" to the code that reads their input. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  pb = await startTestPlatform({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1' });
  const t = await pb.tenant('Hostile Input Co');
  adminKey = t.key;
  // This suite sends hundreds of requests: lift the tenant's rate limits.
  await pb.platform.store.tenants.update(t.id, { rate_limits: { per_hour: 1_000_000, burst: 1_000_000, burst_window_seconds: 60 } });
  const made = async (p: string, body: unknown) => {
    const r = await pb.api(adminKey, 'POST', p, body);
    expect(r.status, `${p}: ${r.text}`).toBe(201);
    return r.body.data.id as string;
  };
  ids['/integrations'] = await made('/integrations', { provider: 'stripe', credentials: { secret_key: 'sk_test_Hostile0000000001' } });
  ids['/routing-rules'] = await made('/routing-rules', { capability: 'create_payment_intent', integration_id: ids['/integrations'] }).catch(() => FAKE_ID);
  ids['/webhooks/subscriptions'] = await made('/webhooks/subscriptions', { url: 'http://127.0.0.1:9/hook', events: ['payment.completed'] });
  ids['/api-keys'] = await made('/api-keys', { name: 'spare', scopes: ['read'] });
  ids['/oauth/clients'] = await made('/oauth/clients', { name: 'spare', scopes: ['read'] });
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

function urlFor(op: Operation, c: Case): string {
  const p = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (c.path?.[name] !== undefined) return c.path[name]!;
    if (name === 'capability') return 'send_sms';
    if (name === 'provider') return 'stripe';
    if (name === 'event') return 'payment.completed';
    if (name === 'integration_id') return ids['/integrations']!;
    const owner = Object.keys(ids).find((prefix) => op.path.startsWith(`${prefix}/`));
    return owner ? ids[owner]! : FAKE_ID;
  });
  return `${pb.url}/api/v1${p}${c.query ? `?${c.query}` : ''}`;
}

/** What is wrong with one answer (undefined when it is a proper 4xx). */
function problem(op: Operation, c: Case, status: number, text: string): string | undefined {
  if (status < 400 || status >= 500) return `answered ${status}: ${text.slice(0, 200)}`;
  if (c.status !== undefined && status !== c.status) return `answered ${status}, not ${c.status}: ${text.slice(0, 200)}`;
  if (op.html && !/^\s*[[{]/.test(text)) return undefined;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `answered ${status} with a body that is not JSON: ${text.slice(0, 120)}`;
  }
  const said = String((op.oauth ? body.error_description : body.message) ?? '');
  if (c.limit && !said.includes(`limit ${c.limit}`)) return `the ${status} does not state the ${c.limit} limit: ${text.slice(0, 200)}`;
  if (op.oauth) {
    if (typeof body.error !== 'string' || (c.status !== undefined && body.error !== 'invalid_request')) return `an RFC 6749 invalid_request body was expected: ${text.slice(0, 200)}`;
    if (c.status !== undefined && c.field && !String(body.error_description).startsWith(c.field)) return `the error_description does not name "${c.field}": ${text.slice(0, 200)}`;
    return undefined;
  }
  if (body.success !== false || typeof body.message !== 'string') return `answered ${status} without the error envelope: ${text.slice(0, 200)}`;
  if (status === 422 || c.status !== undefined) {
    const keys = Object.keys(body.errors ?? {});
    if (!keys.length) return `a 422 without errors: ${text.slice(0, 200)}`;
    if (c.field && !keys.some((k) => k === c.field || k.startsWith(`${c.field}.`) || k.startsWith(`${c.field}[`))) return `the 422 does not name "${c.field}": ${text.slice(0, 200)}`;
  }
  return undefined;
}

describe.each(operations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const))('%s', (_name, op) => {
  const cases = casesFor(op);
  it(`answers each of ${cases.length} hostile requests with a 4xx envelope`, async () => {
    const found: string[] = [];
    for (const c of cases) {
      const res = await fetch(urlFor(op, c), {
        method: op.method.toUpperCase(),
        headers: { ...(op.open ? {} : { authorization: `Bearer ${adminKey}` }), ...(c.body !== undefined ? { 'content-type': c.contentType ?? 'application/json' } : {}), ...c.headers },
        body: c.body,
      });
      const why = problem(op, c, res.status, await res.text());
      if (why) found.push(`${c.what}: ${why}`);
    }
    expect(found).toEqual([]);
  });
});

describe('the suite above', () => {
  it('covers every operation of the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.every((op) => op.operationId)).toBe(true);
  });

  it('left nothing at error level in the log (every 500 is logged there with its err)', () => {
    const errors = fs.readFileSync(pb.logFile, 'utf8').split('\n').filter((l) => l.includes('"level":50'));
    expect(errors.map((l) => l.slice(0, 300))).toEqual([]);
  });

  it('(and a 500, when there is one, is logged at error level with its err)', async () => {
    const apiKeys = pb.platform.store.apiKeys;
    const list = apiKeys.list;
    apiKeys.list = async () => {
      throw new Error('deliberate failure for the log test');
    };
    try {
      const r = await fetch(`${pb.url}/api/v1/api-keys`, { headers: { authorization: `Bearer ${adminKey}`, 'x-request-id': 'log-test-500' } });
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ success: false, message: 'Internal server error.' });
    } finally {
      apiKeys.list = list;
    }
    const lines = fs.readFileSync(pb.logFile, 'utf8').split('\n').filter((l) => l.includes('"requestId":"log-test-500"')).map((l) => JSON.parse(l));
    const errors = lines.filter((l) => l.level === 50);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.some((l) => l.err?.message === 'deliberate failure for the log test' && /Error/.test(l.err?.stack))).toBe(true);
    expect(errors.every((l) => l.err)).toBe(true);
  });
});
