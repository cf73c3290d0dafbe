// Xero connector vs Xero's official OpenAPI document (XeroAPI/Xero-OpenAPI xero_accounting.yaml,
// OAS 3.0.0, Accounting API 16.1.0). Every operation requires the xero-tenant-id header; enums
// (Type, Status, CurrencyCode) are judged, so a wrong value fails.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries } from './helpers.ts';

const TENANT = '4f2b9e3a-2a6b-4c1d-8a62-6f2e0c4b7d10';
const credentials = { access_token: 'xero-contract-test-token' };
const connection = { tenant_id: TENANT };
const CONTACT = '3ff6d40c-af9a-40a3-89ce-3c1556a25591';
const INVOICE = '243216c5-369e-4056-ac67-05388f86dc81';

let override: MockResponse | undefined;

describe('xero connector vs the official Xero Accounting spec', () => {
  let server: SpecServer;
  let xero: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('xero', { respond: () => override });
    xero = loadConnector('xero');
    baseUrl = baseUrlOf(xero, server);
  });
  afterAll(() => server?.close());

  it('maps the tenant of GET /connections (userinfo_url) into the connection', async () => {
    expect(xero.auth.spec.userinfo_url).toBe('https://api.xero.com/connections');
    // The answer documented at https://developer.xero.com/documentation/guides/oauth2/tenants/.
    const userinfo = [
      { id: 'e1eede29-f875-4a5d-8470-17f6a29a88b1', authEventId: 'd99ecdfe-391d-43d2-b834-17636ba90e8d', tenantId: '70784a63-d24b-46a9-a4db-0e70a274b056', tenantType: 'PRACTICEMANAGER', tenantName: 'Maple Florists Ltd' },
      { id: '1d3a1c76-1f5c-4e2e-9c0a-6a8b0f0e3c7a', authEventId: 'd99ecdfe-391d-43d2-b834-17636ba90e8d', tenantId: TENANT, tenantType: 'ORGANISATION', tenantName: 'Demo Company (NZ)' },
    ];
    expect(await xero.auth.connection!.evaluate({ access_token: 'x', token_type: 'Bearer', userinfo, callback: {} })).toEqual({ tenant_id: TENANT, tenant_name: 'Demo Company (NZ)' });
    // A refresh answer has no userinfo: nothing is mapped, so the stored tenant is kept.
    expect(await xero.auth.connection!.evaluate({ access_token: 'y', token_type: 'Bearer' })).toEqual({});
  });

  it('create_invoice is a valid createInvoices PUT with the tenant header, decimal amounts and an upper-case currency', async () => {
    server.reset();
    const input = { customer_id: CONTACT, currency: 'jpy', status: 'open', due_date: '2025-07-31', lines: [{ description: 'Consulting', quantity: 3, unit_amount: 15000, account_id: '200', item_id: 'CONS' }] };
    const result = await engine.run(xero, 'create_invoice', { credentials, connection, input, baseUrl });
    const req = expectContract(result, server, 'createInvoices');
    expect(req).toMatchObject({ method: 'PUT', path: '/api.xro/2.0/Invoices' });
    expect(req.headers['xero-tenant-id']).toBe(TENANT);
    expect(req.headers.authorization).toBe('Bearer xero-contract-test-token');
    expect(req.body).toEqual({ Invoices: [{ Type: 'ACCREC', Contact: { ContactID: CONTACT }, DueDate: '2025-07-31', CurrencyCode: 'JPY', Status: 'AUTHORISED', LineAmountTypes: 'Exclusive', LineItems: [{ Description: 'Consulting', Quantity: 3, UnitAmount: 15000, ItemCode: 'CONS', AccountCode: '200' }] }] });
  });

  it('create_customer is a valid createContacts PUT; get_invoice a valid getInvoice', async () => {
    server.reset();
    const created = await engine.run(xero, 'create_customer', { credentials, connection, input: { name: 'Acme Ltd', email: 'billing@acme.example' }, baseUrl });
    expect(expectContract(created, server, 'createContacts').body).toEqual({ Contacts: [{ Name: 'Acme Ltd', EmailAddress: 'billing@acme.example' }] });
    server.reset();
    const read = await engine.run(xero, 'get_invoice', { credentials, connection, input: { invoice_id: INVOICE }, baseUrl });
    expect(expectContract(read, server, 'getInvoice').path).toBe(`/api.xro/2.0/Invoices/${INVOICE}`);
  });

  it('maps a ValidationException to a provider_error with the validation messages', async () => {
    server.reset();
    override = { status: 400, body: { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred', Elements: [{ ValidationErrors: [{ Message: 'Email address must be valid.' }] }] } };
    try {
      const result = await engine.run(xero, 'create_customer', { credentials, connection, input: { name: 'Acme Ltd' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 400, provider_message: 'Email address must be valid.', provider_code: 'ValidationException' });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a wrong invoice field value (Type INVOICE instead of ACCREC) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('xero', (t) => replaceOnce(t, '"Type": "ACCREC",', '"Type": "INVOICE",'));
    const result = await engine.run(broken, 'create_invoice', { credentials, connection, input: { customer_id: CONTACT, currency: 'NZD', lines: [{ unit_amount: 100 }] }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.body.Invoices.0.Type enum');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: without the xero-tenant-id header the request is refused', async () => {
    server.reset();
    const broken = loadEditedManifest('xero', (t) => replaceOnce(t, /(path: \/Organisation\n\s*headers: \{ )xero-tenant-id: "\{\{connection\.tenant_id\}\}", /, '$1'));
    const result = await engine.verify(broken, { credentials, connection, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => v.location), info).toContain('request.header.xero-tenant-id');
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract xero: every capability example, verify and the invoices stream pass against the spec (the command's own run)", async () => {
    const report = await expectConnectorContract('xero');
    const q = 'where=Type%3D%3D%22ACCREC%22&order=UpdatedDateUTC+ASC';
    expect(streamQueries(report, 'invoices')).toEqual({ first: `${q}&page=1`, next: `${q}&page=2`, incremental: `${q}&page=1` });
    // The incremental read sends the cursor as If-Modified-Since (the spec's ifModifiedSince, a date-time).
    expect(report.runs.find((r) => r.capability === 'streams.invoices' && r.example?.includes(': incremental'))?.example).toMatch(/sync\.cursor 2019-03-11T17:53:36\.217Z/);
  });
});
