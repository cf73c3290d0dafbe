// Cal.com connector vs test/contract/recorded/cal_com.yaml: Cal.com publishes no spec we may copy (its
// v2 OpenAPI document is under the commercial licence), so its requests are judged by a fragment
// recorded from the public API reference (https://cal.com/docs/api-reference/v2/…, cited per operation
// in the fragment). The fragment's request bodies refuse unknown fields, as the real API does
// ("property X should not exist"), so a misspelt key fails.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

const credentials = { api_key: 'cal_live_5f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f' };
const booking = {
  id: 987654, uid: '8Qqc9k2nBvwMzV1mXyR3tA', title: '30 Min Meeting between Rui Costa and Ana Lima', status: 'accepted',
  start: '2026-12-03T12:00:00.000Z', end: '2026-12-03T12:30:00.000Z', duration: 30, eventTypeId: 1234567,
  meetingUrl: 'https://app.cal.com/video/8Qqc9k2nBvwMzV1mXyR3tA',
};

let override: MockResponse | undefined;

describe('cal_com connector vs the recorded Cal.com API v2 reference', () => {
  let server: SpecServer;
  let cal: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('cal_com', { respond: () => override });
    cal = loadConnector('cal_com');
    baseUrl = baseUrlOf(cal, server);
  });
  afterAll(() => server?.close());

  it('create_event books the event type: UTC start, numeric id, the IANA zone as attendee.timeZone, cal-api-version 2024-08-13', async () => {
    server.reset();
    override = { status: 201, body: { status: 'success', data: booking } };
    try {
      const input = {
        event_type: '1234567', start: '2026-12-03T09:00:00-03:00', end: '2026-12-03T09:30:00-03:00', time_zone: 'America/Sao_Paulo',
        title: 'not sent: the event type names the booking', attendees: [{ email: 'ana@example.com', name: 'Ana Lima' }, { email: 'bo@example.com' }, { email: 'cy@example.com' }],
      };
      const result = await engine.run(cal, 'create_event', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'BookingsController_2024_08_13_createBooking');
      expect(req.headers.authorization).toBe(`Bearer ${credentials.api_key}`);
      expect(req.headers['cal-api-version']).toBe('2024-08-13');
      expect(req.body).toEqual({
        start: '2026-12-03T12:00:00.000Z',
        eventTypeId: 1234567,
        attendee: { name: 'Ana Lima', email: 'ana@example.com', timeZone: 'America/Sao_Paulo' },
        guests: ['bo@example.com', 'cy@example.com'],
      });
      expect(result.ok && result.output).toEqual({
        event_id: booking.uid, url: booking.meetingUrl, status: 'confirmed', start: booking.start, end: booking.end, time_zone: 'America/Sao_Paulo',
      });
    } finally {
      override = undefined;
    }
  });

  it('cancel_event posts the reason to /v2/bookings/{uid}/cancel', async () => {
    server.reset();
    override = { status: 200, body: { status: 'success', data: { ...booking, status: 'cancelled', cancellationReason: 'Moved' } } };
    try {
      const result = await engine.run(cal, 'cancel_event', { credentials, input: { event_id: booking.uid, reason: 'Moved' }, baseUrl });
      const req = expectContract(result, server, 'BookingsController_2024_08_13_cancelBooking');
      expect(req.path).toBe(`/v2/bookings/${booking.uid}/cancel`);
      expect(req.body).toEqual({ cancellationReason: 'Moved' });
      expect(result.ok && result.output).toEqual({ event_id: booking.uid, status: 'canceled', reason: 'Moved' });
    } finally {
      override = undefined;
    }
  });

  it('get_availability asks /v2/slots in the caller\'s zone (cal-api-version 2024-09-04) and flattens the days', async () => {
    server.reset();
    const input = { event_type: '1234567', start: '2026-12-03T00:00:00-03:00', end: '2026-12-05T00:00:00-03:00', time_zone: 'America/Sao_Paulo' };
    override = { status: 200, body: { status: 'success', data: { '2026-12-03': [{ start: '2026-12-03T09:00:00.000-03:00' }], '2026-12-04': [{ start: '2026-12-04T10:00:00.000-03:00' }, { start: '2026-12-04T10:30:00.000-03:00' }] } } };
    try {
      const result = await engine.run(cal, 'get_availability', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'SlotsController_2024_09_04_getAvailableSlots');
      expect(req.headers['cal-api-version']).toBe('2024-09-04');
      expect(req.query).toEqual({ eventTypeId: '1234567', start: input.start, end: input.end, timeZone: 'America/Sao_Paulo' });
      expect(result.ok && result.output).toEqual({
        time_zone: 'America/Sao_Paulo',
        slots: [{ start: '2026-12-03T09:00:00.000-03:00' }, { start: '2026-12-04T10:00:00.000-03:00' }, { start: '2026-12-04T10:30:00.000-03:00' }],
      });
    } finally {
      override = undefined;
    }
  });

  it('verify is a valid GET /v2/me with the API key as Bearer', async () => {
    server.reset();
    const result = await engine.verify(cal, { credentials, baseUrl });
    const req = expectContract(result, server, 'MeController_getMe');
    expect(req.headers.authorization).toBe(`Bearer ${credentials.api_key}`);
  });

  it('NEGATIVE: a misspelt attendee field (timezone for timeZone) is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('cal_com', (t) => replaceOnce(t, '"timeZone": input.time_zone', '"timezone": input.time_zone'));
    const input = { event_type: '1234567', start: '2026-12-03T09:00:00-03:00', end: '2026-12-03T09:30:00-03:00', time_zone: 'America/Sao_Paulo', attendees: [{ email: 'ana@example.com', name: 'Ana Lima' }] };
    const result = await engine.run(broken, 'create_event', { credentials, input, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toEqual(expect.arrayContaining(['request.body.attendee.timezone additionalProperties', 'request.body.attendee.timeZone required']));
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: a booking request without the cal-api-version header is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('cal_com', (t) => replaceOnce(t, /path: \/v2\/bookings\n(\s*)headers:\n\s*cal-api-version: "2024-08-13"\n/, 'path: /v2/bookings\n'));
    const input = { event_type: '1234567', start: '2026-12-03T09:00:00-03:00', end: '2026-12-03T09:30:00-03:00', time_zone: 'UTC', attendees: [{ email: 'ana@example.com', name: 'Ana Lima' }] };
    const result = await engine.run(broken, 'create_event', { credentials, input, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.header.cal-api-version')?.rule, info).toBe('required');
    expect(result.ok, info).toBe(false);
  });

  it('plugboard contract cal_com: every capability example, verify and the bookings stream pass against the recorded reference (the command\'s own run)', async () => {
    const report = await expectConnectorContract('cal_com');
    expect(streamQueries(report, 'bookings')).toEqual({
      first: 'sortCreated=asc&take=100&skip=0',
      // The offset advances by the two bookings the page held.
      next: 'sortCreated=asc&take=100&skip=2',
      incremental: 'sortCreated=asc&afterUpdatedAt=2024-08-13T17%3A45%3A00Z&take=100&skip=0',
    });
    const runs = report.runs.filter((r) => r.capability === 'streams.bookings');
    expect(runs.map((r) => r.requests[0]?.operationId)).toEqual(Array(3).fill('BookingsController_2024_08_13_getBookings'));
  });

  it('bookings sends cal-api-version 2024-08-13 and the API key on every page', async () => {
    server.reset();
    override = { status: 200, body: { status: 'success', data: [], pagination: { totalItems: 0, remainingItems: 0, returnedItems: 0, itemsPerPage: 100, currentPage: 1, totalPages: 0, hasNextPage: false, hasPreviousPage: false } } };
    const gen = engine.readStream(cal, 'bookings', { credentials, baseUrl, cursor: '2024-08-13T17:45:00Z' });
    try {
      const page = await gen.next();
      expect(!page.done && page.value.next).toBeNull();
      expect(server.violations).toEqual([]);
      expect(server.responseIssues).toEqual([]);
      expect(server.requests.map((r) => r.operationId)).toEqual(['BookingsController_2024_08_13_getBookings']);
      const req = server.requests[0]!;
      expect(req.headers['cal-api-version']).toBe('2024-08-13');
      expect(req.headers.authorization).toBe(`Bearer ${credentials.api_key}`);
      expect(req.query).toEqual({ sortCreated: 'asc', afterUpdatedAt: '2024-08-13T17:45:00Z', take: '100', skip: '0' });
    } finally {
      await gen.return(undefined).catch(() => undefined);
      override = undefined;
    }
  });

  it('NEGATIVE: an update filter Get all bookings does not take (updatedAfter) fails the incremental run', async () => {
    const failed = await failedStreamRuns('cal_com', (t) => replaceOnce(t, 'param: afterUpdatedAt', 'param: updatedAfter'));
    expect(failed.map((r) => r.example)).toEqual(['a page with an accepted and a cancelled booking: incremental (sync.cursor 2024-08-13T17:45:00Z)']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.updatedAfter additionalProperties']);
  });

  it('NEGATIVE: an offset parameter the API does not take (offset for skip) fails the first page', async () => {
    const failed = await failedStreamRuns('cal_com', (t) => replaceOnce(t, 'type: offset, param: skip,', 'type: offset, param: offset,'));
    // The refused first page gives no page to follow and no cursor for an incremental request.
    expect(failed.map((r) => r.example)).toEqual(['a page with an accepted and a cancelled booking: first page', 'a page with an accepted and a cancelled booking: incremental']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.offset additionalProperties']);
  });
});
