// Microsoft Outlook calendar connector vs Microsoft Graph v1.0 Calendar.yml (OAS 3.0.1, 2022). The spec
// has only /users/{user-id}/… paths; the connector calls /me/… (the signed-in user's alias, the one form
// every account type accepts), which the contract command judges by the same operations (its Graph
// fix-ups: /me aliases, open-type markers removed). Graph's open types accept unknown properties, so the
// negative tests send values the API refuses: contentType "Text" (the enum is lowercase, though the docs
// show "Text") and an attendee type outside required/optional/resource.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

const credentials = { access_token: 'eyJ0eXAiOiJKV1QiLCJub25jZSI6ImNvbnRyYWN0LXRlc3QifQ.contract.test' };
const created = {
  id: 'AAMkAGI1AAAt9AHjAAA=', subject: 'Quarterly review', isCancelled: false, showAs: 'busy',
  webLink: 'https://outlook.office365.com/owa/?itemid=AAMkAGI1AAAt9AHjAAA%3D&exvsurl=1&path=/calendar/item',
  start: { dateTime: '2026-12-03T10:00:00.0000000', timeZone: 'America/New_York' },
  end: { dateTime: '2026-12-03T11:00:00.0000000', timeZone: 'America/New_York' },
};
const input = {
  title: 'Quarterly review', description: 'Numbers for Q4', location: 'Room 4', start: '2026-12-03T10:00:00-05:00', end: '2026-12-03T11:00:00-05:00',
  time_zone: 'America/New_York', attendees: [{ email: 'ana@example.com', name: 'Ana Lima' }, { email: 'bo@example.com' }],
};

let override: MockResponse | undefined;

describe('microsoft_outlook connector vs the Microsoft Graph Calendar spec', () => {
  let server: SpecServer;
  let outlook: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('microsoft_outlook', { respond: () => override });
    outlook = loadConnector('microsoft_outlook');
    baseUrl = baseUrlOf(outlook, server);
  });
  afterAll(() => server?.close());

  it('create_event posts local times with the IANA zone as dateTimeTimeZone, attendees, Prefer outlook.timezone', async () => {
    server.reset();
    override = { status: 201, body: created };
    try {
      const result = await engine.run(outlook, 'create_event', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'me.calendar_CreateEvents');
      expect(req.path).toBe('/v1.0/me/calendar/events');
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.headers.prefer).toBe('outlook.timezone="America/New_York"');
      expect(req.body).toEqual({
        subject: 'Quarterly review',
        body: { contentType: 'text', content: 'Numbers for Q4' },
        start: { dateTime: '2026-12-03T10:00:00', timeZone: 'America/New_York' },
        end: { dateTime: '2026-12-03T11:00:00', timeZone: 'America/New_York' },
        location: { displayName: 'Room 4' },
        attendees: [
          { emailAddress: { address: 'ana@example.com', name: 'Ana Lima' }, type: 'required' },
          { emailAddress: { address: 'bo@example.com' }, type: 'required' },
        ],
      });
      expect(result.ok && result.output).toEqual({ event_id: created.id, url: created.webLink, status: 'confirmed', time_zone: 'America/New_York' });
    } finally {
      override = undefined;
    }
  });

  it('cancel_event is a valid DELETE of the event', async () => {
    server.reset();
    override = { status: 204 };
    try {
      const result = await engine.run(outlook, 'cancel_event', { credentials, input: { event_id: created.id, reason: 'not sent: DELETE takes no body' }, baseUrl });
      const req = expectContract(result, server, 'me_DeleteEvents');
      expect(req.path).toBe('/v1.0/me/events/AAMkAGI1AAAt9AHjAAA%3D');
      expect(req.rawBody).toBe('');
      expect(result.ok && result.output).toEqual({ event_id: created.id, status: 'canceled' });
    } finally {
      override = undefined;
    }
  });

  it('get_availability reads calendarView of the chosen calendar in UTC and keeps the busy, uncancelled events as instants', async () => {
    server.reset();
    const utc = (d: string) => ({ dateTime: d, timeZone: 'UTC' });
    override = {
      status: 200,
      body: {
        value: [
          { id: 'a', showAs: 'oof', isCancelled: false, start: utc('2026-12-03T15:00:00.0000000'), end: utc('2026-12-03T16:00:00.0000000') },
          { id: 'b', showAs: 'busy', isCancelled: true, start: utc('2026-12-03T16:00:00.0000000'), end: utc('2026-12-03T17:00:00.0000000') },
          { id: 'c', showAs: 'free', isCancelled: false, start: utc('2026-12-03T17:00:00.0000000'), end: utc('2026-12-03T18:00:00.0000000') },
        ],
      },
    };
    try {
      const avail = { start: '2026-12-03T08:00:00-05:00', end: '2026-12-03T18:00:00-05:00', time_zone: 'America/New_York', calendars: ['AAMkAGI1AAAbBbBbAAA='] };
      const result = await engine.run(outlook, 'get_availability', { credentials, input: avail, baseUrl });
      const req = expectContract(result, server, 'me.calendars_ListCalendarView');
      expect(req.path).toBe('/v1.0/me/calendars/AAMkAGI1AAAbBbBbAAA%3D/calendarView');
      expect(req.query).toEqual({ startDateTime: avail.start, endDateTime: avail.end, $select: 'start,end,showAs,isCancelled', $top: '500' });
      expect(req.headers.prefer).toBe('outlook.timezone="UTC"');
      expect(result.ok && result.output).toEqual({ time_zone: 'America/New_York', busy: [{ start: '2026-12-03T15:00:00.0000000Z', end: '2026-12-03T16:00:00.0000000Z', status: 'oof' }] });
    } finally {
      override = undefined;
    }
  });

  it('verify is a valid GET of the default calendar', async () => {
    server.reset();
    const result = await engine.verify(outlook, { credentials, baseUrl });
    const req = expectContract(result, server, 'me_GetCalendar');
    expect(req.path).toBe('/v1.0/me/calendar');
  });

  it('NEGATIVE: contentType "Text" (as the docs write it) is outside the spec\'s enum', async () => {
    server.reset();
    const broken = loadEditedManifest('microsoft_outlook', (t) => replaceOnce(t, '{ "contentType": "text",', '{ "contentType": "Text",'));
    const result = await engine.run(broken, 'create_event', { credentials, input, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.find((v) => v.location === 'request.body.body.contentType')?.rule, info).toBe('enum');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: an attendee type outside required/optional/resource is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('microsoft_outlook', (t) => replaceOnce(t, '"type": "required" }]', '"type": "mandatory" }]'));
    const result = await engine.run(broken, 'create_event', { credentials, input, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.some((v) => /^request\.body\.attendees\.0\.type$/.test(v.location) && v.rule === 'enum'), info).toBe(true);
    expect(result.ok, info).toBe(false);
  });

  it('plugboard contract microsoft_outlook: every capability example, verify and the events stream pass against the spec (the command\'s own run)', async () => {
    // Calendar.yml types the collection answer's extra properties as objects, so Graph's own
    // "@odata.context" string (in every real answer) is a fault of the spec, not of the page.
    const report = await expectConnectorContract('microsoft_outlook', { knownResponseFaults: /^\/@odata\.context must be object/ });
    const select = '%24select=subject%2Cbody%2CbodyPreview%2Cstart%2Cend%2CisAllDay%2CoriginalStartTimeZone%2Clocation%2CisCancelled%2CshowAs%2Corganizer%2Cattendees%2CwebLink%2CseriesMasterId%2CcreatedDateTime%2ClastModifiedDateTime';
    expect(streamQueries(report, 'events')).toEqual({
      first: `${select}&%24top=100`,
      // The page's @odata.nextLink, followed as Graph wrote it (its own $select, $top and $skip).
      next: `${select}&%24top=100&%24skip=100`,
      incremental: `${select}&%24top=100&%24filter=lastModifiedDateTime+ge+2017-04-18T14%3A02%3A33.9173205Z`,
    });
    const runs = report.runs.filter((r) => r.capability === 'streams.events');
    expect(runs.map((r) => r.requests[0]?.operationId)).toEqual(['me_ListEvents', 'me_ListEvents', 'me_ListEvents']);
    expect(runs.map((r) => r.requests[0]?.path)).toEqual(['/v1.0/me/events', '/v1.0/me/events', '/v1.0/me/events']);
  });

  it('events: an @odata.nextLink on graph.microsoft.com is followed on the base URL in use; one on another origin is refused', async () => {
    const page = (nextLink: string) => ({ status: 200, body: { value: [{ id: 'AAMkAGI1AAAt9AHjAAA=', subject: 'x', lastModifiedDateTime: '2026-12-01T12:00:00Z' }], '@odata.nextLink': nextLink } });
    const read = async (nextLink: string) => {
      server.reset();
      override = page(nextLink);
      const gen = engine.readStream(outlook, 'events', { credentials, baseUrl, cursor: null });
      try {
        const first = await gen.next();
        return { next: first.done ? undefined : first.value.next };
      } catch (err) {
        return { error: (err as Error).message };
      } finally {
        await gen.return(undefined).catch(() => undefined);
        override = undefined;
      }
    };
    const own = await read('https://graph.microsoft.com/v1.0/me/events?%24top=100&%24skip=100');
    expect(own.next?.url).toBe(`${baseUrl}/me/events?%24top=100&%24skip=100`);
    for (const foreign of ['https://graph.microsoft.com.evil.example/v1.0/me/events?%24skip=100', 'https://evil.example/https://graph.microsoft.com/v1.0/me/events']) {
      const r = await read(foreign);
      expect(r.next, foreign).toBeUndefined();
      expect(r.error, foreign).toMatch(/is not the provider's origin .*: refused/);
    }
  });

  it('NEGATIVE: an incremental filter parameter the spec does not define ($where) fails the incremental run', async () => {
    const failed = await failedStreamRuns('microsoft_outlook', (t) => replaceOnce(t, '        $filter: "{{#if sync.cursor}}', '        $where: "{{#if sync.cursor}}'));
    expect(failed.map((r) => r.example)).toEqual(['a page with a meeting and an all-day event: incremental (sync.cursor 2017-04-18T14:02:33.9173205Z)']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.$where additionalProperties']);
  });

  it('NEGATIVE: a $select property events do not have (title for subject) is outside the spec\'s enum', async () => {
    const failed = await failedStreamRuns('microsoft_outlook', (t) => replaceOnce(t, '$select: "subject,body,', '$select: "title,body,'));
    // The refused first page yields no record, so there is no cursor for an incremental request either.
    expect(failed.map((r) => r.example)).toEqual(['a page with a meeting and an all-day event: first page', 'a page with a meeting and an all-day event: incremental']);
    expect(failed[0]!.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.query.$select.0 enum']);
    expect(failed[1]!.problems).toEqual(['no valid record of the page has the cursor field "updated_at": no incremental request to check']);
  });
});
