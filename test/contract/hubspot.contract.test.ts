// HubSpot connector vs recorded/hubspot.yaml: HubSpot publishes no spec licensed for use, so the
// requests are judged by an OpenAPI fragment recorded from its public API reference (pages cited in
// the fragment). The fragment refuses unknown top-level keys and non-string property values.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';
import { inStream } from './stream-edits.ts';

const credentials = { access_token: 'CKX8zPjqMRIHAAEAQAAAARiO1ooBIIGYBCj8AjIUaW9uLWNvbnRyYWN0LXRlc3Q' };
const contact = (id: string, properties: Record<string, string>): MockResponse => ({
  status: 201,
  body: { id, properties: { hs_object_id: id, ...properties }, createdAt: '2024-05-02T09:12:45.123Z', updatedAt: '2024-05-02T09:12:45.123Z', archived: false },
});

let override: MockResponse | undefined;

describe('hubspot connector vs the recorded HubSpot CRM v3 reference', () => {
  let server: SpecServer;
  let hubspot: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('hubspot', { respond: () => override });
    hubspot = loadConnector('hubspot');
    baseUrl = baseUrlOf(hubspot, server);
  });
  afterAll(() => server?.close());

  it('create_contact splits the name and is a valid CreateContact with Bearer auth', async () => {
    server.reset();
    override = contact('512', { firstname: 'Ana María', lastname: 'López' });
    try {
      const input = { name: '  Ana   María López ', email: 'ana@example.com', phone: '+14155550123', company: 'Acme Inc', custom_fields: { lifecyclestage: 'lead' } };
      const result = await engine.run(hubspot, 'create_contact', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'CreateContact');
      expect(req).toMatchObject({ method: 'POST', path: '/crm/v3/objects/contacts' });
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.body).toEqual({ properties: { lifecyclestage: 'lead', email: 'ana@example.com', firstname: 'Ana', lastname: 'María López', phone: '+14155550123', company: 'Acme Inc' } });
      expect(result.ok && result.output).toEqual({ contact_id: '512', created_at: '2024-05-02T09:12:45.123Z' });
    } finally {
      override = undefined;
    }
  });

  it('update_contact is a valid UpdateContact PATCH of the given properties only', async () => {
    server.reset();
    const result = await engine.run(hubspot, 'update_contact', { credentials, input: { contact_id: '512', first_name: 'Ana', email: 'ana.lopez@example.com' }, baseUrl });
    const req = expectContract(result, server, 'UpdateContact');
    expect(req).toMatchObject({ method: 'PATCH', path: '/crm/v3/objects/contacts/512' });
    expect(req.body).toEqual({ properties: { firstname: 'Ana', email: 'ana.lopez@example.com' } });
  });

  it('create_note is a valid CreateNote associated with the contact (202) and the deal (214)', async () => {
    server.reset();
    const input = { contact_id: '512', deal_id: '19342512', content: 'Budget approved.', occurred_at: '2024-05-02T09:30:00Z' };
    const result = await engine.run(hubspot, 'create_note', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'CreateNote');
    expect(req.body).toEqual({
      properties: { hs_timestamp: '2024-05-02T09:30:00Z', hs_note_body: 'Budget approved.' },
      associations: [
        { to: { id: '512' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] },
        { to: { id: '19342512' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 214 }] },
      ],
    });
  });

  it('create_note without occurred_at stamps it now (hs_timestamp is required)', async () => {
    server.reset();
    const before = Date.now();
    const result = await engine.run(hubspot, 'create_note', { credentials, input: { contact_id: '512', content: 'x' }, baseUrl });
    const req = expectContract(result, server, 'CreateNote');
    const stamp = Date.parse((req.body as { properties: { hs_timestamp: string } }).properties.hs_timestamp);
    expect(stamp).toBeGreaterThanOrEqual(before - 1000);
    expect(stamp).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('create_deal is a valid CreateDeal: amount as a decimal string, default pipeline, deal->contact association 3', async () => {
    server.reset();
    const input = { title: 'Acme renewal 2025', amount: 1200050, currency: 'usd', close_date: '2025-06-30', contact_id: '512' };
    const result = await engine.run(hubspot, 'create_deal', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'CreateDeal');
    expect(req.body).toEqual({
      properties: { dealname: 'Acme renewal 2025', amount: '12000.50', deal_currency_code: 'USD', pipeline: 'default', dealstage: 'appointmentscheduled', closedate: '2025-06-30' },
      associations: [{ to: { id: '512' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] }],
    });
  });

  it('verify is a valid ListContacts of one contact', async () => {
    server.reset();
    const result = await engine.verify(hubspot, { credentials, baseUrl });
    const req = expectContract(result, server, 'ListContacts');
    expect(req).toMatchObject({ method: 'GET', path: '/crm/v3/objects/contacts', query: { limit: '1', archived: 'false' } });
  });

  it('NEGATIVE: a deal amount sent as a number (HubSpot property values are strings) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('hubspot', (t) => replaceOnce(t, '"amount": $minorToDecimal(input.amount, input.currency),', '"amount": input.amount / 100,'));
    const result = await engine.run(broken, 'create_deal', { credentials, input: { title: 'x', amount: 1000, currency: 'usd' }, baseUrl });
    const info = describeResult(result, server);
    const v = server.violations.find((x) => x.location === 'request.body.properties.amount');
    expect(v?.rule, info).toBe('type');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a misspelt properties key of a note is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('hubspot', (t) => replaceOnce(t, /"properties": \{(\s+)"hs_timestamp"/, '"propertes": {$1"hs_timestamp"'));
    const result = await engine.run(broken, 'create_note', { credentials, input: { contact_id: '512', content: 'x', occurred_at: '2024-05-02T09:30:00Z' }, baseUrl });
    const info = describeResult(result, server);
    const messages = server.violations.map((v) => v.message).join('\n');
    expect(messages, info).toMatch(/unknown field "propertes"/);
    expect(messages, info).toMatch(/missing required field "properties"/);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract hubspot: every capability example, verify and stream pass against the recorded reference (the command's own run)", async () => {
    const report = await expectConnectorContract('hubspot');
    const properties = 'properties=email%2Cfirstname%2Clastname%2Cphone%2Cmobilephone%2Cjobtitle%2Ccompany%2Cassociatedcompanyid%2Chubspot_owner_id%2Ccreatedate%2Clastmodifieddate&archived=false';
    expect(streamQueries(report, 'contacts')).toEqual({ first: `${properties}&limit=100`, next: `${properties}&limit=100&after=514`, incremental: undefined });
    const company = 'properties=name%2Cdomain%2Cwebsite%2Cphone%2Cindustry%2Cnumberofemployees%2Caddress%2Ccity%2Cstate%2Czip%2Ccountry%2Chubspot_owner_id%2Ccreatedate%2Chs_lastmodifieddate&archived=false';
    expect(streamQueries(report, 'companies')).toEqual({ first: `${company}&limit=100`, next: `${company}&limit=100&after=8215`, incremental: undefined });
    const deal = 'properties=dealname%2Camount%2Cdeal_currency_code%2Cdealstage%2Cpipeline%2Cclosedate%2Chs_deal_stage_probability%2Chs_is_closed%2Chs_is_closed_won%2Chubspot_owner_id%2Ccreatedate%2Chs_lastmodifieddate&associations=contacts%2Ccompanies&archived=false';
    expect(streamQueries(report, 'deals')).toEqual({ first: `${deal}&limit=100`, next: `${deal}&limit=100&after=19342514`, incremental: undefined });
    const ops = (stream: string) => report.runs.filter((r) => r.capability === `streams.${stream}`).map((r) => `${r.requests[0]?.path} ${r.requests[0]?.operationId}`);
    expect(ops('companies')).toEqual(Array(2).fill('/crm/v3/objects/companies ListCompanies'));
    expect(ops('deals')).toEqual(Array(2).fill('/crm/v3/objects/deals ListDeals'));
  });

  it('NEGATIVE: a page size above the recorded maximum (limit 200) fails the contacts runs', async () => {
    const failed = await failedStreamRuns('hubspot', inStream('contacts', (t) => replaceOnce(t, 'param: after, page_size: 100, page_size_param: limit', 'param: after, page_size: 200, page_size_param: limit')));
    expect(failed.map((r) => r.example)).toEqual(['a page of two contacts with a next page: first page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.limit maximum']);
  });

  it('NEGATIVE: a page size above the recorded maximum (limit 200) fails the companies runs, and only those', async () => {
    const failed = await failedStreamRuns('hubspot', inStream('companies', (t) => replaceOnce(t, 'page_size: 100,', 'page_size: 200,')));
    expect(failed.map((r) => `${r.capability}: ${r.example}`)).toEqual(['streams.companies: a page of two companies with a next page: first page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.limit maximum']);
  });

  it('NEGATIVE: associations asked for under a name the list does not take (association) fail the deals run', async () => {
    const failed = await failedStreamRuns('hubspot', inStream('deals', (t) => replaceOnce(t, '        associations: contacts,companies', '        association: contacts,companies')));
    // The refused first page leaves no page to build the follow-up request from.
    expect(failed.map((r) => r.example)).toEqual(['a page of two deals with a next page: first page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.association additionalProperties']);
  });

  it('NEGATIVE: a deal mapped with its 0..1 probability as is would not be what the example records say', async () => {
    const failed = await failedStreamRuns('hubspot', inStream('deals', (t) => replaceOnce(t, '$round($number($p.hs_deal_stage_probability) * 100, 2)', '$number($p.hs_deal_stage_probability)')));
    expect(failed.map((r) => r.example)).toEqual(['a page of two deals with a next page: first page']);
    expect(failed[0]!.problems.join('\n')).toMatch(/the mapped records differ from the example's records/);
  });
});
