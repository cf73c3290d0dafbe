import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import { startSpecServer, type SpecServer } from './spec-server.ts';
import { loadConnector, hasManifest, expectContract, baseUrlOf, describeResult } from './helpers.ts';

describe.skipIf(!hasManifest('stripe'))('stripe connector vs the official Stripe spec', () => {
  let server: SpecServer;
  beforeAll(async () => {
    server = await startSpecServer('stripe');
  });
  afterAll(() => server?.close());

  it('probe', async () => {
    const c = loadConnector('stripe');
    const engine = new Engine({ env: {} });
    const r = await engine.run(c, 'initiate_payment', { credentials: { secret_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' }, input: { amount: 2000, currency: 'usd', confirm: true, payment_method: 'pm_card_visa', metadata: { order_id: '1001' }, description: 'Order 1001', customer_id: 'cus_NffrFeUfNV2Hib', return_url: 'https://shop.example.com/return', idempotency_key: 'order-1001' }, baseUrl: baseUrlOf(c, server) });
    console.log(describeResult(r, server), JSON.stringify(r), JSON.stringify(server.requests[0]?.responseBody).slice(0, 2000));
  });
});
