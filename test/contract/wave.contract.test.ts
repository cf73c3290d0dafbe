// Wave connector vs recorded/wave.yaml: Wave's GraphQL schema is only available through authenticated
// introspection, so the requests are judged by a fragment recorded from its API reference (pages cited
// in the fragment): one POST /graphql/public per call, the body {query, variables} judged per
// operation, unknown variables or input fields refused. Failures arrive as 200 (errors[] or
// didSucceed false) and are mapped by the manifest's errors.when.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { access_token: 'wave-contract-test-token' };
const BUSINESS = 'QnVzaW5lc3M6YjlkNzk2YzktZTlmMS00ZjZiLWE5ZDQtZTQ4ZGQ0YmQ2MmE0';
const connection = { business_id: BUSINESS };
const CUSTOMER = `${BUSINESS}O0N1c3RvbWVyOjYyNzk0NTcw`;
const PRODUCT = `${BUSINESS}O1Byb2R1Y3Q6NDY1NTE3Mjc=`;

let override: MockResponse | undefined;
const node = (n: number) => ({ id: `inv-${n}`, invoiceNumber: String(n), status: 'SENT', currency: { code: 'USD' }, total: { value: '1.00' }, amountDue: { value: '1.00' }, amountPaid: { value: '0.00' }, items: [], modifiedAt: `2024-01-0${n}T00:00:00.000Z` });
/** Pages of the invoices connection: two invoices on page 1, one on page 2, none after. */
function invoicesPage(page: number): MockResponse {
  const edges = page === 1 ? [{ node: node(1) }, { node: node(2) }] : page === 2 ? [{ node: node(3) }] : [];
  return { status: 200, body: { data: { business: { invoices: { pageInfo: { currentPage: page, totalPages: 2, totalCount: 3 }, edges } } } } };
}

function respond(req: { body?: unknown }): MockResponse | undefined {
  if (override) return override;
  const body = req.body as { query?: string; variables?: { page?: number } } | undefined;
  if (body?.query?.includes('invoices(page:')) return invoicesPage(body.variables?.page ?? 1);
  if (body?.query?.includes('invoiceCreate')) return { status: 200, body: { data: { invoiceCreate: { didSucceed: true, inputErrors: [], invoice: { id: 'inv-9', invoiceNumber: '9', status: 'SAVED', createdAt: '2024-01-09T00:00:00.000Z', total: { value: '1000', currency: { code: 'JPY' } } } } } } };
  return undefined;
}

describe('wave connector vs the recorded Wave GraphQL reference', () => {
  let server: SpecServer;
  let wave: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('wave', { respond: respond as never });
    wave = loadConnector('wave');
    baseUrl = baseUrlOf(wave, server);
  });
  afterAll(() => server?.close());

  it("maps the token response's businessId into the connection", async () => {
    const token = { access_token: 'x', token_type: 'Bearer', expires_in: 7200, refresh_token: 'r', scope: 'invoice:*', userId: 'VXNlcjox', businessId: BUSINESS };
    expect(await wave.auth.connection!.evaluate(token)).toEqual({ business_id: BUSINESS });
  });

  it('create_invoice is a valid invoiceCreate mutation: SAVED for open, decimal unit prices, the business from the connection', async () => {
    server.reset();
    const input = { customer_id: CUSTOMER, currency: 'jpy', status: 'open', due_date: '2024-02-01', lines: [{ item_id: PRODUCT, quantity: 2, unit_amount: 500 }] };
    const result = await engine.run(wave, 'create_invoice', { credentials, connection, input, baseUrl });
    const req = expectContract(result, server, 'graphql');
    expect(req.headers.authorization).toBe('Bearer wave-contract-test-token');
    expect((req.body as { variables: unknown }).variables).toEqual({ input: { businessId: BUSINESS, customerId: CUSTOMER, status: 'SAVED', currency: 'JPY', dueDate: '2024-02-01', items: [{ productId: PRODUCT, quantity: 2, unitPrice: '500' }] } });
    expect(result.ok && result.output).toEqual({ invoice_id: 'inv-9', number: '9', status: 'open', total: 1000, currency: 'jpy', created_at: '2024-01-09T00:00:00.000Z' });
  });

  it('a line without a product is refused before anything is sent (invalid_input)', async () => {
    server.reset();
    const result = await engine.run(wave, 'create_invoice', { credentials, connection, input: { customer_id: CUSTOMER, currency: 'USD', lines: [{ unit_amount: 100 }] }, baseUrl });
    expect(!result.ok && result.error).toMatchObject({ type: 'invalid_input', message: expect.stringMatching(/item_id/) });
    expect(server.requests).toEqual([]);
  });

  it('GraphQL errors[] and didSucceed false in a 200 answer are provider_errors, not retried', async () => {
    for (const body of [
      { data: { customerCreate: null }, errors: [{ message: 'Business not found.', extensions: { code: 'NOT_FOUND' } }] },
      { data: { customerCreate: { didSucceed: false, inputErrors: [{ code: 'INVALID', message: 'Enter a valid email address.', path: ['input', 'email'] }], customer: null } } },
    ]) {
      server.reset();
      override = { status: 200, body };
      try {
        const result = await engine.run(wave, 'create_customer', { credentials, connection, input: { name: 'Santa', email: 'santa@example.com' }, baseUrl });
        const info = describeResult(result, server);
        expect(server.violations, info).toEqual([]);
        expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 200, retryable: false, provider_message: body.errors ? 'Business not found.' : 'Enter a valid email address.', provider_code: body.errors ? 'NOT_FOUND' : 'INVALID' });
        expect(server.requests.length).toBe(1);
      } finally {
        override = undefined;
      }
    }
  });

  it('the invoices stream pages through GraphQL variables (pagination in: body): page 1, 2, 3 in the body, never in the URL', async () => {
    server.reset();
    const pages = [];
    for await (const page of engine.readStream(wave, 'invoices', { credentials, connection, baseUrl, cursor: '2024-01-01T00:00:00.000Z' })) pages.push(page);
    expect(pages.map((p) => p.records.map((r) => r.key))).toEqual([['inv-1', 'inv-2'], ['inv-3'], []]);
    expect(server.violations, describeResult({ ok: true } as never, server)).toEqual([]);
    expect(server.requests.map((r) => r.rawQuery ?? '')).toEqual(['', '', '']);
    expect(server.requests.map((r) => (r.body as { variables: unknown }).variables)).toEqual([1, 2, 3].map((page) => ({ businessId: BUSINESS, page, pageSize: 50, modifiedAtAfter: '2024-01-01T00:00:00.000Z' })));
    expect(pages.at(-1)!.cursor).toBe('2024-01-03T00:00:00.000Z');
  });

  it('NEGATIVE: an input field the GraphQL type does not define (customer -> customerId renamed) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('wave', (t) => replaceOnce(t, '"customerId": input.customer_id,', '"customer": input.customer_id,'));
    const result = await engine.run(broken, 'create_invoice', { credentials, connection, input: { customer_id: CUSTOMER, currency: 'USD', lines: [{ item_id: PRODUCT, unit_amount: 100 }] }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.length, info).toBeGreaterThan(0);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract wave: every capability example, verify and the invoices stream pass against the recorded reference (the command's own run)", async () => {
    await expectConnectorContract('wave');
  });
});
