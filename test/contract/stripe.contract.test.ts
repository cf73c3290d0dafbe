// Stripe connector vs Stripe's official OpenAPI spec (stripe/spec3.yaml, OAS 3.0, 2023-08-16).
// Every request-body schema there has additionalProperties:false, so an unknown form field is rejected.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, minimalSuccessBody, type SpecServer, type CapturedRequest, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

const credentials = { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', publishable_key: 'pk_test_TYooMQauvdEDq54NiTphI7jx' };
const PI = 'pi_3NtUQk2eZvKYlo2C0Xg5yXa1';

/** Set by a test to answer its next requests with this (validated against the spec like any answer). */
let override: MockResponse | undefined;

/** Answers shaped like Stripe's (validated against the spec's response schemas by the server). */
function respond(req: CapturedRequest, op: { operationId?: string }): MockResponse | undefined {
  if (override) return override;
  const body = (req.body ?? {}) as Record<string, any>;
  const base = minimalSuccessBody(op as never);
  switch (op.operationId) {
    case 'PostPaymentIntents':
      return {
        body: {
          ...base, id: PI, object: 'payment_intent', amount: Number(body.amount), currency: body.currency,
          status: body.confirm === 'true' ? 'succeeded' : 'requires_payment_method', client_secret: `${PI}_secret_abc`,
          payment_method_types: ['card'], created: 1695000000, description: body.description ?? null, metadata: body.metadata ?? {},
        },
        headers: { 'request-id': 'req_8QwY2bW7' },
      };
    case 'PostRefunds':
      return { body: { ...base, id: 're_3NtUQk2eZvKYlo2C0b4TrnTq', object: 'refund', amount: Number(body.amount ?? 2000), currency: 'usd', payment_intent: body.payment_intent, status: 'succeeded', created: 1695000100, reason: body.reason ?? null } };
    case 'GetPaymentIntentsIntent':
      return { body: { ...base, id: decodeURIComponent(req.path.split('/').pop()!), object: 'payment_intent', amount: 2000, amount_received: 0, currency: 'usd', status: 'requires_payment_method', payment_method_types: ['card'], created: 1695000000 } };
    default:
      return undefined; // GetBalance: the spec-generated minimal balance
  }
}

describe('stripe connector vs the official Stripe spec', () => {
  let server: SpecServer;
  let stripe: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('stripe', { respond });
    stripe = loadConnector('stripe');
    baseUrl = baseUrlOf(stripe, server);
  });
  afterAll(() => server?.close());

  it('initiate_payment is a valid PostPaymentIntents form post', async () => {
    server.reset();
    const input = {
      amount: 2000, currency: 'usd', description: 'Order 1001', customer_id: 'cus_NffrFeUfNV2Hib', payment_method: 'pm_card_visa',
      confirm: true, return_url: 'https://shop.example.com/return', idempotency_key: 'order-1001', metadata: { order_id: '1001', channel: 'web' },
    };
    const result = await engine.run(stripe, 'initiate_payment', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'PostPaymentIntents');
    expect(req.method).toBe('POST');
    expect(req.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.body).toMatchObject({ amount: "2000", currency: 'usd', customer: 'cus_NffrFeUfNV2Hib', confirm: 'true', metadata: { order_id: '1001', channel: 'web' } });
    expect(req.headers['idempotency-key']).toBe('order-1001');
    expect(req.headers.authorization).toBe(`Bearer ${credentials.secret_key}`);
    expect(result.ok && result.output).toMatchObject({ payment_id: PI, status: 'succeeded', amount: 2000, currency: 'usd', provider_status: 'succeeded' });
  });

  it('initiate_payment with only the required input is valid too', async () => {
    server.reset();
    const result = await engine.run(stripe, 'initiate_payment', { credentials: { secret_key: credentials.secret_key }, input: { amount: 50, currency: 'eur' }, baseUrl });
    const req = expectContract(result, server, 'PostPaymentIntents');
    expect(req.rawBody).toBe('amount=50&currency=eur');
    expect(result.ok && result.output).toMatchObject({ status: 'pending', provider_status: 'requires_payment_method' });
  });

  it('process_refund is a valid PostRefunds form post', async () => {
    server.reset();
    const input = { payment_id: PI, amount: 500, reason: 'requested_by_customer', idempotency_key: 'refund-1001', metadata: { ticket: 'T-77' } };
    const result = await engine.run(stripe, 'process_refund', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'PostRefunds');
    expect(req.body).toMatchObject({ payment_intent: PI, amount: '500', reason: 'requested_by_customer', metadata: { ticket: 'T-77' } });
    expect(result.ok && result.output).toMatchObject({ refund_id: 're_3NtUQk2eZvKYlo2C0b4TrnTq', payment_id: PI, status: 'succeeded', amount: 500, currency: 'usd' });
  });

  it('verify_payment is a valid GetPaymentIntentsIntent (no body, no unknown query)', async () => {
    server.reset();
    const result = await engine.run(stripe, 'verify_payment', { credentials, input: { payment_id: PI }, baseUrl });
    const req = expectContract(result, server, 'GetPaymentIntentsIntent');
    expect(req.path).toBe(`/v1/payment_intents/${PI}`);
    expect(req.rawBody).toBe('');
    expect(result.ok && result.output).toMatchObject({ payment_id: PI, status: 'pending', paid: false, amount: 2000, amount_received: 0 });
  });

  it('verify is a valid GetBalance', async () => {
    server.reset();
    const result = await engine.verify(stripe, { credentials, baseUrl });
    expectContract(result, server, 'GetBalance');
  });

  it("maps the spec's error answer (default response, schema `error`) to a provider_error", async () => {
    server.reset();
    override = { status: 402, body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', param: '' } } };
    try {
      const result = await engine.run(stripe, 'initiate_payment', { credentials, input: { amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(server.responseIssues, info).toEqual([]);
      expect(result.ok, info).toBe(false);
      expect(!result.ok && result.error).toMatchObject({ type: 'provider_error', status: 402, provider_message: 'Your card was declined.', provider_code: 'generic_decline', retryable: false });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a body field the spec does not define (customer -> customer_id) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('stripe', (t) => replaceOnce(t, '"customer": input.customer_id', '"customer_id": input.customer_id'));
    const result = await engine.run(broken, 'initiate_payment', { credentials, input: { amount: 2000, currency: 'usd', customer_id: 'cus_NffrFeUfNV2Hib' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => v.location), info).toContain('request.body.customer_id');
    expect(server.violations.find((v) => v.location === 'request.body.customer_id')?.message, info).toMatch(/unknown field "customer_id"/);
    expect(result.ok, info).toBe(false);
    expect(!result.ok && result.error.status).toBe(400);
  });
  it('plugboard contract stripe: every capability example, verify and stream pass against the spec (the command\'s own run)', async () => {
    const report = await expectConnectorContract('stripe');
    // GetCharges: limit, then starting_after = the last charge's id, and created[gte] in Unix seconds.
    expect(streamQueries(report, 'charges')).toEqual({ first: 'limit=100', next: 'limit=100&starting_after=ch_3MmlLrLkdIwHu7ix0snN0B15', incremental: 'created%5Bgte%5D=1679090539&limit=100' });
    expect(streamQueries(report, 'payment_intents')).toEqual({ first: 'limit=100', next: 'limit=100&starting_after=pi_3MtwBwLkdIwHu7ix28a3tqPa', incremental: 'created%5Bgte%5D=1680800504&limit=100' });
  });

  it('NEGATIVE: a stream page parameter the spec does not define (startingAfter) fails the stream\'s follow-up run', async () => {
    // The charges stream's (the first of the two streams with this pagination line).
    const failed = await failedStreamRuns('stripe', (t) => replaceOnce(t, /(param: )starting_after(, page_size: 100, page_size_param: limit \}\n    schedule: 15 minutes\n    examples:\n      - name: documented list page, has_more true\n        source: https:\/\/docs\.stripe\.com\/api\/charges)/, '$1startingAfter$2'));
    expect(failed.map((r) => `${r.capability} ${r.example}`)).toEqual(['streams.charges documented list page, has_more true: next page']);
    expect(failed[0]!.violations.map((v) => v.location)).toEqual(['request.query.startingAfter']);
  });

  it('NEGATIVE: a mapping giving an invalid payment (status outside the model) fails the first page', async () => {
    const failed = await failedStreamRuns('stripe', (t) => replaceOnce(t, '"status": refunded ? "refunded" : (status = "succeeded" and captured = false) ? "requires_capture" : status,', '"status": "paid",'));
    // No valid record: no cursor either, so the incremental request cannot be built.
    expect(failed.map((r) => r.example)).toEqual(['documented list page, has_more true: first page', 'documented list page, has_more true: incremental']);
    expect(failed[0]!.problems.join('\n')).toMatch(/record ch_3MmlLrLkdIwHu7ix0snN0B15 is not a valid payment: .*status/);
  });
});
