// The small endpoints the studio needs (DESIGN §3 manifest tools, §10 "Small endpoints for the
// studio"): POST /manifests/validate, POST /manifests/preview-mapping, GET /routing-rules/resolve and
// GET /usage?group_by=hour|day, over real HTTP; every 200 is checked against its OpenAPI schema.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { OpenAPIBackend } from 'openapi-backend';
import addFormatsModule from 'ajv-formats';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { loadOpenApiDocument } from '../../runtime/api/app.ts';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { USAGE_BUCKETS_MS } from '../../runtime/access/usage.ts';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { startTestPlatform, connectorsDirWith, secondTwilioManifest, type TestPlatform, type ApiResponse } from '../helpers/platform.ts';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: unknown) => void;

let pb: TestPlatform;
let twilio: SpecServer;
let spare: SpecServer;
let openapi: OpenAPIBackend;
let admin: { id: string; key: string };
let readKey: string;

const twilioYaml = fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'twilio.yaml'), 'utf8');
const creds = (digit: string) => ({ account_sid: 'AC' + digit.repeat(32), auth_token: digit.repeat(32), from_number: '+15005550006' });

beforeAll(async () => {
  twilio = await startSpecServer('twilio');
  spare = await startSpecServer('twilio');
  pb = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDirWith({ twilio_secondary: secondTwilioManifest() }),
    PLUGBOARD_BASE_URL_TWILIO: twilio.baseUrlFor('https://api.twilio.com'),
    PLUGBOARD_BASE_URL_TWILIO_SECONDARY: spare.baseUrlFor('https://api.twilio.com'),
  });
  admin = await pb.tenant('Studio Co');
  await pb.platform.store.tenants.update(admin.id, { rate_limits: { per_hour: 1_000_000, burst: 1_000_000, burst_window_seconds: 60 } });
  const r = await pb.api(admin.key, 'POST', '/api-keys', { name: 'viewer', scopes: ['read'] });
  expect(r.status, r.text).toBe(201);
  readKey = r.body.data.key;
  openapi = new OpenAPIBackend({ definition: loadOpenApiDocument() as never, quick: true, validate: true, customizeAjv: (ajv) => (addFormats(ajv as never), ajv) });
  await openapi.init();
}, 60_000);

afterAll(async () => {
  await pb?.close();
  await Promise.all([twilio?.close(), spare?.close()]);
});

/** The response body matches the schema openapi.yaml declares for this operation and status. */
function conforms(operationId: string, r: ApiResponse): void {
  const v = openapi.validateResponse(r.body, operationId, r.status);
  expect(v.errors ?? [], `${operationId} ${r.status}: ${r.text.slice(0, 300)}`).toEqual([]);
}

describe('POST /manifests/validate', () => {
  it('answers a shipped manifest valid, with the connector it defines, to a read-only key', async () => {
    const r = await pb.api(readKey, 'POST', '/manifests/validate', { yaml: twilioYaml, filename: 'twilio.yaml' });
    expect(r.status, r.text).toBe(200);
    conforms('validateManifest', r);
    expect(r.body.data.valid).toBe(true);
    expect(r.body.data.problems).toEqual([]);
    const c = r.body.data.connector;
    expect(c.name).toBe('twilio');
    expect(c.capabilities).toContain('send_sms');
    expect(c.credential_schema.auth_token.sensitive).toBe(true);
    expect(c.credentials_json_schema.required).toEqual(expect.arrayContaining(['account_sid', 'auth_token']));
    // The same as GET /providers says of the installed connector.
    const providers = await pb.api(admin.key, 'GET', '/providers?per_page=100');
    const installed = providers.body.data.find((p: { name: string }) => p.name === 'twilio');
    expect(c.credential_schema).toEqual(installed.credential_schema);
    expect(c.auth_type).toBe(installed.auth_type);
  });

  it('reports what the CLI validator reports, at the same lines (schema, semantics, file name)', async () => {
    const broken = twilioYaml.replace(/^category: .*$/m, 'category: telepathy').replace(/^display_name: .*$/m, 'display_nam: Twilio');
    const r = await pb.api(admin.key, 'POST', '/manifests/validate', { yaml: broken, filename: 'sms.yaml' });
    expect(r.status, r.text).toBe(200);
    conforms('validateManifest', r);
    expect(r.body.data.valid).toBe(false);
    expect(r.body.data.connector).toBeUndefined();
    const cli = loadManifestText(broken, 'sms.yaml', { expectedName: 'sms' }).issues;
    expect(cli.length).toBeGreaterThan(0);
    expect(r.body.data.problems).toEqual(cli.map((i) => ({ line: i.line, column: i.column, path: i.path, message: i.message, rule: i.rule, severity: 'error' })));
    const lineOf = (re: RegExp) => broken.split('\n').findIndex((l) => re.test(l)) + 1;
    expect(r.body.data.problems.find((p: { path: string }) => p.path === 'category')?.line).toBe(lineOf(/^category: telepathy/));
    expect(r.body.data.problems.some((p: { path: string; line: number }) => p.path === 'display_nam' && p.line === lineOf(/^display_nam:/))).toBe(true);
    // The file-name rule applies only when a file name is given.
    const named = await pb.api(admin.key, 'POST', '/manifests/validate', { yaml: twilioYaml, filename: 'sms.yaml' });
    expect(named.body.data.problems.map((p: { rule: string }) => p.rule)).toEqual(['file_name']);
  });

  it('places a YAML syntax error at its line', async () => {
    const lines = twilioYaml.split('\n');
    lines.splice(3, 0, 'oops: [unclosed, list');
    const r = await pb.api(admin.key, 'POST', '/manifests/validate', { yaml: lines.join('\n') });
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.valid).toBe(false);
    const yamlProblems = r.body.data.problems.filter((p: { rule: string }) => p.rule === 'yaml');
    expect(yamlProblems.length).toBeGreaterThan(0);
    expect(yamlProblems[0].line).toBeGreaterThanOrEqual(4);
    expect(yamlProblems[0].line).toBeLessThanOrEqual(5);
  });

  it('answers any text with problems, never a 5xx', async () => {
    const texts = ['', '[]', '- a\n- b', '"just a string"', 'a: *missing', '\u0000\u0001\u0002', '{{{{', ':\n:\n:', 'a: &a [*a, *a]', `x: ${'['.repeat(5000)}`, 'name: x\nname: y', Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('latin1'), 'capabilities:\n  send_sms: 12'];
    for (const yaml of texts) {
      const r = await pb.api(admin.key, 'POST', '/manifests/validate', { yaml });
      expect(r.status, `${JSON.stringify(yaml.slice(0, 40))}: ${r.text.slice(0, 200)}`).toBe(200);
      expect(r.body.data.valid).toBe(false);
      expect(r.body.data.problems.length).toBeGreaterThan(0);
      for (const p of r.body.data.problems) expect(p.line).toBeGreaterThanOrEqual(1);
    }
  });

  it('refuses a manifest over 256 KB with 413 naming yaml, and a body without yaml with 422', async () => {
    const big = await pb.api(admin.key, 'POST', '/manifests/validate', { yaml: `# ${'x'.repeat(256 * 1024)}\n` });
    expect(big.status, big.text).toBe(413);
    expect(Object.keys(big.body.errors)).toEqual(['yaml']);
    const missing = await pb.api(admin.key, 'POST', '/manifests/validate', { manifest: twilioYaml });
    expect(missing.status).toBe(422);
    expect(Object.keys(missing.body.errors)).toEqual(expect.arrayContaining(['yaml']));
    const anonymous = await pb.api(undefined, 'POST', '/manifests/validate', { yaml: twilioYaml });
    expect(anonymous.status).toBe(401);
  });
});

describe('POST /manifests/preview-mapping', () => {
  it('evaluates a mapping with the manifest functions', async () => {
    const r = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', {
      expression: '{ "id": sid, "amount": $minorToDecimal(amount, currency), "tags": items.name }',
      input: { sid: 'SM1', amount: 1234, currency: 'usd', items: [{ name: 'a' }, { name: 'b' }] },
    });
    expect(r.status, r.text).toBe(200);
    conforms('previewMapping', r);
    expect(r.body.data.output).toEqual({ id: 'SM1', amount: '12.34', tags: ['a', 'b'] });
    const none = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression: 'missing.field', input: { a: 1 } });
    expect(none.body.data).toEqual({ output: null });
  });

  it('answers a syntax error with 422 naming expression and where it is', async () => {
    const r = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression: '{\n  "a": b +\n}', input: {} });
    expect(r.status, r.text).toBe(422);
    conforms('previewMapping', r);
    expect(Object.keys(r.body.errors)).toEqual(['expression']);
    expect(r.body.code).toBe('expression_syntax');
    expect(r.body.location.line).toBe(3);
    expect(r.body.errors.expression[0]).toMatch(/^line 3, column \d+: /);
  });

  it('stops an endless recursion within its time or depth limit, and the server stays responsive', async () => {
    for (const expression of ['( $f := function(){ $f() }; $f() )', '( $f := function($n){ $n + $f($n + 1) }; $f(0) )', '$sort([1..90000], function($a, $b){ $a < $b })']) {
      const started = Date.now();
      const r = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression, input: {} });
      expect(r.status, r.text).toBe(422);
      expect(Object.keys(r.body.errors)).toEqual(['expression']);
      expect(['expression_timeout', 'expression_limit']).toContain(r.body.code);
      expect(Date.now() - started).toBeLessThan(3000);
    }
    const alive = await pb.api(admin.key, 'GET', '/providers');
    expect(alive.status).toBe(200);
  });

  it('refuses a huge sequence, a huge $pad and any regular expression (a native pattern cannot be interrupted)', async () => {
    const cases: Array<[string, string]> = [
      ['[1..5000000]', 'expression_limit'],
      ['$pad("", 400000000, "x")', 'expression_limit'],
      ['$match($pad("", 40, "a") & "!", /(a+)+$/)', 'expression_regex_refused'],
      ['$match(s, /[a-z]+(\\d+)/).groups[0]', 'expression_regex_refused'],
    ];
    for (const [expression, code] of cases) {
      const r = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression, input: { s: 'ab12' } });
      expect(r.status, `${expression}: ${r.text}`).toBe(422);
      expect(r.body.code).toBe(code);
      expect(Object.keys(r.body.errors)).toEqual(['expression']);
    }
    // A result past 256 KB is refused too.
    const big = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression: '$pad("", 300000, "x")', input: null });
    expect(big.body.code).toBe('output_too_large');
  });

  it('answers an input over 64 KB or nested too deep with 422 naming input', async () => {
    const big = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression: '$', input: { s: 'x'.repeat(65 * 1024) } });
    expect(big.status, big.text).toBe(422);
    expect(Object.keys(big.body.errors)).toEqual(['input']);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const nested = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression: '$', input: deep });
    expect(nested.status, nested.text).toBe(422);
    expect(Object.keys(nested.body.errors)).toEqual(['input']);
    const long = await pb.api(admin.key, 'POST', '/manifests/preview-mapping', { expression: '1+'.repeat(6000) + '1' });
    expect(long.status).toBe(422);
    expect(Object.keys(long.body.errors)).toEqual(['expression']);
  });

  it('needs the write scope: a read-only key gets 403', async () => {
    const r = await pb.api(readKey, 'POST', '/manifests/preview-mapping', { expression: '1 + 1', input: {} });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('insufficient_scope');
  });
});

describe('GET /routing-rules/resolve', () => {
  async function activeIntegration(key: string, provider: string, credentials: Record<string, unknown>): Promise<string> {
    const r = await pb.api(key, 'POST', '/integrations', { provider, credentials, enabled_capabilities: ['send_sms'] });
    expect(r.status, r.text).toBe(201);
    const id = r.body.data.id as string;
    await pb.waitFor(async () => (await pb.api(key, 'GET', `/integrations/${id}`)).body.data.status === 'active', `${provider} active`);
    return id;
  }

  it('shows the chain the operations would take, as rules and statuses change, and only the tenant\'s own', async () => {
    const t = await pb.tenant('Resolver Inc');
    const other = await pb.tenant('Someone Else');
    const resolve = async (key = t.key) => {
      const r = await pb.api(key, 'GET', '/routing-rules/resolve?capability=send_sms');
      expect(r.status, r.text).toBe(200);
      conforms('resolveRoutingRule', r);
      return r.body.data;
    };
    // Nothing configured: nothing would run.
    expect(await resolve()).toEqual({ capability: 'send_sms', selected: null, chain: [], skipped: [] });

    const theirs = await activeIntegration(other.key, 'twilio', creds('3'));
    const primary = await activeIntegration(t.key, 'twilio', creds('1'));
    const secondary = await activeIntegration(t.key, 'twilio_secondary', creds('2'));

    // No rule: every active integration offering the capability, oldest first.
    let d = await resolve();
    expect(d.selected).toBe(primary);
    expect(d.chain.map((s: { integration_id: string }) => s.integration_id)).toEqual([primary, secondary]);
    expect(d.chain.every((s: { rule_id: unknown }) => s.rule_id === null)).toBe(true);

    // A rule with a fallback, preferring the secondary.
    const rule = await pb.api(t.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: secondary, fallback_integration_id: primary, priority: 10 });
    expect(rule.status, rule.text).toBe(201);
    const conditional = await pb.api(t.key, 'POST', '/routing-rules', { capability: 'send_sms', integration_id: primary, priority: 1, conditions: { to: '+15005550001' } });
    expect(conditional.status, conditional.text).toBe(201);
    d = await resolve();
    expect(d.selected).toBe(secondary);
    expect(d.chain).toEqual([
      { integration_id: secondary, provider: 'twilio_secondary', rule_id: rule.body.data.id, reason: expect.stringContaining('priority 10') },
      { integration_id: primary, provider: 'twilio', rule_id: rule.body.data.id, reason: expect.stringContaining('fallback') },
    ]);
    expect(d.skipped).toEqual([expect.objectContaining({ rule_id: conditional.body.data.id, integration_id: primary, provider: 'twilio', reason: expect.stringContaining('conditions') })]);

    // What resolve selects is what an operation runs.
    const op = await pb.api(t.key, 'POST', '/operations/send_sms', { input: { to: '+15005550009', body: 'hello' } });
    expect(op.status, op.text).toBe(200);
    expect(op.body.data.integration_id).toBe(d.selected);

    // The secondary disabled: the fallback runs, and the skip says why.
    expect((await pb.api(t.key, 'POST', `/integrations/${secondary}/disable`)).status).toBe(200);
    d = await resolve();
    expect(d.selected).toBe(primary);
    expect(d.chain.map((s: { integration_id: string }) => s.integration_id)).toEqual([primary]);
    expect(d.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ integration_id: secondary, reason: expect.stringContaining('inactive') })]));

    // Never another tenant's integration, in either direction.
    const text = JSON.stringify(d);
    expect(text).not.toContain(theirs);
    const theirView = await resolve(other.key);
    expect(theirView.chain.map((s: { integration_id: string }) => s.integration_id)).toEqual([theirs]);
    expect(JSON.stringify(theirView)).not.toContain(primary);
    expect(JSON.stringify(theirView)).not.toContain(secondary);
  }, 60_000);

  it('answers an unknown or missing capability with 422 naming capability', async () => {
    for (const q of ['capability=teleport', 'capability=', '', 'capability=Send-SMS']) {
      const r = await pb.api(admin.key, 'GET', `/routing-rules/resolve?${q}`);
      expect(r.status, `${q}: ${r.text}`).toBe(422);
      expect(Object.keys(r.body.errors)).toEqual(['capability']);
    }
  });
});

describe('GET /usage?group_by=hour|day', () => {
  const hist = (bucket: number, n: number) => USAGE_BUCKETS_MS.concat([0]).map((_, i) => (i === bucket ? n : 0));

  it('gives one bucket per hour with requests, errors and latency percentiles, empty hours included', async () => {
    const t = await pb.tenant('Usage Hours');
    const other = await pb.tenant('Usage Neighbour');
    // USAGE_BUCKETS_MS[3] = 10: 10 requests in (5, 10] ms; [5] = 50: in (20, 50] ms.
    const row = (tenant: string, minute: string, status: number, count: number, bucket: number) => ({ tenant_id: tenant, minute, credential: 'k1', route: '/api/v1/providers', status, count, latency_ms_sum: count * 8, latency_histogram: hist(bucket, count) });
    await pb.platform.store.usage.add([
      row(t.id, '2026-03-01T10:05:00.000Z', 200, 10, 3),
      row(t.id, '2026-03-01T10:59:00.000Z', 500, 10, 5),
      row(t.id, '2026-03-01T12:30:00.000Z', 404, 4, 3),
      row(other.id, '2026-03-01T11:00:00.000Z', 200, 1000, 3),
    ]);
    const r = await pb.api(t.key, 'GET', '/usage?group_by=hour&from=2026-03-01T10:00:00Z&to=2026-03-01T13:00:00Z');
    expect(r.status, r.text).toBe(200);
    conforms('getUsage', r);
    const s = r.body.data.series;
    expect(s.map((b: { start: string }) => b.start)).toEqual(['2026-03-01T10:00:00.000Z', '2026-03-01T11:00:00.000Z', '2026-03-01T12:00:00.000Z']);
    expect(s[0]).toMatchObject({ end: '2026-03-01T11:00:00.000Z', requests: 20, errors: 10, error_rate: 0.5 });
    // Half the requests in (5, 10], half in (20, 50]: the median is at the top of the first bucket, p95 inside the second.
    expect(s[0].latency_ms.p50).toBe(10);
    expect(s[0].latency_ms.p95).toBeGreaterThan(20);
    expect(s[0].latency_ms.p95).toBeLessThanOrEqual(50);
    expect(s[1]).toMatchObject({ requests: 0, errors: 0, error_rate: 0, latency_ms: { avg: null, p50: null, p95: null, p99: null } });
    expect(s[2]).toMatchObject({ requests: 4, errors: 4 });
    expect(r.body.data.totals.requests).toBe(24);
    expect(r.body.data.groups).toBeUndefined();

    const days = await pb.api(t.key, 'GET', '/usage?group_by=day&from=2026-02-28T00:00:00Z&to=2026-03-02T00:00:00Z');
    expect(days.status, days.text).toBe(200);
    conforms('getUsage', days);
    expect(days.body.data.series.map((b: { requests: number }) => b.requests)).toEqual([0, 24]);

    // The existing groupings keep their shape.
    const routes = await pb.api(t.key, 'GET', '/usage?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z');
    expect(routes.status).toBe(200);
    conforms('getUsage', routes);
    expect(routes.body.data.groups).toEqual([expect.objectContaining({ route: '/api/v1/providers', requests: 24 })]);
    expect(routes.body.data.series).toBeUndefined();
  });

  it('answers a bad group_by, from, to, an inverted or too long range with 422 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['group_by=week', 'group_by'],
      ['group_by=hour&from=yesterday', 'from'],
      ['group_by=hour&to=2026-13-01T00:00:00Z', 'to'],
      ['group_by=hour&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
      ['group_by=hour&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
      ['group_by=day&from=2024-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ];
    for (const [q, field] of cases) {
      const r = await pb.api(admin.key, 'GET', `/usage?${q}`);
      expect(r.status, `${q}: ${r.text}`).toBe(422);
      expect(Object.keys(r.body.errors), q).toEqual([field]);
    }
    // At the limit is fine.
    const ok = await pb.api(admin.key, 'GET', '/usage?group_by=hour&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.data.series).toHaveLength(31 * 24);
  });
});
