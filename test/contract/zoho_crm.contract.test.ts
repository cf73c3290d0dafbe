// Zoho CRM connector vs Zoho's official OpenAPI (zoho/crm-oas v8.0: record.json, notes.json,
// users.json and the files they reference), bundled into one document by zoho-spec.ts with its
// fix-ups: the Zoho-oauthtoken security scheme, and Create Notes requiring what Zoho's page requires.
// The spec's Record allows any field (additionalProperties: true), so a misspelt field name cannot be
// caught: the negative tests break the wrapper (data must be a list) and the auth scheme instead.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';
import { inStream } from './stream-edits.ts';

const credentials = { access_token: '1000.6f2b0c5e8d1a4f7b9c3e2d1a0b9c8d7e.4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d' };
const added = (id: string): MockResponse => ({
  status: 201,
  body: { data: [{ code: 'SUCCESS', details: { Modified_Time: '2024-05-02T15:12:45+05:30', Created_Time: '2024-05-02T15:12:45+05:30', id, Created_By: { name: 'Patricia Boyle', id: '3834001000000287001' } }, message: 'record added', status: 'success' }] },
  // Zoho answers an insert 201 (https://www.zoho.com/crm/developer/docs/api/v8/insert-records.html); the spec documents only 200, same body.
  specResponse: '200',
});

let override: MockResponse | undefined;

describe('zoho_crm connector vs the official Zoho CRM v8 spec', () => {
  let server: SpecServer;
  let zoho: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('zoho_crm', { respond: () => override });
    zoho = loadConnector('zoho_crm');
    baseUrl = baseUrlOf(zoho, server);
  });
  afterAll(() => server?.close());

  it('maps the token response\'s api_domain into the connection that the base URL reads', async () => {
    const tokenResponse = { access_token: '1000.6f2b', refresh_token: '1000.9d8c', scope: 'ZohoCRM.modules.contacts.ALL,ZohoCRM.users.READ', api_domain: 'https://www.zohoapis.eu', token_type: 'Bearer', expires_in: 3600 };
    const connection = await zoho.auth.connection!.evaluate(tokenResponse);
    expect(connection).toEqual({ api_domain: 'https://www.zohoapis.eu' });
    expect(zoho.baseUrlTemplate?.render({ connection })).toBe('https://www.zohoapis.eu');
  });

  it('the bundled spec judges Zoho-oauthtoken, not Bearer', () => {
    expect(server.definition.components.securitySchemes['iam-oauth2-schema']).toMatchObject({ type: 'http', scheme: 'Zoho-oauthtoken' });
    expect(zoho.manifest.auth).toMatchObject({ scheme: 'Zoho-oauthtoken', scope_separator: ',', connection: '{ "api_domain": api_domain }' });
  });

  it('create_contact is a valid Create Records on Contacts with the Zoho-oauthtoken header', async () => {
    server.reset();
    override = added('3834001000000512001');
    try {
      const result = await engine.run(zoho, 'create_contact', { credentials, input: { name: 'Ana María López', email: 'ana@example.com', phone: '+14155550123', company: 'Acme' }, baseUrl });
      const req = expectContract(result, server, 'Create Records');
      expect(req).toMatchObject({ method: 'POST', path: '/crm/v8/Contacts' });
      expect(req.headers.authorization).toBe(`Zoho-oauthtoken ${credentials.access_token}`);
      expect(req.body).toEqual({ data: [{ First_Name: 'Ana', Last_Name: 'María López', Email: 'ana@example.com', Phone: '+14155550123' }] });
      expect(result.ok && result.output).toEqual({ contact_id: '3834001000000512001', created_at: '2024-05-02T15:12:45+05:30' });
    } finally {
      override = undefined;
    }
  });

  it('update_contact is a valid Update Record', async () => {
    server.reset();
    const result = await engine.run(zoho, 'update_contact', { credentials, input: { contact_id: '3834001000000512001', first_name: 'Ana', last_name: 'López' }, baseUrl });
    const req = expectContract(result, server, 'Update Record');
    expect(req).toMatchObject({ method: 'PUT', path: '/crm/v8/Contacts/3834001000000512001' });
    expect(req.body).toEqual({ data: [{ First_Name: 'Ana', Last_Name: 'López' }] });
  });

  it('create_note is a valid Create Notes with Parent_Id {module: {api_name}, id}', async () => {
    server.reset();
    const result = await engine.run(zoho, 'create_note', { credentials, input: { deal_id: '3834001000000530005', title: 'Call', content: 'Budget approved.' }, baseUrl });
    const req = expectContract(result, server, 'Create Notes');
    expect(req.body).toEqual({ data: [{ Note_Title: 'Call', Note_Content: 'Budget approved.', Parent_Id: { module: { api_name: 'Deals' }, id: '3834001000000530005' } }] });
  });

  it('create_deal is a valid Create Records on Deals (Stage and Closing_Date given or defaulted)', async () => {
    server.reset();
    const result = await engine.run(zoho, 'create_deal', { credentials, input: { title: 'Acme renewal', amount: 99900, currency: 'EUR', contact_id: '3834001000000512001' }, baseUrl });
    const req = expectContract(result, server, 'Create Records');
    expect(req.path).toBe('/crm/v8/Deals');
    expect(req.body).toEqual({ data: [{ Deal_Name: 'Acme renewal', Stage: 'Qualification', Closing_Date: new Date().toISOString().slice(0, 10), Amount: 999, Contact_Name: { id: '3834001000000512001' } }] });
  });

  it('verify is a valid Get Users for the current user, sent to the connection\'s api_domain', async () => {
    server.reset();
    const result = await engine.verify(zoho, { credentials, connection: { api_domain: server.origin } });
    const req = expectContract(result, server, 'Get Users');
    expect(req).toMatchObject({ path: '/crm/v8/users', query: { type: 'CurrentUser' } });
  });

  it('a record refused inside a 2xx answer is a provider_error with Zoho\'s code', async () => {
    server.reset();
    override = { status: 200, body: { data: [{ code: 'DUPLICATE_DATA', details: { api_name: 'Email', id: '3834001000000512001' }, message: 'duplicate data', status: 'error' }] } };
    try {
      const result = await engine.run(zoho, 'create_contact', { credentials, input: { email: 'ana@example.com', last_name: 'López' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', provider_code: 'DUPLICATE_DATA', provider_message: 'duplicate data' });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a note whose content field is misspelt misses the required Note_Content', async () => {
    server.reset();
    const broken = loadEditedManifest('zoho_crm', (t) => replaceOnce(t, '"Note_Content": input.content,', '"Note_Text": input.content,'));
    const result = await engine.run(broken, 'create_note', { credentials, input: { contact_id: '3834001000000512001', content: 'x' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.data.0.Note_Content')?.message, info).toMatch(/missing required field "Note_Content"/);
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a note sent as an object instead of a list violates Body_Wrapper.data', async () => {
    server.reset();
    const broken = loadEditedManifest('zoho_crm', (t) => replaceOnce(replaceOnce(t, /"data": \[\{(\n\s+"Note_Title")/, '"data": {$1'), /\}\]\n(\s+)\}\n(\s+)response: '\{ "note_id"/, '}\n$1}\n$2response: \'{ "note_id"'));
    const result = await engine.run(broken, 'create_note', { credentials, input: { contact_id: '3834001000000512001', content: 'x' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.data')?.rule, info).toBe('type');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: the token sent as Bearer (the generic OAuth scheme) is refused by the Zoho-oauthtoken scheme', async () => {
    server.reset();
    const broken = loadEditedManifest('zoho_crm', (t) => replaceOnce(t, '  scheme: Zoho-oauthtoken\n', '  scheme: Bearer\n'));
    const result = await engine.verify(broken, { credentials, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'security')?.message, info).toMatch(/Zoho-oauthtoken/);
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract zoho_crm: every capability example, verify and stream pass against the spec (the command's own run)", async () => {
    // A fault of the spec, not of the page: Get Records answers oneOf [Response_Wrapper, API_Exception],
    // and API_Exception requires no property, so every page matches both (passingSchemas [0,1]: it is a
    // valid Response_Wrapper). Any other response issue of a stream page still fails.
    const report = await expectConnectorContract('zoho_crm', { knownResponseFaults: /^\(root\) must match exactly one schema in oneOf \{"passingSchemas":\[0,1\]\}$/ });
    const fields = 'fields=First_Name%2CLast_Name%2CFull_Name%2CEmail%2CPhone%2CMobile%2CTitle%2CAccount_Name%2COwner%2CCreated_Time%2CModified_Time&sort_by=Modified_Time&sort_order=asc';
    // The incremental filter is a header (If-Modified-Since), so its query is the first page's.
    expect(streamQueries(report, 'contacts')).toEqual({ first: `${fields}&per_page=200`, next: `${fields}&per_page=200&page_token=c8582xx9e7c`, incremental: `${fields}&per_page=200` });
    const runs = report.runs.filter((r) => r.capability === 'streams.contacts');
    expect(runs.map((r) => r.requests[0]?.operationId)).toEqual(['Get Records', 'Get Records', 'Get Records']);
    const accounts = 'fields=Account_Name%2CWebsite%2CPhone%2CIndustry%2CEmployees%2CBilling_Street%2CBilling_City%2CBilling_State%2CBilling_Code%2CBilling_Country%2COwner%2CCreated_Time%2CModified_Time&sort_by=Modified_Time&sort_order=asc';
    expect(streamQueries(report, 'companies')).toEqual({ first: `${accounts}&per_page=200`, next: `${accounts}&per_page=200&page_token=c8582xx9e7d`, incremental: `${accounts}&per_page=200` });
    const deals = 'fields=Deal_Name%2CAmount%2CStage%2CPipeline%2CProbability%2CClosing_Date%2CAccount_Name%2CContact_Name%2COwner%2CCreated_Time%2CModified_Time&sort_by=Modified_Time&sort_order=asc';
    expect(streamQueries(report, 'deals')).toEqual({ first: `${deals}&per_page=200`, next: `${deals}&per_page=200&page_token=c8582xx9e7e`, incremental: `${deals}&per_page=200` });
    const ops = (stream: string) => report.runs.filter((r) => r.capability === `streams.${stream}`).map((r) => `${r.requests[0]?.path} ${r.requests[0]?.operationId} ${r.example?.replace(/^.*: /, '')}`);
    // The incremental runs send the latest Modified_Time of the page in If-Modified-Since.
    expect(ops('companies')).toEqual(['/crm/v8/Accounts Get Records first page', '/crm/v8/Accounts Get Records next page', '/crm/v8/Accounts Get Records incremental (sync.cursor 2024-05-04T09:10:12+05:30)']);
    expect(ops('deals')).toEqual(['/crm/v8/Deals Get Records first page', '/crm/v8/Deals Get Records next page', '/crm/v8/Deals Get Records incremental (sync.cursor 2024-05-10T20:32:09+05:30)']);
  });

  it('contacts: the incremental read sends the latest Modified_Time in If-Modified-Since, a date-time the spec accepts', async () => {
    server.reset();
    override = { status: 200, body: { data: [{ id: '3652397000000624046', Last_Name: 'López', Modified_Time: '2024-05-06T10:00:00+05:30' }], info: { per_page: 200, count: 1, page: 1, more_records: false } } };
    const gen = engine.readStream(zoho, 'contacts', { credentials, baseUrl, cursor: '2024-05-04T09:00:31+05:30' });
    try {
      const first = await gen.next();
      const info = describeResult({ ok: true, output: {}, meta: { attempts: 1, duration_ms: 0 } }, server);
      expect(server.violations, info).toEqual([]);
      expect(server.requests.map((r) => r.headers['if-modified-since']), info).toEqual(['2024-05-04T09:00:31+05:30']);
      expect(server.requests[0]!.headers.authorization).toBe(`Zoho-oauthtoken ${credentials.access_token}`);
      expect(first.done ? undefined : { cursor: first.value.cursor, next: first.value.next }).toEqual({ cursor: '2024-05-06T10:00:00+05:30', next: null });
    } finally {
      await gen.return(undefined).catch(() => undefined);
      override = undefined;
    }
  });

  it('NEGATIVE: a page token parameter the spec does not define (pageToken) fails the follow-up run', async () => {
    const failed = await failedStreamRuns('zoho_crm', inStream('contacts', (t) => replaceOnce(t, 'param: page_token, page_size: 200', 'param: pageToken, page_size: 200')));
    expect(failed.map((r) => r.example)).toEqual(['a page of two contacts with more records: next page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.pageToken additionalProperties']);
  });

  it('NEGATIVE: the field list under a name Get Records does not take (field) fails the deals runs, and only those', async () => {
    const failed = await failedStreamRuns('zoho_crm', inStream('deals', (t) => replaceOnce(t, '        fields: Deal_Name,', '        field: Deal_Name,')));
    // The refused first page leaves no next page and no cursor: the incremental run has nothing to send.
    expect(failed.map((r) => `${r.capability}: ${r.example}`)).toEqual(['streams.deals: a page of two deals with more records: first page', 'streams.deals: a page of two deals with more records: incremental']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.field additionalProperties']);
  });

  it('NEGATIVE: an Account lookup read as text (Zoho sends {name, id}) maps no company_id: the deals example records fail', async () => {
    const failed = await failedStreamRuns('zoho_crm', inStream('deals', (t) => replaceOnce(t, '"company_id": $s(Account_Name.id),', '"company_id": $s(Account_Name),')));
    expect(failed.map((r) => r.example)).toEqual(['a page of two deals with more records: first page']);
    expect(failed[0]!.problems.join('\n')).toMatch(/the mapped records differ from the example's records/);
  });
});
