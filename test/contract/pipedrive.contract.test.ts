// Pipedrive connector vs recorded/pipedrive.yaml: Pipedrive's openapi.yaml is published only on its
// developer site, with no licence, so the requests are judged by a fragment recorded from the API v1
// reference (pages cited in the fragment): one `name` per person, email/phone as [{value, primary}],
// integer ids, unknown fields refused except 40-hex custom field keys.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';
import { inStream } from './stream-edits.ts';

const credentials = { access_token: 'v1u:AQIBAHj+LzTNK2yuuuaLqifzhWb9crUNKTpk4FlQ9rjnXqp/6AHkf8aPcontract' };
const CUSTOM = 'd4de1c1518b4531717c676029a45911c340390a6';

let override: MockResponse | undefined;

describe('pipedrive connector vs the recorded Pipedrive API v1 reference', () => {
  let server: SpecServer;
  let pipedrive: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('pipedrive', { respond: () => override });
    pipedrive = loadConnector('pipedrive');
    baseUrl = baseUrlOf(pipedrive, server);
  });
  afterAll(() => server?.close());

  it('maps the token response\'s api_domain into the connection that the base URL reads', async () => {
    const tokenResponse = { access_token: '53:179:6317ef33a9fb0c4d604ce0695dad44a12bad44c9', token_type: 'Bearer', expires_in: 3599, refresh_token: '53:179:5de4b1d9b23d0b7a8c2f1e0d', scope: 'base,deals:full,contacts:full', api_domain: 'https://acme.pipedrive.com' };
    const connection = await pipedrive.auth.connection!.evaluate(tokenResponse);
    expect(connection).toEqual({ api_domain: 'https://acme.pipedrive.com' });
    expect(pipedrive.baseUrlTemplate?.render({ connection })).toBe('https://acme.pipedrive.com');
  });

  it('create_contact is a valid addPerson: one name, phone and email as [{value, primary}], Bearer auth', async () => {
    server.reset();
    override = { status: 201, body: { success: true, data: { id: 512, name: 'Ana López', add_time: '2024-05-02 09:12:45', update_time: '2024-05-02 09:12:45' } } };
    try {
      const input = { first_name: 'Ana', last_name: 'López', email: 'ana@example.com', phone: '+14155550123', custom_fields: { [CUSTOM]: 'Web' } };
      const result = await engine.run(pipedrive, 'create_contact', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'addPerson');
      expect(req).toMatchObject({ method: 'POST', path: '/api/v1/persons' });
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.body).toEqual({ [CUSTOM]: 'Web', name: 'Ana López', email: [{ value: 'ana@example.com', primary: true }], phone: [{ value: '+14155550123', primary: true }] });
      expect(result.ok && result.output).toEqual({ contact_id: '512', created_at: '2024-05-02T09:12:45Z' });
    } finally {
      override = undefined;
    }
  });

  it('create_contact with an email only names the person by the email (name is required)', async () => {
    server.reset();
    const result = await engine.run(pipedrive, 'create_contact', { credentials, input: { email: 'lead@example.com' }, baseUrl });
    expect(expectContract(result, server, 'addPerson').body).toEqual({ name: 'lead@example.com', email: [{ value: 'lead@example.com', primary: true }] });
  });

  it('update_contact is a valid updatePerson PUT', async () => {
    server.reset();
    const result = await engine.run(pipedrive, 'update_contact', { credentials, input: { contact_id: '512', name: 'Ana López-Meyer', phone: '+14155550199' }, baseUrl });
    const req = expectContract(result, server, 'updatePerson');
    expect(req).toMatchObject({ method: 'PUT', path: '/api/v1/persons/512' });
    expect(req.body).toEqual({ name: 'Ana López-Meyer', phone: [{ value: '+14155550199', primary: true }] });
  });

  it('update_contact refuses a lone first_name before sending (Pipedrive keeps one name)', async () => {
    server.reset();
    const result = await engine.run(pipedrive, 'update_contact', { credentials, input: { contact_id: '512', first_name: 'Ana' }, baseUrl });
    expect(server.requests).toEqual([]);
    expect(!result.ok && result.error.message).toMatch(/give name, or first_name and last_name together/);
    expect(!result.ok && result.error.type).toBe('invalid_input');
  });

  it('create_note is a valid addNote with integer person_id and deal_id', async () => {
    server.reset();
    const result = await engine.run(pipedrive, 'create_note', { credentials, input: { contact_id: '512', deal_id: '5', title: 'ignored', content: 'Budget approved.' }, baseUrl });
    expect(expectContract(result, server, 'addNote').body).toEqual({ content: 'Budget approved.', person_id: 512, deal_id: 5 });
  });

  it('create_deal is a valid addDeal (value a decimal string, integer ids)', async () => {
    server.reset();
    const input = { title: 'Acme renewal', amount: 1200050, currency: 'eur', stage: '2', close_date: '2025-06-30', contact_id: '512' };
    const result = await engine.run(pipedrive, 'create_deal', { credentials, input, baseUrl });
    expect(expectContract(result, server, 'addDeal').body).toEqual({ title: 'Acme renewal', value: '12000.50', currency: 'EUR', person_id: 512, stage_id: 2, expected_close_date: '2025-06-30' });
  });

  it('verify is a valid getCurrentUser, sent to the connection\'s api_domain', async () => {
    server.reset();
    const result = await engine.verify(pipedrive, { credentials, connection: { api_domain: server.origin } });
    expect(expectContract(result, server, 'getCurrentUser').path).toBe('/api/v1/users/me');
  });

  it('NEGATIVE: a phone sent as a plain string (not [{value, primary}]) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('pipedrive', (t) => replaceOnce(t, /("name": \$exists\(input\.name\) \? \$trim\(input\.name\)\n\s+: \$exists\(input\.first_name\) or[\s\S]*?)"phone": \$exists\(input\.phone\) \? \[\{ "value": input\.phone, "primary": true \}\]/, '$1"phone": input.phone'));
    const result = await engine.run(broken, 'create_contact', { credentials, input: { name: 'Ana', phone: '+14155550123' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.phone')?.rule, info).toBe('type');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a person id sent as a string is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('pipedrive', (t) => replaceOnce(t, /"person_id": \$exists\(input\.contact_id\) \? \$number\(input\.contact_id\),(\n\s+"deal_id")/, '"person_id": input.contact_id,$1'));
    const result = await engine.run(broken, 'create_note', { credentials, input: { contact_id: '512', content: 'x' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.person_id')?.rule, info).toBe('type');
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract pipedrive: every capability example, verify and stream pass against the recorded reference (the command's own run)", async () => {
    const report = await expectConnectorContract('pipedrive');
    expect(streamQueries(report, 'persons')).toEqual({
      first: 'sort_by=update_time&sort_direction=asc&limit=500',
      next: 'sort_by=update_time&sort_direction=asc&limit=500&cursor=eyJhY3Rpdml0aWVzIjoyN30',
      incremental: 'sort_by=update_time&sort_direction=asc&updated_since=2021-01-03T16%3A45%3A10Z&limit=500',
    });
    const runs = report.runs.filter((r) => r.capability === 'streams.persons');
    expect(runs.map((r) => `${r.requests[0]?.path} ${r.requests[0]?.operationId}`)).toEqual(Array(3).fill('/api/v2/persons getPersons'));
    expect(streamQueries(report, 'organizations')).toEqual({
      first: 'sort_by=update_time&sort_direction=asc&limit=500',
      next: 'sort_by=update_time&sort_direction=asc&limit=500&cursor=eyJvcmdhbml6YXRpb25zIjoyfQ',
      incremental: 'sort_by=update_time&sort_direction=asc&updated_since=2021-01-03T16%3A45%3A10Z&limit=500',
    });
    expect(streamQueries(report, 'deals')).toEqual({
      first: 'sort_by=update_time&sort_direction=asc&limit=500',
      next: 'sort_by=update_time&sort_direction=asc&limit=500&cursor=eyJkZWFscyI6Mn0',
      incremental: 'sort_by=update_time&sort_direction=asc&updated_since=2021-01-03T16%3A45%3A10Z&limit=500',
    });
    const ops = (stream: string) => report.runs.filter((r) => r.capability === `streams.${stream}`).map((r) => `${r.requests[0]?.path} ${r.requests[0]?.operationId}`);
    expect(ops('organizations')).toEqual(Array(3).fill('/api/v2/organizations getOrganizations'));
    expect(ops('deals')).toEqual(Array(3).fill('/api/v2/deals getDeals'));
  });

  it('NEGATIVE: a page size above the documented maximum (limit 1000) fails the persons runs', async () => {
    const failed = await failedStreamRuns('pipedrive', inStream('persons', (t) => replaceOnce(t, 'param: cursor, page_size: 500, page_size_param: limit', 'param: cursor, page_size: 1000, page_size_param: limit')));
    // The refused first page leaves no next page and no cursor: the incremental run has nothing to send.
    expect(failed.map((r) => r.example)).toEqual(['a page of two persons with a next cursor: first page', 'a page of two persons with a next cursor: incremental']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.limit maximum']);
  });

  it('NEGATIVE: the v1 incremental parameter name (since) is not a v2 parameter: the incremental run fails', async () => {
    const failed = await failedStreamRuns('pipedrive', inStream('persons', (t) => replaceOnce(t, 'cursor: { field: updated_at, param: updated_since }', 'cursor: { field: updated_at, param: since }')));
    expect(failed.map((r) => r.example)).toEqual(['a page of two persons with a next cursor: incremental (sync.cursor 2021-01-03T16:45:10Z)']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.since additionalProperties']);
  });

  it('NEGATIVE: the v1 incremental parameter name (since) fails the organizations incremental run, and only that', async () => {
    const failed = await failedStreamRuns('pipedrive', inStream('organizations', (t) => replaceOnce(t, 'param: updated_since', 'param: since')));
    expect(failed.map((r) => `${r.capability}: ${r.example}`)).toEqual(['streams.organizations: a page of two organizations with a next cursor: incremental (sync.cursor 2021-01-03T16:45:10Z)']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.since additionalProperties']);
  });

  it('NEGATIVE: a deal status filter Get all deals does not know (all_not_deleted, a v1 value) fails the deals runs', async () => {
    const failed = await failedStreamRuns('pipedrive', inStream('deals', (t) => replaceOnce(t, 'query: { sort_by: update_time, sort_direction: asc }', 'query: { sort_by: update_time, sort_direction: asc, status: all_not_deleted }')));
    // The refused first page leaves no next page and no cursor: the incremental run has nothing to send.
    expect(failed.map((r) => `${r.capability}: ${r.example}`)).toEqual(['streams.deals: a page of two deals with a next cursor: first page', 'streams.deals: a page of two deals with a next cursor: incremental']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.status enum']);
  });

  it('NEGATIVE: a deal value taken as minor units already (no currency conversion) is not what the deals example records say', async () => {
    const failed = await failedStreamRuns('pipedrive', inStream('deals', (t) => replaceOnce(t, '$decimalToMinor(value, $cur)', 'value')));
    expect(failed.map((r) => r.example)).toEqual(['a page of two deals with a next cursor: first page']);
    expect(failed[0]!.problems.join('\n')).toMatch(/record 2 is not a valid deal: .*amount/);
  });
});
