// Calendly connector vs test/contract/recorded/calendly.yaml: Calendly hosts its API reference only on
// developer.calendly.com with no licence for the document, so its requests are judged by a fragment
// recorded from the reference pages (cited per operation in the fragment). The fragment's request bodies
// refuse unknown fields, so a misspelt key fails.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

const credentials = { access_token: 'eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0MDIzZjdjMzJiZTgzNDliMjM4MDEzNWI0IiwidHlwIjoiUEFUIn0.contract' };
const EVENT_TYPE = 'https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA';
const invitee = {
  uri: 'https://api.calendly.com/scheduled_events/BBBBBBBBBBBBBBBB/invitees/CCCCCCCCCCCCCCCC', email: 'ana@example.com', name: 'Ana Lima', status: 'active',
  timezone: 'America/Argentina/Buenos_Aires', event: 'https://api.calendly.com/scheduled_events/BBBBBBBBBBBBBBBB',
  cancel_url: 'https://calendly.com/cancellations/CCCCCCCCCCCCCCCC', reschedule_url: 'https://calendly.com/reschedulings/CCCCCCCCCCCCCCCC',
};
const booking = { event_type: EVENT_TYPE, start: '2026-12-03T11:00:00-03:00', end: '2026-12-03T11:30:00-03:00', time_zone: 'America/Argentina/Buenos_Aires', attendees: [{ email: 'ana@example.com', name: 'Ana Lima' }, { email: 'bo@example.com' }] };

let override: MockResponse | undefined;

/** The one request a stream page sent: a List Events call the fragment found nothing wrong with. */
function judged(server: SpecServer) {
  expect(server.violations).toEqual([]);
  expect(server.responseIssues).toEqual([]);
  expect(server.requests.map((r) => r.operationId)).toEqual(['ListEvents']);
  return server.requests[0]!;
}

describe('calendly connector vs the recorded Calendly API v2 reference', () => {
  let server: SpecServer;
  let calendly: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('calendly', { respond: () => override });
    calendly = loadConnector('calendly');
    baseUrl = baseUrlOf(calendly, server);
  });
  afterAll(() => server?.close());

  it('create_event books the first attendee on the event type: UTC start_time, the IANA zone as invitee.timezone', async () => {
    server.reset();
    override = { status: 201, body: { resource: invitee } };
    try {
      const result = await engine.run(calendly, 'create_event', { credentials, input: booking, baseUrl });
      const req = expectContract(result, server, 'CreateEventInvitee');
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.body).toEqual({ event_type: EVENT_TYPE, start_time: '2026-12-03T14:00:00.000Z', invitee: { name: 'Ana Lima', email: 'ana@example.com', timezone: 'America/Argentina/Buenos_Aires' } });
      expect(result.ok && result.output).toEqual({
        event_id: 'BBBBBBBBBBBBBBBB', status: 'confirmed', time_zone: 'America/Argentina/Buenos_Aires', cancel_url: invitee.cancel_url, reschedule_url: invitee.reschedule_url,
      });
    } finally {
      override = undefined;
    }
  });

  it('cancel_event cancels the scheduled event create_event returned, with the reason', async () => {
    server.reset();
    override = { status: 201, body: { resource: { canceled_by: 'Rui Costa', reason: 'Moved', canceler_type: 'host', created_at: '2026-12-02T09:30:00.000000Z' } } };
    try {
      const result = await engine.run(calendly, 'cancel_event', { credentials, input: { event_id: 'BBBBBBBBBBBBBBBB', reason: 'Moved' }, baseUrl });
      const req = expectContract(result, server, 'CancelEvent');
      expect(req.path).toBe('/scheduled_events/BBBBBBBBBBBBBBBB/cancellation');
      expect(req.body).toEqual({ reason: 'Moved' });
      expect(result.ok && result.output).toEqual({ event_id: 'BBBBBBBBBBBBBBBB', status: 'canceled', reason: 'Moved' });
    } finally {
      override = undefined;
    }
  });

  it('get_availability lists the event type\'s available times, each with its booking link', async () => {
    server.reset();
    const slot = { status: 'available', invitees_remaining: 1, start_time: '2026-12-03T14:00:00.000000Z', scheduling_url: 'https://calendly.com/rui-costa/30min/2026-12-03T11:00:00-03:00?month=2026-12&date=2026-12-03' };
    override = { status: 200, body: { collection: [slot] } };
    try {
      const input = { event_type: EVENT_TYPE, start: '2026-12-03T09:00:00-03:00', end: '2026-12-04T09:00:00-03:00', time_zone: 'America/Argentina/Buenos_Aires' };
      const result = await engine.run(calendly, 'get_availability', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'ListEventTypeAvailableTimes');
      expect(req.query).toEqual({ event_type: EVENT_TYPE, start_time: input.start, end_time: input.end });
      expect(result.ok && result.output).toEqual({ time_zone: input.time_zone, slots: [{ start: slot.start_time, url: slot.scheduling_url }] });
    } finally {
      override = undefined;
    }
  });

  it('verify is a valid GET /users/me', async () => {
    server.reset();
    const result = await engine.verify(calendly, { credentials, baseUrl });
    expectContract(result, server, 'GetCurrentUser');
  });

  it('NEGATIVE: a misspelt invitee field (time_zone for timezone) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('calendly', (t) => replaceOnce(t, '"timezone": input.time_zone', '"time_zone": input.time_zone'));
    const result = await engine.run(broken, 'create_event', { credentials, input: booking, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toEqual(expect.arrayContaining(['request.body.invitee.time_zone additionalProperties', 'request.body.invitee.timezone required']));
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a start_time that is not an RFC 3339 instant is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('calendly', (t) => replaceOnce(t, '"start_time": $fromMillis($toMillis(input.start)),', '"start_time": $substring(input.start, 0, 16),'));
    const result = await engine.run(broken, 'create_event', { credentials, input: booking, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.start_time')?.rule, info).toBe('format');
    expect(result.ok, info).toBe(false);
  });

  it('scheduled_events lists the connected user\'s events (user = connection.owner), 100 a page, then follows next_page_token', async () => {
    const page = {
      collection: [{
        uri: 'https://api.calendly.com/scheduled_events/BBBBBBBBBBBBBBBB', name: '30 Minute Meeting', status: 'canceled', start_time: '2026-12-03T15:00:00.000000Z', end_time: '2026-12-03T15:30:00.000000Z',
        event_type: EVENT_TYPE, created_at: '2026-12-01T12:00:07.123456Z', updated_at: '2026-12-02T09:30:00.000000Z',
        event_memberships: [{ user: 'https://api.calendly.com/users/EEEEEEEEEEEEEEEE', user_email: 'rui@example.com', user_name: 'Rui Costa' }],
      }],
      pagination: { count: 1, next_page: null, previous_page: null, next_page_token: 'sNjq4TvMDfUHEl7zHRR0k0E1PCEJWvdi', previous_page_token: null },
    };
    const connection = { owner: 'https://api.calendly.com/users/EEEEEEEEEEEEEEEE', organization: 'https://api.calendly.com/organizations/FFFFFFFFFFFFFFFF' };
    override = { status: 200, body: page };
    server.reset();
    const gen = engine.readStream(calendly, 'scheduled_events', { credentials, connection, baseUrl, cursor: null });
    try {
      const first = await gen.next();
      const firstReq = judged(server);
      expect(firstReq.rawQuery).toBe('user=https%3A%2F%2Fapi.calendly.com%2Fusers%2FEEEEEEEEEEEEEEEE&count=100');
      expect(!first.done && first.value.records.map((r) => r.data)).toEqual([{
        id: 'BBBBBBBBBBBBBBBB', title: '30 Minute Meeting', description: null, location: null, start: '2026-12-03T15:00:00.000000Z', end: '2026-12-03T15:30:00.000000Z', all_day: false, time_zone: null,
        status: 'cancelled', organizer: { email: 'rui@example.com', name: 'Rui Costa' }, attendees: null, created_at: '2026-12-01T12:00:07.123456Z', updated_at: '2026-12-02T09:30:00.000000Z',
        custom_fields: { event_type: EVENT_TYPE },
      }]);
      server.reset();
      override = { status: 200, body: { ...page, pagination: { ...page.pagination, next_page_token: null } } };
      const second = await gen.next();
      const nextReq = judged(server);
      expect(nextReq.rawQuery).toBe('user=https%3A%2F%2Fapi.calendly.com%2Fusers%2FEEEEEEEEEEEEEEEE&count=100&page_token=sNjq4TvMDfUHEl7zHRR0k0E1PCEJWvdi');
      expect(!second.done && second.value.next).toBeNull();
    } finally {
      await gen.return(undefined).catch(() => undefined);
      override = undefined;
    }
  });

  it('plugboard contract calendly: every capability example, verify and the scheduled_events stream pass against the recorded reference (the command\'s own run)', async () => {
    const report = await expectConnectorContract('calendly');
    // The command's stream runs carry the capability examples' connection, so `user` is
    // connection.owner. List Events has no modified-since filter: no incremental run.
    expect(streamQueries(report, 'scheduled_events')).toEqual({
      first: 'user=https%3A%2F%2Fapi.calendly.com%2Fusers%2FEEEEEEEEEEEEEEEE&count=100',
      next: 'user=https%3A%2F%2Fapi.calendly.com%2Fusers%2FEEEEEEEEEEEEEEEE&count=100&page_token=sNjq4TvMDfUHEl7zHRR0k0E1PCEJWvdi',
      incremental: undefined,
    });
  });

  it('NEGATIVE: a page token parameter List Events does not take (pageToken) fails the follow-up run', async () => {
    const failed = await failedStreamRuns('calendly', (t) => replaceOnce(t, 'param: page_token', 'param: pageToken'));
    expect(failed.map((r) => r.example)).toEqual(['a page with an active and a canceled event: next page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.pageToken additionalProperties']);
  });

  it('NEGATIVE: a page size over List Events\' maximum of 100 fails every page', async () => {
    const failed = await failedStreamRuns('calendly', (t) => replaceOnce(t, 'page_size: 100, page_size_param: count', 'page_size: 250, page_size_param: count'));
    // The refused first page gives no next page request, so there is no follow-up run to fail.
    expect(failed.map((r) => r.example)).toEqual(['a page with an active and a canceled event: first page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.count maximum']);
  });
});
