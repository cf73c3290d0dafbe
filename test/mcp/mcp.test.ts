// The MCP server at /mcp, driven by the SDK's own client (Streamable HTTP) against a platform on
// loopback, with Twilio and SendGrid answered by their official specs on loopback.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';
import { startSpecServer, type SpecServer } from '../contract/spec-server.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/** Messages to this number fail at the provider with a 500. */
const FAILING_TO = '+14155550999';
const TWILIO_TOKEN = 'f'.repeat(32);

let twilio: SpecServer;
let sendgrid: SpecServer;
let pb: TestPlatform;
let tenantA: { id: string; key: string; integration: string };
let tenantB: { id: string; key: string; integration: string };
const clients: Client[] = [];

async function activeIntegration(key: string, provider: string, credentials: Record<string, unknown>, enabled?: string[]): Promise<string> {
  const r = await pb.api(key, 'POST', '/integrations', { provider, credentials, ...(enabled ? { enabled_capabilities: enabled } : {}) });
  expect(r.status, r.text).toBe(201);
  const id = r.body.data.id as string;
  await pb.waitFor(async () => (await pb.api(key, 'GET', `/integrations/${id}`)).body.data.status === 'active', `${provider} active`);
  return id;
}

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'plugboard-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${pb.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  clients.push(client);
  return client;
}

async function keyWith(adminKey: string, scopes: string[]): Promise<string> {
  const r = await pb.api(adminKey, 'POST', '/api-keys', { name: `mcp ${scopes.join(' ')}`, scopes });
  expect(r.status, r.text).toBe(201);
  return r.body.data.key as string;
}

const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();
const sends = () => twilio.requests.filter((r) => r.operationId === 'CreateMessage');

/** A connectors directory with the two shipped manifests the tests use (others may be mid-edit). */
function connectorsDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-mcp-connectors-'));
  for (const name of ['twilio', 'sendgrid']) fs.copyFileSync(path.join(PROJECT_ROOT, 'connectors', `${name}.yaml`), path.join(dir, `${name}.yaml`));
  return dir;
}

beforeAll(async () => {
  twilio = await startSpecServer('twilio', {
    respond: (req) => ((req.body as Record<string, unknown> | undefined)?.['To'] === FAILING_TO ? { status: 500, body: { code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 } } : undefined),
  });
  sendgrid = await startSpecServer('sendgrid');
  pb = await startTestPlatform({
    PLUGBOARD_CONNECTORS_DIR: connectorsDir(),
    PLUGBOARD_BASE_URL_TWILIO: twilio.baseUrlFor('https://api.twilio.com'),
    PLUGBOARD_BASE_URL_SENDGRID: sendgrid.baseUrlFor('https://api.sendgrid.com'),
  });
  const a = await pb.tenant('MCP Twilio Ltd');
  tenantA = { ...a, integration: await activeIntegration(a.key, 'twilio', { account_sid: 'AC' + 'a'.repeat(32), auth_token: TWILIO_TOKEN, from_number: '+15005550006' }, ['send_sms']) };
  const b = await pb.tenant('MCP SendGrid Ltd');
  tenantB = { ...b, integration: await activeIntegration(b.key, 'sendgrid', { api_key: 'SG.abcdefghijkl.mnopqrstuvwxyz0123', from_email: 'sender@example.com' }) };
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await pb?.close();
  await Promise.all([twilio?.close(), sendgrid?.close()]);
});

describe('tools', () => {
  it('lists one tool per capability the tenant can run (enabled on an active integration), with the capability schema, plus the read tools', async () => {
    // Twilio also offers send_whatsapp, which this integration does not enable.
    expect(pb.platform.connectors.get('twilio')!.capabilities.has('send_whatsapp')).toBe(true);
    const client = await connect(tenantA.key);
    expect(client.getServerVersion()?.name).toBe('plugboard');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['list_deliveries', 'list_integrations', 'send_sms']);
    // schemas/capabilities/send_sms.json as the runtime loaded it (the file may change while tests run).
    const capability = loadCapabilitySchemas().get('send_sms')!;
    expect(capability.input).toMatchObject({ type: 'object', required: ['to', 'body'] });
    const sms = tools.find((t) => t.name === 'send_sms')!;
    expect(sms.inputSchema).toEqual(capability.input);
    expect(sms.description).toBe(capability.description);
    expect(sms.annotations?.readOnlyHint).toBe(false);
    for (const name of ['list_deliveries', 'list_integrations']) expect(tools.find((t) => t.name === name)!.annotations?.readOnlyHint).toBe(true);
    // The read tools take the REST query parameters (from schemas/openapi.yaml).
    expect(Object.keys(tools.find((t) => t.name === 'list_deliveries')!.inputSchema.properties ?? {}).sort()).toEqual(['capability', 'integration_id', 'operation_id', 'page', 'per_page', 'status']);
  });

  it('shows another tenant only its own capabilities and integrations', async () => {
    const client = await connect(tenantB.key);
    expect(await names(client)).toEqual(['list_deliveries', 'list_integrations', 'send_email']);
    const listed = (await client.callTool({ name: 'list_integrations', arguments: {} })) as CallToolResult;
    expect(listed.isError).toBeFalsy();
    const data = (listed.structuredContent as { data: Array<{ id: string; provider: string }> }).data;
    expect(data.map((i) => [i.id, i.provider])).toEqual([[tenantB.integration, 'sendgrid']]);
    // The other tenant's capability is no tool here; called anyway it is what POST /operations answers.
    const sms = (await client.callTool({ name: 'send_sms', arguments: { to: '+14155550123', body: 'hi' } })) as CallToolResult;
    expect(sms.isError).toBe(true);
    expect(sms.structuredContent).toMatchObject({ success: false, code: 'no_active_provider' });
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/Unknown tool/);
  });
});

describe('calling a capability', () => {
  it('runs it through the operations service: provider called, delivery recorded, result structured and as text', async () => {
    const client = await connect(tenantA.key);
    const before = sends().length;
    const r = (await client.callTool({ name: 'send_sms', arguments: { to: '+14155550123', body: 'hello from an agent' } })) as CallToolResult;
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    const body = r.structuredContent as { success: boolean; data: { operation_id: string; integration_id: string; provider: string; output: { message_id: string }; deliveries: string[] } };
    expect(body).toMatchObject({ success: true, data: { integration_id: tenantA.integration, provider: 'twilio' } });
    expect(body.data.output.message_id).toEqual(expect.any(String));
    expect(JSON.parse((r.content[0] as { text: string }).text)).toEqual(body);
    expect(sends().length).toBe(before + 1);
    expect((sends().at(-1)!.body as Record<string, unknown>)['Body']).toBe('hello from an agent');
    expect(twilio.violations).toEqual([]);

    const rest = await pb.api(tenantA.key, 'GET', `/deliveries?operation_id=${body.data.operation_id}`);
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.data[0]).toMatchObject({ id: body.data.deliveries[0], status: 'succeeded', capability: 'send_sms', integration_id: tenantA.integration });
    const listed = (await client.callTool({ name: 'list_deliveries', arguments: { operation_id: body.data.operation_id } })) as CallToolResult;
    expect((listed.structuredContent as { data: Array<{ id: string }> }).data.map((d) => d.id)).toEqual(body.data.deliveries);
  });

  it('replays a call with the same idempotency key (in _meta) instead of sending again', async () => {
    const client = await connect(tenantA.key);
    const call = () => client.callTool({ name: 'send_sms', arguments: { to: '+14155550124', body: 'once only' }, _meta: { 'plugboard/idempotency_key': 'agent-retry-1' } }) as Promise<CallToolResult>;
    const before = sends().length;
    const first = await call();
    const second = await call();
    expect(sends().length).toBe(before + 1);
    expect((second.structuredContent as any).data.operation_id).toBe((first.structuredContent as any).data.operation_id);
    expect(second._meta?.['plugboard/idempotent_replayed']).toBe(true);
    const reused = (await client.callTool({ name: 'send_sms', arguments: { to: '+14155550124', body: 'different' }, _meta: { 'plugboard/idempotency_key': 'agent-retry-1' } })) as CallToolResult;
    expect(reused.isError).toBe(true);
    expect((reused.structuredContent as any).errors.idempotency_key).toBeDefined();
  });

  it('answers a provider failure and invalid input as tool errors with the envelope code, no secrets', async () => {
    const client = await connect(tenantA.key);
    const failed = (await client.callTool({ name: 'send_sms', arguments: { to: FAILING_TO, body: 'will fail' } })) as CallToolResult;
    expect(failed.isError).toBe(true);
    expect(failed.structuredContent).toMatchObject({ success: false, code: 'provider_error', message: expect.stringContaining('The operation failed') });
    const text = JSON.stringify(failed);
    expect(text).not.toContain(TWILIO_TOKEN);
    const deliveries = (await pb.api(tenantA.key, 'GET', `/deliveries?operation_id=${(failed.structuredContent as any).operation_id}`)).body.data;
    expect(deliveries[0]).toMatchObject({ status: 'failed', provider_status_code: 500 });

    const invalid = (await client.callTool({ name: 'send_sms', arguments: { to: 'not-a-number', body: 'x' } })) as CallToolResult;
    expect(invalid.isError).toBe(true);
    expect((invalid.structuredContent as any).errors['input.to']).toBeDefined();
    const badMeta = (await client.callTool({ name: 'send_sms', arguments: { to: '+14155550123', body: 'x' }, _meta: { 'plugboard/integration_id': 'nope' } })) as CallToolResult;
    expect(badMeta.isError).toBe(true);
    expect(Object.keys((badMeta.structuredContent as any).errors)).toEqual(['_meta.plugboard/integration_id']);
  });
});

describe('scopes and access', () => {
  it('does not show a read-only key the writing tools, and refuses its call with insufficient_scope', async () => {
    const reader = await connect(await keyWith(tenantA.key, ['read']));
    expect(await names(reader)).toEqual(['list_deliveries', 'list_integrations']);
    const before = sends().length;
    const err = await reader.callTool({ name: 'send_sms', arguments: { to: '+14155550123', body: 'no' } }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).message).toContain('insufficient_scope');
    expect((err as McpError).data).toMatchObject({ code: 'insufficient_scope', required_scope: 'write' });
    expect(sends().length).toBe(before);

    const writer = await connect(await keyWith(tenantA.key, ['write']));
    expect(await names(writer)).toEqual(['send_sms']);
    await expect(writer.callTool({ name: 'list_integrations', arguments: {} })).rejects.toThrow(/insufficient_scope/);
  });

  it('takes OAuth2 client-credential access tokens like API keys', async () => {
    const created = await pb.api(tenantA.key, 'POST', '/oauth/clients', { name: 'agent', scopes: ['write'] });
    expect(created.status, created.text).toBe(201);
    const { client_id, client_secret } = created.body.data;
    const token = await fetch(`${pb.url}/api/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}` });
    const { access_token } = (await token.json()) as { access_token: string };
    expect(await names(await connect(access_token))).toEqual(['send_sms']);
  });

  it('refuses a missing or wrong key with 401, and counts requests as usage of POST /mcp', async () => {
    const anonymous = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${pb.url}/mcp`)))).rejects.toMatchObject({ code: 401, message: expect.stringContaining('unauthenticated') });
    const wrong = await fetch(`${pb.url}/mcp`, { method: 'POST', headers: { authorization: 'Bearer pb_' + 'x'.repeat(32), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    const usage = await pb.api(tenantA.key, 'GET', '/usage?group_by=route');
    expect(usage.body.data.groups.map((g: { route: string }) => g.route)).toContain('POST /mcp');
  });
});

describe('bad JSON-RPC input', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${pb.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${tenantA.key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });

  it('answers each with a JSON-RPC error and a 4xx, never a 500', async () => {
    const cases: Array<[string, Promise<Response>, number, number]> = [
      ['not JSON', post('{"jsonrpc":'), 400, -32700],
      ['not a message', post('{"hello":"world"}'), 400, -32700],
      ['a batch', post('[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]'), 400, -32600],
      ['a primitive', post('42'), 400, -32600],
      ['not JSON content', post('{}', { 'content-type': 'text/plain' }), 415, -32600],
      ['too deep', post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_sms","arguments":${'{"a":'.repeat(60)}1${'}'.repeat(60)}}}`), 400, -32600],
      ['too large', post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1_100_000) } })), 413, -32600],
    ];
    for (const [what, pending, status, code] of cases) {
      const r = await pending;
      expect(r.status, what).toBe(status);
      expect(((await r.json()) as { error: { code: number } }).error.code, what).toBe(code);
    }
    const unknownMethod = await post('{"jsonrpc":"2.0","id":7,"method":"tools/explode"}', { 'mcp-protocol-version': '2025-06-18' });
    expect(unknownMethod.status).toBeLessThan(500);
    expect(((await unknownMethod.json()) as { error: { code: number } }).error.code).toBe(-32601);
    // Counted against the same budgets as the REST API; a browser page from a foreign origin is refused.
    // Stateless: a bare call (no initialize, no protocol header) is answered.
    const listed = await post('{"jsonrpc":"2.0","id":8,"method":"tools/list"}');
    expect(listed.status).toBe(200);
    expect(((await listed.clone().json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name)).toContain('send_sms');
    expect(Number(listed.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
    expect(listed.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
    const foreign = await post('{"jsonrpc":"2.0","id":9,"method":"tools/list"}', { origin: 'http://rebinding.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { data: { code: string } } }).error.data.code).toBe('origin_not_allowed');
    const get = await fetch(`${pb.url}/mcp`, { headers: { authorization: `Bearer ${tenantA.key}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(((await get.json()) as { error: { code: number } }).error.code).toBe(-32000);
  });

  it('trusts no Host header for the Origin check (DNS rebinding): only configured origins, no Origin still fine', async () => {
    const port = Number(new URL(pb.url).port);
    // What a page on a rebound name sends: its own name as Origin and as Host.
    const rebound = await rawPost(port, { origin: `http://rebind.example.test:${port}`, host: `rebind.example.test:${port}` });
    expect(rebound.status).toBe(403);
    expect((JSON.parse(rebound.body) as { error: { data: { code: string } } }).error.data.code).toBe('origin_not_allowed');
    // The server's own address as Origin is not configured either.
    const own = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { origin: new URL(pb.url).origin });
    expect(own.status).toBe(403);
    // A configured CORS origin is allowed; a client without Origin too.
    const origins = pb.platform.config.corsOrigins;
    origins.push('https://studio.example.test');
    try {
      expect((await post('{"jsonrpc":"2.0","id":2,"method":"tools/list"}', { origin: 'https://studio.example.test' })).status).toBe(200);
    } finally {
      origins.pop();
    }
    expect((await rawPost(port, { host: `rebind.example.test:${port}` })).status).toBe(200);
  });

  it('a failing store or rate limiter is a JSON-RPC internal error without internals, never an HTML 500', async () => {
    const detail = 'SQLITE_IOERR: disk I/O error at /var/lib/plugboard/db.sqlite';
    const rpcError = async (r: Response) => {
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      const text = await r.text();
      expect(text).not.toContain('SQLITE');
      return (JSON.parse(text) as { error: { code: number; message: string } }).error;
    };
    const listing = vi.spyOn(pb.platform.routing, 'available').mockRejectedValueOnce(new Error(detail));
    try {
      const r = await post('{"jsonrpc":"2.0","id":3,"method":"tools/list"}');
      expect(await rpcError(r)).toMatchObject({ code: -32603, message: expect.stringMatching(/Internal error\.$/) });
    } finally {
      listing.mockRestore();
    }
    const consume = vi.spyOn(pb.platform.rateLimiter, 'consume').mockRejectedValueOnce(new Error(detail));
    try {
      const r = await post('{"jsonrpc":"2.0","id":4,"method":"tools/list"}');
      expect(r.status).toBe(500);
      expect((await rpcError(r)).code).toBe(-32603);
    } finally {
      consume.mockRestore();
    }
    // authenticatePresented: an unknown key is counted by the auth throttle, which fails here.
    const throttle = vi.spyOn(pb.platform.authThrottle, 'failed').mockRejectedValueOnce(new Error(detail));
    try {
      const r = await post('{"jsonrpc":"2.0","id":5,"method":"tools/list"}', { authorization: 'Bearer pb_not_a_real_key' });
      expect(r.status).toBe(500);
      expect((await rpcError(r)).code).toBe(-32603);
    } finally {
      throttle.mockRestore();
    }
  });
});

/** POST /mcp with headers fetch will not set (Host). */
function rawPost(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/mcp', headers: { authorization: `Bearer ${tenantA.key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
