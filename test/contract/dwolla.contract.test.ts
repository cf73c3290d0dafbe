// Dwolla connector vs Dwolla's official spec (dwolla/openapi.yml, OAS 3.1.0). Fix-ups on the in-memory
// copy: the POST /transfers remittance patterns Ajv cannot compile are removed (so the transfer body is
// validated), and the `basicAuth` scheme POST /token requires but the spec never defines is added from
// the token page (recorded/dwolla-token-auth.yaml). The transfer body does not set
// additionalProperties, so the negative test renames a required field (amount.value).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { client_id: 'fjDQqX3AtbK6z0QhOnAhTvYZTnJrm8UQ1hSeCFFiRfdoTCGUBv', client_secret: 'xQiPfX4kSf6fgPGMLwSNl7k1aRe7bTCQbdV3nHJj1yrArNzbIy', destination_funding_source: '9c7f8d57-cd45-4e7a-bf7a-914dbd6131db' };
const SOURCE = '707177c3-bf15-4e7e-b37c-55c3898d9bf4';
const TRANSFER = '15c6bcce-46f7-e811-8112-e8dd3bececa8';

/** Answers the transfer requests (the token request gets the spec's own token). */
function respond(req: { path: string }): MockResponse | undefined {
  if (req.path === '/transfers') return { status: 201, headers: { location: `https://api-sandbox.dwolla.com/transfers/${TRANSFER}` } };
  return undefined;
}

describe('dwolla connector vs the official Dwolla spec', () => {
  let server: SpecServer;
  let dwolla: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('dwolla', { respond, tokenPaths: ['/token'] });
    dwolla = loadConnector('dwolla');
    baseUrl = baseUrlOf(dwolla, server, 'sandbox');
  }, 60_000);
  afterAll(() => server?.close());

  it('initiate_payment: createApplicationAccessToken (Basic), then a valid initiateTransfer with sandbox funding-source links', async () => {
    server.reset();
    const input = { amount: 1234, currency: 'usd', payment_method: SOURCE, idempotency_key: 'order-1001', metadata: { order_id: '1001' } };
    const result = await engine.run(dwolla, 'initiate_payment', { credentials, input, baseUrl, integration: { id: 'int_dwolla_1', environment: 'sandbox' } });
    const info = describeResult(result, server);
    expectContract(result, server);
    expect(server.requests.map((r) => r.operationId), info).toEqual(['createApplicationAccessToken', 'initiateTransfer']);
    const token = server.requests[0]!;
    expect(token.body).toEqual({ grant_type: 'client_credentials' });
    expect(Buffer.from(String(token.headers.authorization).replace(/^Basic /, ''), 'base64').toString()).toBe(`${credentials.client_id}:${credentials.client_secret}`);
    const req = server.requests[1]!;
    expect(req.headers.accept).toBe('application/vnd.dwolla.v1.hal+json');
    expect(req.headers['idempotency-key']).toBe('order-1001');
    expect(req.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(req.body).toEqual({
      _links: { source: { href: `https://api-sandbox.dwolla.com/funding-sources/${SOURCE}` }, destination: { href: `https://api-sandbox.dwolla.com/funding-sources/${credentials.destination_funding_source}` } },
      amount: { currency: 'USD', value: '12.34' },
      metadata: { order_id: '1001' },
    });
    expect(result.ok && result.output).toEqual({ payment_id: TRANSFER, status: 'processing', amount: 1234, currency: 'usd', provider_status: 'pending' });
  });

  it('initiate_payment refuses another currency, and a missing source, before anything is sent', async () => {
    server.reset();
    const eur = await engine.run(dwolla, 'initiate_payment', { credentials, input: { amount: 100, currency: 'eur', payment_method: SOURCE }, baseUrl });
    expect(!eur.ok && eur.error).toMatchObject({ type: 'invalid_input', message: 'Dwolla transfers are in usd only' });
    const noSource = await engine.run(dwolla, 'initiate_payment', { credentials, input: { amount: 100, currency: 'usd' }, baseUrl });
    expect(!noSource.ok && noSource.error.type).toBe('invalid_input');
    expect(server.requests.filter((r) => r.path === '/transfers')).toEqual([]);
  });

  it('verify_payment is a valid getTransfer', async () => {
    server.reset();
    const result = await engine.run(dwolla, 'verify_payment', { credentials, input: { payment_id: TRANSFER }, baseUrl, integration: { id: 'int_dwolla_1' } });
    expectContract(result, server);
    const req = server.requests[server.requests.length - 1]!;
    expect(req.operationId).toBe('getTransfer');
    expect(req.path).toBe(`/transfers/${TRANSFER}`);
    // Mapped from the spec's example transfer (status pending, 42.00 USD).
    expect(result.ok && result.output).toMatchObject({ payment_id: TRANSFER, status: 'processing', paid: false, amount: 4200, currency: 'usd' });
  });

  it('NEGATIVE: the amount\'s value under another name is a violation of initiateTransfer', async () => {
    server.reset();
    const broken = loadEditedManifest('dwolla', (t) => replaceOnce(t, '"value": $minorToDecimal(input.amount, "usd")', '"amount": $minorToDecimal(input.amount, "usd")'));
    const result = await engine.run(broken, 'initiate_payment', { credentials, input: { amount: 100, currency: 'usd', payment_method: SOURCE }, baseUrl, integration: { id: 'int_dwolla_2' } });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.amount.value')?.message, info).toMatch(/missing required field "value"/);
    expect(result.ok, info).toBe(false);
  });

  it('plugboard contract dwolla: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    await expectConnectorContract('dwolla');
  }, 90_000);
});
