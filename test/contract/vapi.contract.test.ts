// Vapi connector vs Vapi's official OpenAPI spec (vapi/openapi.json, OAS 3.0.0). Ajv rejects the spec as
// published (duplicate enum items, an empty enum): the contract server dedupes and drops them on its
// in-memory copy (listed in server.fixups). Compiling the POST /call validators takes ~40 s of CPU
// (minutes on a busy machine): the positive and negative requests share ONE server, warmed up once in
// beforeAll; the command's own run (`plugboard contract vapi`, required of every connector's test)
// starts its own server and compiles once more. CreateCallDTO sets no additionalProperties and requires
// nothing, so the negative test sends a wrongly typed field.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const SLOW = 600_000;
const credentials = { api_key: '0b2c4d6e-8f10-4a12-b314-c516d718e920', assistant_id: '5b0a4a08-133c-4146-9315-0984f8c6be80', phone_number_id: '0a3f0b7e-4e2c-4a5b-9c8d-1e2f3a4b5c6d' };
const CALL = { id: '9d2f7c5e-1b3a-4c6d-8e9f-0a1b2c3d4e5f', orgId: '7e6d5c4b-3a29-4180-97f6-e5d4c3b2a190', createdAt: '2024-09-12T15:04:05.000Z', updatedAt: '2024-09-12T15:04:05.000Z', type: 'outboundPhoneCall', status: 'queued' };

let answer: MockResponse | undefined;

describe('vapi connector vs the official Vapi spec', () => {
  let server: SpecServer;
  let vapi: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('vapi', { respond: () => answer });
    vapi = loadConnector('vapi');
    baseUrl = baseUrlOf(vapi, server);
    // Compile the POST /call request and response validators once, outside the engine's 30 s timeout.
    answer = { status: 201, body: { ...CALL, customer: { number: '+14155550123' } } };
    const warm = await fetch(`${server.url}/call`, { method: 'POST', headers: { authorization: 'Bearer warm-up', 'content-type': 'application/json' }, body: JSON.stringify({ customer: { number: '+14155550123' } }) });
    answer = undefined;
    expect(warm.status).toBe(201);
  }, SLOW);
  afterAll(() => server?.close());

  it('the spec needed its enum fix-ups to compile', () => {
    expect(server.fixups.join('\n')).toMatch(/enum\(s\) with duplicate or no items fixed/);
  });

  it('start_call is a valid CallController_create with Bearer auth (defaults from the integration)', async () => {
    server.reset();
    answer = { status: 201, body: { ...CALL, customer: { number: '+14155550123' } } };
    const result = await engine.run(vapi, 'start_call', { credentials, input: { to: '+14155550123', customer_name: 'Ana López' }, baseUrl });
    answer = undefined;
    const req = expectContract(result, server, 'CallController_create');
    expect(req.headers.authorization).toBe(`Bearer ${credentials.api_key}`);
    expect(req.body).toEqual({ assistantId: credentials.assistant_id, phoneNumberId: credentials.phone_number_id, customer: { number: '+14155550123', name: 'Ana López' } });
    expect(result.ok && result.output).toEqual({ call_id: CALL.id, status: 'queued', to: '+14155550123', provider_status: 'queued' });
  }, SLOW);

  it('start_call without an assistant (none given, no default) is refused before anything is sent', async () => {
    server.reset();
    const result = await engine.run(vapi, 'start_call', { credentials: { api_key: credentials.api_key, phone_number_id: credentials.phone_number_id }, input: { to: '+14155550123' }, baseUrl });
    expect(!result.ok && result.error.type).toBe('invalid_input');
    expect(server.requests).toEqual([]);
  });

  it('NEGATIVE: the customer number sent as a bare string (customer must be an object) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('vapi', (t) => replaceOnce(t, '"customer": { "number": input.to, "name": input.customer_name }', '"customer": input.to'));
    const result = await engine.run(broken, 'start_call', { credentials, input: { to: '+14155550123' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => v.location), info).toContain('request.body.customer');
    expect(result.ok, info).toBe(false);
  }, SLOW);

  it('verify is a valid PhoneNumberController_findAll (limit=1)', async () => {
    server.reset();
    const verified = await engine.verify(vapi, { credentials, baseUrl });
    expectContract(verified, server, 'PhoneNumberController_findAll');
    expect(server.requests[0]!.rawQuery).toBe('limit=1');
  }, SLOW);

  it('plugboard contract vapi: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    await expectConnectorContract('vapi');
  }, SLOW);
});
