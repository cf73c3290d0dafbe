// Google Calendar connector vs Google's Calendar API v3 as OpenAPI (google-calendar/openapi.yaml, the
// APIs.guru conversion of Google's Discovery document, 2022). Its schemas leave additionalProperties
// open, so an unknown field cannot fail; the negative tests send what the API would refuse instead: a
// local time without offset as start.dateTime (format date-time) and an unknown sendUpdates value.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

// A static access token: the engine's stand-in for the connect flow's token source.
const credentials = { access_token: 'ya29.a0AfB_byC-contract-test-token' };
const event = {
  kind: 'calendar#event', id: '7cbh8rpc10lrc0ckih9tafss99', status: 'confirmed',
  htmlLink: 'https://www.google.com/calendar/event?eid=N2NiaDhycGMxMGxyYzBja2loOXRhZnNzOTk',
  start: { dateTime: '2026-12-03T10:00:00-05:00', timeZone: 'America/New_York' },
  end: { dateTime: '2026-12-03T11:00:00-05:00', timeZone: 'America/New_York' },
};

let override: MockResponse | undefined;

describe('google_calendar connector vs the Google Calendar API v3 spec', () => {
  let server: SpecServer;
  let google: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('google_calendar', { respond: () => override });
    google = loadConnector('google_calendar');
    baseUrl = baseUrlOf(google, server);
  });
  afterAll(() => server?.close());

  it('create_event is a valid events.insert: RFC 3339 times with the IANA zone, attendees, sendUpdates, Bearer token', async () => {
    server.reset();
    override = { status: 200, body: event };
    try {
      const input = {
        title: 'Quarterly review', description: 'Numbers for Q4', location: 'Room 4', start: '2026-12-03T10:00:00-05:00', end: '2026-12-03T11:00:00-05:00',
        time_zone: 'America/New_York', attendees: [{ email: 'ana@example.com', name: 'Ana Lima' }, { email: 'bo@example.com' }],
      };
      const result = await engine.run(google, 'create_event', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'calendar.events.insert');
      expect(req.path).toBe('/calendar/v3/calendars/primary/events');
      expect(req.query).toEqual({ sendUpdates: 'all' });
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.body).toEqual({
        summary: 'Quarterly review', description: 'Numbers for Q4', location: 'Room 4',
        start: { dateTime: '2026-12-03T10:00:00-05:00', timeZone: 'America/New_York' },
        end: { dateTime: '2026-12-03T11:00:00-05:00', timeZone: 'America/New_York' },
        attendees: [{ email: 'ana@example.com', displayName: 'Ana Lima' }, { email: 'bo@example.com' }],
      });
      expect(result.ok && result.output).toEqual({ event_id: event.id, url: event.htmlLink, status: 'confirmed', start: event.start.dateTime, end: event.end.dateTime, time_zone: 'America/New_York' });
    } finally {
      override = undefined;
    }
  });

  it('cancel_event is a valid events.delete on the given calendar, quiet when notify is false', async () => {
    server.reset();
    override = { status: 204 };
    try {
      const result = await engine.run(google, 'cancel_event', { credentials, input: { event_id: event.id, calendar_id: 'team@example.com', notify: false }, baseUrl });
      const req = expectContract(result, server, 'calendar.events.delete');
      expect(req.path).toBe(`/calendar/v3/calendars/team%40example.com/events/${event.id}`);
      expect(req.query).toEqual({ sendUpdates: 'none' });
      expect(result.ok && result.output).toEqual({ event_id: event.id, status: 'canceled' });
    } finally {
      override = undefined;
    }
  });

  it('get_availability is a valid freebusy.query in the caller\'s zone; busy intervals of every calendar, flattened', async () => {
    server.reset();
    override = { status: 200, body: { kind: 'calendar#freeBusy', calendars: { primary: { busy: [{ start: '2026-12-03T09:00:00+01:00', end: '2026-12-03T10:00:00+01:00' }] }, 'bo@example.com': { busy: [] } } } };
    try {
      const input = { start: '2026-12-03T08:00:00+01:00', end: '2026-12-03T18:00:00+01:00', time_zone: 'Europe/Berlin', calendars: ['primary', 'bo@example.com'] };
      const result = await engine.run(google, 'get_availability', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'calendar.freebusy.query');
      expect(req.body).toEqual({ timeMin: input.start, timeMax: input.end, timeZone: 'Europe/Berlin', items: [{ id: 'primary' }, { id: 'bo@example.com' }] });
      expect(result.ok && result.output).toEqual({ time_zone: 'Europe/Berlin', busy: [{ start: '2026-12-03T09:00:00+01:00', end: '2026-12-03T10:00:00+01:00', calendar_id: 'primary' }] });
    } finally {
      override = undefined;
    }
  });

  it('verify is a valid calendars.get of the primary calendar', async () => {
    server.reset();
    const result = await engine.verify(google, { credentials, baseUrl });
    const req = expectContract(result, server, 'calendar.calendars.get');
    expect(req.path).toBe('/calendar/v3/calendars/primary');
  });

  it('NEGATIVE: a local time without offset as start.dateTime breaks format date-time', async () => {
    server.reset();
    const broken = loadEditedManifest('google_calendar', (t) => replaceOnce(t, '"start": { "dateTime": input.start,', '"start": { "dateTime": $substring(input.start, 0, 19),'));
    const input = { title: 'Review', start: '2026-12-03T10:00:00-05:00', end: '2026-12-03T11:00:00-05:00', time_zone: 'America/New_York' };
    const result = await engine.run(broken, 'create_event', { credentials, input, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.start.dateTime')?.rule, info).toBe('format');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: an unknown sendUpdates value is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('google_calendar', (t) => replaceOnce(t, /(cancel_event:[\s\S]*?sendUpdates: "\{\{#if \(eq input\.notify false\)\}\})none/, '$1nobody'));
    const result = await engine.run(broken, 'cancel_event', { credentials, input: { event_id: event.id, notify: false }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.query.sendUpdates')?.rule, info).toBe('enum');
    expect(result.ok, info).toBe(false);
  });

  it('plugboard contract google_calendar: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    const report = await expectConnectorContract('google_calendar');
    expect(streamQueries(report, 'events')).toEqual({
      first: 'maxResults=250',
      next: 'maxResults=250&pageToken=CigKGjdjYmg4cnBjMTBscmMwY2tpaDl0YWZzczk5GAEggIDA2YqO6gI%3D',
      incremental: 'updatedMin=2026-12-01T12%3A00%3A07.391Z&maxResults=250',
    });
  });

  it('NEGATIVE: a page token parameter the spec does not define (page_token) fails the follow-up run', async () => {
    const failed = await failedStreamRuns('google_calendar', (t) => replaceOnce(t, 'param: pageToken', 'param: page_token'));
    expect(failed.map((r) => r.example)).toEqual(['a page with a timed meeting and an all-day event: next page']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.page_token additionalProperties']);
  });
});
