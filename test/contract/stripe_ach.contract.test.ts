// stripe_ach connector (ACH Direct Debit: PaymentIntents limited to us_bank_account) vs Stripe's official
// OpenAPI spec (stripe/spec3.yaml), loaded by openapi-backend in quick mode like the stripe connector's
// test. Every request-body schema there has additionalProperties: false, so an unknown form field is a
// violation.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, minimalSuccessBody, type SpecServer, type CapturedRequest } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' };
const PI = 'pi_3OUjRt2eZvKYlo2C1FnVkgJE';

/** PaymentIntents shaped like Stripe's, built from the request (validated against the spec's response schema by the server). */
function respond(req: CapturedRequest, op: { operationId?: string }) {
  const body = (req.body ?? {}) as Record<string, any>;
  const base = minimalSuccessBody(op as never);
  if (op.operationId === 'PostPaymentIntents') {
    return { body: { ...base, id: PI, object: 'payment_intent', amount: Number(body.amount), currency: body.currency, status: 'requires_payment_method', client_secret: `${PI}_secret_abc`, payment_method_types: body.payment_method_types, created: 1704844800, metadata: body.metadata ?? {} } };
  }
  if (op.operationId === 'GetPaymentIntentsIntent') {
    return { body: { ...base, id: PI, object: 'payment_intent', amount: 1099, amount_received: 1099, currency: 'usd', status: 'succeeded', payment_method_types: ['us_bank_account'], created: 1704844800 } };
  }
  return undefined;
}

describe('stripe_ach connector vs the official Stripe spec', () => {
  let server: SpecServer;
  let ach: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('stripe_ach', { respond });
    ach = loadConnector('stripe_ach');
    baseUrl = baseUrlOf(ach, server);
  }, 60_000);
  afterAll(() => server?.close());

  it('initiate_payment is a valid PostPaymentIntents limited to us_bank_account', async () => {
    server.reset();
    const input = { amount: 1099, currency: 'usd', customer_id: 'cus_NffrFeUfNV2Hib', description: 'Invoice 2024-001', idempotency_key: 'invoice-2024-001', metadata: { invoice: '2024-001' } };
    const result = await engine.run(ach, 'initiate_payment', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'PostPaymentIntents');
    expect(req.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.rawBody).toContain('payment_method_types%5B0%5D=us_bank_account');
    expect(req.body).toEqual({ amount: '1099', currency: 'usd', payment_method_types: ['us_bank_account'], description: 'Invoice 2024-001', customer: 'cus_NffrFeUfNV2Hib', metadata: { invoice: '2024-001' } });
    expect(req.headers['idempotency-key']).toBe('invoice-2024-001');
    expect(req.headers.authorization).toBe(`Bearer ${credentials.secret_key}`);
    expect(result.ok && result.output).toEqual({ payment_id: PI, status: 'pending', amount: 1099, currency: 'usd', client_secret: `${PI}_secret_abc`, provider_status: 'requires_payment_method' });
  });

  it('initiate_payment refuses a currency other than usd before anything is sent', async () => {
    server.reset();
    const result = await engine.run(ach, 'initiate_payment', { credentials, input: { amount: 1099, currency: 'eur' }, baseUrl });
    expect(!result.ok && result.error).toMatchObject({ type: 'invalid_input', message: 'ACH Direct Debit charges are in usd only' });
    expect(server.requests).toEqual([]);
  });

  it('verify_payment is a valid GetPaymentIntentsIntent', async () => {
    server.reset();
    const result = await engine.run(ach, 'verify_payment', { credentials, input: { payment_id: PI }, baseUrl });
    const req = expectContract(result, server, 'GetPaymentIntentsIntent');
    expect(req.path).toBe(`/v1/payment_intents/${PI}`);
    expect(result.ok && result.output).toMatchObject({ payment_id: PI, status: 'succeeded', paid: true, amount_received: 1099 });
  });

  it('NEGATIVE: a body field the spec does not define (payment_method_type) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('stripe_ach', (t) => replaceOnce(t, '"payment_method_types": ["us_bank_account"]', '"payment_method_type": ["us_bank_account"]'));
    const result = await engine.run(broken, 'initiate_payment', { credentials, input: { amount: 1099, currency: 'usd' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.payment_method_type')?.message, info).toMatch(/unknown field "payment_method_type"/);
    expect(result.ok, info).toBe(false);
  });

  it('plugboard contract stripe_ach: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    await expectConnectorContract('stripe_ach');
  }, 90_000);
});
