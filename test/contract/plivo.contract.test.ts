// Plivo connector vs requests recorded from Plivo's public API reference (recorded/plivo.yaml): Plivo
// publishes no OpenAPI document. The recorded Send-a-message body lists every documented argument with
// additionalProperties: false, so an argument Plivo does not know is a violation.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { auth_id: 'MA2025RK4E639VJFZAGV', auth_token: 'ZmVkMmU1ZjQ5ZjE2ZTZiNmY1ZDBmZTdkYjQ2YWQz', from_number: '+14152223333' };
const MESSAGES = `/v1/Account/${credentials.auth_id}/Message/`;

describe('plivo connector vs the recorded Plivo API reference', () => {
  let server: SpecServer;
  let plivo: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('plivo');
    plivo = loadConnector('plivo');
    baseUrl = baseUrlOf(plivo, server);
  });
  afterAll(() => server?.close());

  it('send_sms is a valid SendMessage JSON post with Basic auth', async () => {
    server.reset();
    const result = await engine.run(plivo, 'send_sms', { credentials, input: { to: '+447700900123', body: 'Your code is 123456', from: '+14155550100' }, baseUrl });
    const req = expectContract(result, server, 'SendMessage');
    expect(req.path).toBe(MESSAGES);
    expect(req.contentType).toMatch(/^application\/json/);
    expect(req.body).toEqual({ src: '14155550100', dst: '447700900123', text: 'Your code is 123456' });
    expect(Buffer.from(String(req.headers.authorization).replace(/^Basic /, ''), 'base64').toString()).toBe(`${credentials.auth_id}:${credentials.auth_token}`);
    // The recorded 202 example.
    expect(result.ok && result.output).toEqual({ message_id: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196', status: 'queued', to: '+447700900123', segments: null });
  });

  it('send_sms with media_urls is an MMS (type mms) and a status callback is POSTed', async () => {
    server.reset();
    const input = { to: '+14153336666', body: 'Your receipt', media_urls: ['https://example.com/r.png'], status_callback: 'https://hooks.example.com/plivo' };
    const result = await engine.run(plivo, 'send_sms', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'SendMessage');
    expect(req.body).toEqual({ src: '14152223333', dst: '14153336666', text: 'Your receipt', type: 'mms', media_urls: ['https://example.com/r.png'], url: 'https://hooks.example.com/plivo', method: 'POST' });
  });

  it('verify is a valid GetAccount', async () => {
    server.reset();
    const result = await engine.verify(plivo, { credentials, baseUrl });
    const req = expectContract(result, server, 'GetAccount');
    expect(req.path).toBe(`/v1/Account/${credentials.auth_id}/`);
  });

  it('NEGATIVE: the recipient under another name (to instead of dst) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('plivo', (t) => replaceOnce(t, '"dst": $digits(input.to)', '"to": $digits(input.to)'));
    const result = await engine.run(broken, 'send_sms', { credentials, input: { to: '+14153336666', body: 'hi' }, baseUrl });
    const info = describeResult(result, server);
    const locations = server.violations.map((v) => `${v.location} ${v.message}`).join('\n');
    expect(locations, info).toMatch(/request\.body\.to unknown field "to"/);
    expect(locations, info).toMatch(/missing required field "dst"/);
    expect(result.ok, info).toBe(false);
  });

  it('plugboard contract plivo: every capability example and verify pass against the recording (the command\'s own run)', async () => {
    await expectConnectorContract('plivo');
  });
});
