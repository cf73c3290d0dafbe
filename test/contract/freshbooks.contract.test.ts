// FreshBooks connector vs recorded/freshbooks.yaml: FreshBooks publishes no OpenAPI document, so the
// requests are judged by a fragment recorded from its API reference (pages cited in the fragment):
// the account in every accounting path, bodies wrapped in the resource's name, integer customerid,
// Money objects {amount: decimal string, code}, unknown fields refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries } from './helpers.ts';

const credentials = { access_token: 'freshbooks-contract-test-token' };
const connection = { account_id: 'xZNQ1X' };
const invoice = { id: 987654, invoice_number: '0000034', customerid: 12345, create_date: '2016-08-10', due_date: '2016-09-09', currency_code: 'JPY', v3_status: 'draft', amount: { amount: '1500', code: 'JPY' } };

let override: MockResponse | undefined;

function respond(_req: unknown, op: { operationId?: string }): MockResponse | undefined {
  if (override) return override;
  return op.operationId === 'createInvoice' || op.operationId === 'getInvoice' ? { status: 200, body: { response: { result: { invoice } } } } : undefined;
}

describe('freshbooks connector vs the recorded FreshBooks API reference', () => {
  let server: SpecServer;
  let fb: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('freshbooks', { respond });
    fb = loadConnector('freshbooks');
    baseUrl = baseUrlOf(fb, server);
  });
  afterAll(() => server?.close());

  it('maps the account of GET /users/me (userinfo_url) into the connection', async () => {
    expect(fb.auth.spec.userinfo_url).toBe('https://api.freshbooks.com/auth/api/v1/users/me');
    const userinfo = { response: { id: 2192788, business_memberships: [{ id: 160, role: 'owner', business: { id: 77128, name: 'ACME Corp', account_id: 'xZNQ1X' } }] } };
    expect(await fb.auth.connection!.evaluate({ access_token: 'x', token_type: 'Bearer', userinfo })).toEqual({ account_id: 'xZNQ1X' });
    expect(await fb.auth.connection!.evaluate({ access_token: 'y', token_type: 'Bearer' })).toEqual({});
  });

  it('create_invoice is a valid createInvoice: integer customerid, unit_cost as decimal Money (zero-decimal yen), due_offset_days', async () => {
    server.reset();
    const input = { customer_id: '12345', currency: 'jpy', issue_date: '2024-02-20', due_date: '2024-03-05', number: 'INV-7', reference: 'PO-1', lines: [{ description: 'Tea', quantity: 3, unit_amount: 500 }] };
    const result = await engine.run(fb, 'create_invoice', { credentials, connection, input, baseUrl });
    const req = expectContract(result, server, 'createInvoice');
    expect(req.path).toBe('/accounting/account/xZNQ1X/invoices/invoices');
    expect(req.body).toEqual({ invoice: { customerid: 12345, create_date: '2024-02-20', due_offset_days: 14, invoice_number: 'INV-7', po_number: 'PO-1', currency_code: 'JPY', lines: [{ type: 0, name: 'Tea', description: 'Tea', qty: 3, unit_cost: { amount: '500', code: 'JPY' } }] } });
    expect(result.ok && result.output).toEqual({ invoice_id: '987654', number: '0000034', status: 'draft', total: 1500, currency: 'jpy', created_at: null });
  });

  it('create_customer is a valid createClient; get_invoice a valid getInvoice with its lines; verify reads /users/me', async () => {
    server.reset();
    const created = await engine.run(fb, 'create_customer', { credentials, connection, input: { name: 'ACME Corp', email: 'ap@acme.example' }, baseUrl });
    expect(expectContract(created, server, 'createClient').body).toEqual({ client: { organization: 'ACME Corp', email: 'ap@acme.example' } });
    server.reset();
    const read = await engine.run(fb, 'get_invoice', { credentials, connection, input: { invoice_id: '987654' }, baseUrl });
    expect(expectContract(read, server, 'getInvoice').rawQuery).toBe('include%5B%5D=lines');
    server.reset();
    expect(expectContract(await engine.verify(fb, { credentials, connection, baseUrl }), server, 'getMe').path).toBe('/auth/api/v1/users/me');
  });

  it('an error list in a 200 answer is a provider_error (errors.when)', async () => {
    server.reset();
    override = { status: 200, body: { response: { errors: [{ errno: 1001, field: 'email', message: 'Email address is invalid.', object: 'client', value: 'x' }] } } };
    try {
      const result = await engine.run(fb, 'create_customer', { credentials, connection, input: { name: 'ACME Corp' }, baseUrl });
      expect(!result.ok && result.error, describeResult(result, server)).toMatchObject({ type: 'provider_error', status: 200, provider_message: 'Email address is invalid.', provider_code: '1001', retryable: false });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a unit cost sent as a number instead of Money is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('freshbooks', (t) => replaceOnce(t, '"unit_cost": { "amount": $minorToDecimal(unit_amount, $$.input.currency), "code": $uppercase($$.input.currency) }', '"unit_cost": unit_amount'));
    const result = await engine.run(broken, 'create_invoice', { credentials, connection, input: { customer_id: '12345', currency: 'USD', issue_date: '2024-02-20', lines: [{ unit_amount: 100 }] }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => v.location), info).toContain('request.body.invoice.lines.0.unit_cost');
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract freshbooks: every capability example, verify and the invoices stream pass against the recorded reference (the command's own run)", async () => {
    const report = await expectConnectorContract('freshbooks');
    expect(streamQueries(report, 'invoices')).toEqual({ first: 'include%5B%5D=lines&per_page=100&page=1', next: 'include%5B%5D=lines&per_page=100&page=2', incremental: undefined });
  });
});
