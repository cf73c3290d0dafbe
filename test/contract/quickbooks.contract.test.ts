// QuickBooks Online connector vs recorded/quickbooks.yaml: Intuit publishes no OpenAPI document (only
// Postman collections), so the requests are judged by a fragment recorded from the Accounting API
// reference (pages cited in the fragment): the company (realmId) in every path, decimal amounts,
// Line[] of SalesItemLineDetail with Amount = UnitPrice x Qty, unknown fields refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

const credentials = { access_token: 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.quickbooks-contract' };
const REALM = '4620816365037572';
const connection = { realm_id: REALM };

let override: MockResponse | undefined;

/** An invoice as the reference shows it (the spec server's generated one has no real currency code). */
const invoice = {
  Invoice: {
    Id: '130', DocNumber: '1037', TxnDate: '2015-07-24', CustomerRef: { value: '67' }, CurrencyRef: { value: 'USD', name: 'United States Dollar' },
    Line: [{ Id: '1', Amount: 50, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '2' }, Qty: 1.5, UnitPrice: 33.33 } }, { Amount: 50, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} }],
    TotalAmt: 50, Balance: 50, MetaData: { CreateTime: '2015-07-24T10:33:39-07:00', LastUpdatedTime: '2015-07-24T10:33:39-07:00' },
  },
  time: '2015-07-24T10:33:39.11-07:00',
};

function respond(_req: unknown, op: { operationId?: string }): MockResponse | undefined {
  if (override) return override;
  return op.operationId === 'createInvoice' || op.operationId === 'readInvoice' ? { status: 200, body: invoice } : undefined;
}

describe('quickbooks connector vs the recorded QuickBooks Online reference', () => {
  let server: SpecServer;
  let qbo: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('quickbooks', { respond });
    qbo = loadConnector('quickbooks');
    baseUrl = baseUrlOf(qbo, server, 'production');
  });
  afterAll(() => server?.close());

  it("maps the callback's realmId into the connection (a refresh keeps it)", async () => {
    const tokenResponse = { access_token: 'eyJ...', refresh_token: 'AB11...', token_type: 'bearer', expires_in: 3600, x_refresh_token_expires_in: 8726400 };
    expect(await qbo.auth.connection!.evaluate({ ...tokenResponse, callback: { realmId: REALM } })).toEqual({ realm_id: REALM });
    expect(await qbo.auth.connection!.evaluate(tokenResponse)).toEqual({});
  });

  it('create_invoice is a valid createInvoice: Amount = UnitPrice x Qty in decimals, the company in the path', async () => {
    server.reset();
    const input = { customer_id: '67', currency: 'usd', number: 'A-1', issue_date: '2025-07-01', reference: 'PO 4471', lines: [{ description: 'Hours', quantity: 1.5, unit_amount: 3333, item_id: '2' }] };
    const result = await engine.run(qbo, 'create_invoice', { credentials, connection, input, baseUrl });
    const req = expectContract(result, server, 'createInvoice');
    expect(req).toMatchObject({ method: 'POST', path: `/v3/company/${REALM}/invoice`, rawQuery: 'minorversion=75' });
    expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
    expect(result.ok && result.output).toEqual({ invoice_id: '130', number: '1037', status: 'open', total: 5000, currency: 'usd', created_at: '2015-07-24T10:33:39-07:00' });
    expect(req.body).toEqual({
      CustomerRef: { value: '67' }, CurrencyRef: { value: 'USD' }, DocNumber: 'A-1', TxnDate: '2025-07-01', CustomerMemo: { value: 'PO 4471' },
      Line: [{ DetailType: 'SalesItemLineDetail', Amount: 50, Description: 'Hours', SalesItemLineDetail: { ItemRef: { value: '2' }, Qty: 1.5, UnitPrice: 33.33 } }],
    });
  });

  it('create_customer is a valid createCustomer; get_invoice a valid readInvoice; verify reads the company info', async () => {
    server.reset();
    const created = await engine.run(qbo, 'create_customer', { credentials, connection, input: { name: 'Cool Cars', email: 'cool@cars.example', currency: 'USD' }, baseUrl });
    expect(expectContract(created, server, 'createCustomer').body).toEqual({ DisplayName: 'Cool Cars', PrimaryEmailAddr: { Address: 'cool@cars.example' }, CurrencyRef: { value: 'USD' } });
    server.reset();
    const read = await engine.run(qbo, 'get_invoice', { credentials, connection, input: { invoice_id: '130' }, baseUrl });
    expect(expectContract(read, server, 'readInvoice').path).toBe(`/v3/company/${REALM}/invoice/130`);
    server.reset();
    const verified = await engine.verify(qbo, { credentials, connection, baseUrl });
    expect(expectContract(verified, server, 'readCompanyInfo').path).toBe(`/v3/company/${REALM}/companyinfo/${REALM}`);
  });

  it('maps a Fault to a provider_error with its Detail and code', async () => {
    server.reset();
    override = { status: 400, body: { Fault: { Error: [{ Message: 'Duplicate Name Exists Error', Detail: 'The name supplied already exists.', code: '6240' }], type: 'ValidationFault' }, time: '2015-07-23T11:09:01.432-07:00' } };
    try {
      const result = await engine.run(qbo, 'create_customer', { credentials, connection, input: { name: 'Cool Cars' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 400, provider_message: 'The name supplied already exists.', provider_code: '6240' });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a line without its Amount is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('quickbooks', (t) => replaceOnce(t, '"Amount": $number($minorToDecimal($round($q * unit_amount)', '"LineAmount": $number($minorToDecimal($round($q * unit_amount)'));
    const result = await engine.run(broken, 'create_invoice', { credentials, connection, input: { customer_id: '67', currency: 'USD', lines: [{ unit_amount: 100, item_id: '2' }] }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => v.location), info).toEqual(expect.arrayContaining(['request.body.Line.0.Amount', 'request.body.Line.0.LineAmount']));
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a page larger than the query language allows (MAXRESULTS 2000) fails the stream', async () => {
    const failed = await failedStreamRuns('quickbooks', (t) => replaceOnce(t, 'STARTPOSITION 1 MAXRESULTS 1000"', 'STARTPOSITION 1 MAXRESULTS 2000"'));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.violations.map((v) => v.location)).toContain('request.query.query');
  });

  it("plugboard contract quickbooks: every capability example, verify and the invoices stream pass against the recorded reference (the command's own run)", async () => {
    const report = await expectConnectorContract('quickbooks');
    const q = (where: string, start: number) => `query=select+*+from+Invoice${where}+ORDERBY+Metadata.LastUpdatedTime+STARTPOSITION+${start}+MAXRESULTS+1000&minorversion=75`;
    // The next page is the same statement with STARTPOSITION advanced; the incremental one filters on the latest change seen.
    expect(streamQueries(report, 'invoices')).toEqual({
      first: q('', 1),
      next: q('', 1001),
      incremental: q('+where+Metadata.LastUpdatedTime+%3E+%272015-07-24T10%3A48%3A12-07%3A00%27', 1),
    });
  });
});
