// Salesforce connector vs recorded/salesforce.yaml: Salesforce generates its OpenAPI per org (beta,
// behind login), so the requests are judged by a fragment recorded from the REST API Developer Guide
// and the object reference (pages cited in the fragment): required fields per sObject, unknown
// fields refused (Salesforce answers INVALID_FIELD), custom __c fields allowed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';
import { inStream } from './stream-edits.ts';

const TOKEN = '00D5g000004Ab1C!AQ8AQHcontract.test.token';
const lead = { access_token: TOKEN, default_company: 'Individual' };
const contacts = { access_token: TOKEN, contact_object: 'Contact' };
const API = '/services/data/v62.0';

let override: MockResponse | undefined;

describe('salesforce connector vs the recorded Salesforce REST reference', () => {
  let server: SpecServer;
  let salesforce: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('salesforce', { respond: () => override });
    salesforce = loadConnector('salesforce');
    baseUrl = baseUrlOf(salesforce, server);
  });
  afterAll(() => server?.close());

  it('reads its base URL from the connection: instance_url of the token response', async () => {
    expect(salesforce.baseUrl).toBeUndefined();
    expect(salesforce.baseUrlTemplate?.render({ connection: { instance_url: 'https://acme.my.salesforce.com' } })).toBe('https://acme.my.salesforce.com');
    // The web server flow's token response (no expires_in), as the OAuth guide shows it.
    const tokenResponse = {
      access_token: '00D5g000004Ab1C!AQ8AQH', refresh_token: '5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrtBvHOkNZFpjqYl', signature: 'CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=',
      scope: 'refresh_token api', instance_url: 'https://acme.my.salesforce.com', id: 'https://login.salesforce.com/id/00D5g000004Ab1CEAS/0055g00000ABcDeAAF',
      token_type: 'Bearer', issued_at: '1714641165000',
    };
    expect(await salesforce.auth.connection!.evaluate(tokenResponse)).toEqual({ instance_url: 'https://acme.my.salesforce.com' });
  });

  it('create_contact without a company is a valid CreateLead with the placeholder company and Bearer auth', async () => {
    server.reset();
    override = { status: 201, body: { id: '00Q5g00000AbCdEEAZ', success: true, errors: [] } };
    try {
      const result = await engine.run(salesforce, 'create_contact', { credentials: lead, input: { name: 'Ana María López', email: 'ana@example.com', phone: '+14155550123' }, baseUrl });
      const req = expectContract(result, server, 'CreateLead');
      expect(req).toMatchObject({ method: 'POST', path: `${API}/sobjects/Lead` });
      expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(req.body).toEqual({ FirstName: 'Ana', LastName: 'María López', Email: 'ana@example.com', Phone: '+14155550123', Company: 'Individual' });
      expect(result.ok && result.output).toEqual({ contact_id: '00Q5g00000AbCdEEAZ', created_at: null });
    } finally {
      override = undefined;
    }
  });

  it('create_contact keeps a given company, and without default_company uses "Unknown"', async () => {
    server.reset();
    const result = await engine.run(salesforce, 'create_contact', { credentials: { access_token: TOKEN }, input: { first_name: 'Bo', last_name: 'Chen', company: 'Acme Inc' }, baseUrl });
    expect(expectContract(result, server, 'CreateLead').body).toEqual({ FirstName: 'Bo', LastName: 'Chen', Company: 'Acme Inc' });
    server.reset();
    const fallback = await engine.run(salesforce, 'create_contact', { credentials: { access_token: TOKEN }, input: { last_name: 'Chen' }, baseUrl });
    expect(expectContract(fallback, server, 'CreateLead').body).toEqual({ LastName: 'Chen', Company: 'Unknown' });
  });

  it('create_contact with contact_object Contact is a valid CreateContact without Company', async () => {
    server.reset();
    const result = await engine.run(salesforce, 'create_contact', { credentials: contacts, input: { name: 'Bo Chen', company: 'Acme Inc', custom_fields: { Region__c: 'EMEA' } }, baseUrl });
    const req = expectContract(result, server, 'CreateContact');
    expect(req.body).toEqual({ Region__c: 'EMEA', FirstName: 'Bo', LastName: 'Chen' });
  });

  it('update_contact is a valid UpdateLead PATCH (204) answering the given id', async () => {
    server.reset();
    const result = await engine.run(salesforce, 'update_contact', { credentials: lead, input: { contact_id: '00Q5g00000AbCdEEAZ', email: 'ana@example.org', company: 'Acme GmbH' }, baseUrl });
    const req = expectContract(result, server, 'UpdateLead');
    expect(req).toMatchObject({ method: 'PATCH', path: `${API}/sobjects/Lead/00Q5g00000AbCdEEAZ`, status: 204 });
    expect(req.body).toEqual({ Email: 'ana@example.org', Company: 'Acme GmbH' });
    expect(result.ok && result.output).toEqual({ contact_id: '00Q5g00000AbCdEEAZ', updated_at: null });
  });

  it('create_note is a valid CreateNote (ParentId, a Title of at most 80 characters, Body)', async () => {
    server.reset();
    const content = 'A'.repeat(100);
    const result = await engine.run(salesforce, 'create_note', { credentials: lead, input: { deal_id: '0065g00000XyZ12AAB', content }, baseUrl });
    const req = expectContract(result, server, 'CreateNote');
    expect(req.body).toEqual({ ParentId: '0065g00000XyZ12AAB', Title: 'A'.repeat(80), Body: content });
  });

  it('create_deal is a valid CreateOpportunity (Amount a number, StageName and CloseDate defaulted)', async () => {
    server.reset();
    const result = await engine.run(salesforce, 'create_deal', { credentials: lead, input: { title: 'Acme renewal', amount: 1200050, currency: 'USD' }, baseUrl });
    const req = expectContract(result, server, 'CreateOpportunity');
    const body = req.body as Record<string, unknown>;
    expect(body).toMatchObject({ Name: 'Acme renewal', StageName: 'Prospecting', Amount: 12000.5 });
    expect(body.CloseDate).toBe(new Date().toISOString().slice(0, 10));
  });

  it('verify is a valid GET of the API version resources, sent to the connection\'s instance_url', async () => {
    server.reset();
    const result = await engine.verify(salesforce, { credentials: lead, connection: { instance_url: server.origin } });
    expect(expectContract(result, server, 'ResourcesByVersion').path).toBe(`${API}/`);
  });

  it('maps a Salesforce error list to a provider_error with its message and code', async () => {
    server.reset();
    override = { status: 400, body: [{ message: 'Use one of these records?', errorCode: 'DUPLICATES_DETECTED', fields: [] }] };
    try {
      const result = await engine.run(salesforce, 'create_contact', { credentials: lead, input: { name: 'Ana López' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 400, provider_message: 'Use one of these records?', provider_code: 'DUPLICATES_DETECTED' });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a Lead without its required Company is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('salesforce', (t) => replaceOnce(t, /\n\s*"Company": \$lead \? \(\$exists/, '\n              "Company_Name": $lead ? ($exists'));
    const result = await engine.run(broken, 'create_contact', { credentials: lead, input: { name: 'Ana López' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.Company')?.message, info).toMatch(/missing required field "Company"/);
    expect(server.violations.find((v) => v.location === 'request.body.Company_Name')?.message, info).toMatch(/unknown field "Company_Name"/);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract salesforce: every capability example, verify and stream pass against the recorded reference (the command's own run)", async () => {
    const report = await expectConnectorContract('salesforce');
    const select = 'SELECT+Id%2C+FirstName%2C+LastName%2C+Name%2C+Email%2C+Phone%2C+MobilePhone%2C+Title%2C+AccountId%2C+OwnerId%2C+CreatedDate%2C+SystemModstamp+FROM+Contact';
    // The follow-up is the page's root-relative nextRecordsUrl as is (no parameters); the incremental
    // query filters on the latest SystemModstamp seen, as an unquoted SOQL dateTime literal.
    expect(streamQueries(report, 'contacts')).toEqual({
      first: `q=${select}+ORDER+BY+SystemModstamp`,
      next: '',
      incremental: `q=${select}+WHERE+SystemModstamp+%3E+2024-05-04T08%3A00%3A31Z+ORDER+BY+SystemModstamp`,
    });
    const next = report.runs.find((r) => r.capability === 'streams.contacts' && r.example?.endsWith(': next page'));
    expect(next?.requests.map((r) => `${r.method} ${r.path} ${r.operationId}`)).toEqual([`GET ${API}/query/01gD0000002HU6KIAW-2000 QueryMore`]);

    const account = 'SELECT+Id%2C+Name%2C+Website%2C+Industry%2C+Phone%2C+NumberOfEmployees%2C+AnnualRevenue%2C+BillingStreet%2C+BillingCity%2C+BillingState%2C+BillingPostalCode%2C+BillingCountry%2C+OwnerId%2C+CreatedDate%2C+SystemModstamp+FROM+Account';
    expect(streamQueries(report, 'companies')).toEqual({
      first: `q=${account}+ORDER+BY+SystemModstamp`,
      next: '',
      incremental: `q=${account}+WHERE+SystemModstamp+%3E+2024-05-04T07%3A59%3A12Z+ORDER+BY+SystemModstamp`,
    });
    const opportunity = 'SELECT+Id%2C+Name%2C+Amount%2C+StageName%2C+CloseDate%2C+Probability%2C+IsClosed%2C+IsWon%2C+AccountId%2C+ContactId%2C+OwnerId%2C+CreatedDate%2C+SystemModstamp+FROM+Opportunity';
    expect(streamQueries(report, 'deals')).toEqual({
      first: `q=${opportunity}+ORDER+BY+SystemModstamp`,
      next: '',
      incremental: `q=${opportunity}+WHERE+SystemModstamp+%3E+2024-05-10T15%3A02%3A09Z+ORDER+BY+SystemModstamp`,
    });
    const ops = (stream: string) => report.runs.filter((r) => r.capability === `streams.${stream}`).map((r) => `${r.requests[0]?.path} ${r.requests[0]?.operationId}`);
    expect(ops('companies')).toEqual([`${API}/query Query`, `${API}/query/01gD0000002HU7LIAW-2000 QueryMore`, `${API}/query Query`]);
    expect(ops('deals')).toEqual([`${API}/query Query`, `${API}/query/01gD0000002HU8MIAW-2000 QueryMore`, `${API}/query Query`]);
  });

  it('NEGATIVE: the SOQL sent in a parameter other than q fails the first page (and so leaves no cursor to read on from)', async () => {
    const failed = await failedStreamRuns('salesforce', inStream('contacts', (t) => replaceOnce(t, '        q: "SELECT Id,', '        soql: "SELECT Id,')));
    expect(failed.map((r) => r.example)).toEqual(['a partial page of two contacts with nextRecordsUrl: first page', 'a partial page of two contacts with nextRecordsUrl: incremental']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`).sort()).toEqual(['request.query.q required', 'request.query.soql additionalProperties']);
    expect(failed[1]!.problems.join('\n')).toMatch(/no valid record of the page has the cursor field "updated_at"/);
  });

  it('NEGATIVE: a deal close date mapped as a date-time is not a valid deal (the model wants a date)', async () => {
    const failed = await failedStreamRuns('salesforce', inStream('deals', (t) => replaceOnce(t, '"close_date": $s(CloseDate),', '"close_date": $t(CloseDate),')));
    // Both rows are then invalid deals: the page reaches no cursor, so the incremental run has nothing to send.
    expect(failed.map((r) => `${r.capability}: ${r.example}`)).toEqual([
      'streams.deals: a partial page of two opportunities with nextRecordsUrl: first page',
      'streams.deals: a partial page of two opportunities with nextRecordsUrl: incremental',
    ]);
    expect(failed[0]!.problems.join('\n')).toMatch(/record 0065g00000Cd4eFAAR is not a valid deal: .*close_date/);
    expect(failed[1]!.problems.join('\n')).toMatch(/no valid record of the page has the cursor field "updated_at"/);
  });
});
