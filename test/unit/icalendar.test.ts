// The manifest languages' iCalendar and XML support: TEXT escaping, folding and CRLF of a rendered
// VCALENDAR, parameter quoting, UTC date-times, the stable uid (same in a path and a body),
// $parseICalendar (bounded VTIMEZONE reading, input limits), XML response bodies as JSON, the
// provider_message of XML error answers, and the base_url-from-credentials rule.
import { describe, it, expect } from 'vitest';
import ICAL from 'ical.js';
import { compileTemplate, urlEncodedContext } from '../../runtime/lang/templates.ts';
import { compileExpression } from '../../runtime/lang/expressions.ts';
import { icalLines, icalText, icalParam, icalDateTime, parseICalendar, MAX_ICAL_CHARS, MAX_ICAL_EVENTS } from '../../runtime/lang/icalendar.ts';
import { parseBody, xmlErrorMessage } from '../../runtime/engine/response-body.ts';
import { Engine } from '../../runtime/engine/engine.ts';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { connectorFromYaml } from '../helpers/connector.ts';

describe('iCalendar templates', () => {
  it('ical escapes TEXT per RFC 5545 §3.3.11 and drops control characters', () => {
    expect(icalText('a\\b;c,d\ne\r\nf\rg\u0007h\ti')).toBe('a\\\\b\\;c\\,d\\ne\\nf\\ng' + 'h\ti');
    expect(icalText(undefined)).toBe('');
  });

  it('a value cannot inject properties: ical.js reads back exactly the value', () => {
    const evil = 'Hi\r\nATTENDEE:mailto:eve@example.com\nEND:VEVENT';
    const t = compileTemplate('{{#icalendar}}\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nSUMMARY:{{ical input.t}}\nEND:VEVENT\nEND:VCALENDAR\n{{/icalendar}}');
    const out = t.render({ input: { t: evil } });
    const ev = new ICAL.Component(ICAL.parse(out)).getFirstSubcomponent('vevent')!;
    expect(ev.getFirstPropertyValue('summary')).toBe(evil.replace(/\r\n|\r/g, '\n')); // TEXT knows one line break: \n
    expect(ev.getAllProperties('attendee')).toHaveLength(0);
  });

  it('icalendar ends lines with CRLF, drops blank lines and folds at 75 octets without splitting a character', () => {
    const long = `DESCRIPTION:${'é'.repeat(60)}${'x'.repeat(40)}`;
    const out = icalLines(`  BEGIN:VEVENT\n\n   \n${long}\nEND:VEVENT\n`);
    const lines = out.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(out.replace(/\r\n/g, '')).not.toContain('\n');
    for (const l of lines) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
    expect(lines[0]).toBe('BEGIN:VEVENT');
    expect(lines.slice(2).every((l) => l === '' || l === 'END:VEVENT' || l.startsWith(' '))).toBe(true);
    // Unfolding gives the line back, with no broken UTF-8 sequence.
    expect(out.replace(/\r\n /g, '').split('\r\n')[1]).toBe(long);
  });

  it('icalparam quotes a parameter value with RFC 6868 escapes, which ical.js decodes', () => {
    expect(icalParam('Lima, Ana "AL"^\nx')).toBe('"Lima, Ana ^\'AL^\'^^^nx"');
    const prop = ICAL.Property.fromString(`ATTENDEE;CN=${icalParam('Lima; Ana "AL"')}:mailto:a@example.com`);
    expect(prop.getParameter('cn')).toBe('Lima; Ana "AL"');
  });

  it('icaldate writes RFC 3339 instants in UTC and refuses a time without an offset', () => {
    expect(icalDateTime('2026-12-03T10:00:00-05:00')).toBe('20261203T150000Z');
    expect(icalDateTime('2026-12-03T10:00:00.750+01:00')).toBe('20261203T090000Z');
    expect(icalDateTime('')).toBe('');
    expect(icalDateTime('now')).toMatch(/^\d{8}T\d{6}Z$/);
    expect(() => icalDateTime('2026-12-03T10:00:00')).toThrow(/offset/);
  });

  it('uid is stable, differs for different values, and is the same in a (URL-encoded) path, a body and JSONata', async () => {
    const input = { title: 'a/b c?d%e', start: '2026-12-03T10:00:00Z', attendees: [{ email: 'x@example.com', name: 'Ü' }] };
    const path = compileTemplate('/{{uid input}}.ics').render(urlEncodedContext({ input }) as object);
    const body = compileTemplate('UID:{{uid input}}').render({ input });
    const jsonata = await compileExpression('$uid($input)').evaluate({}, { input });
    expect(path).toBe(`/${body.slice(4)}.ics`);
    expect(jsonata).toBe(body.slice(4));
    expect(body.slice(4)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(compileTemplate('{{uid input}}').render({ input: { ...input, title: 'other' } })).not.toBe(body.slice(4));
    // Key order does not matter.
    expect(await compileExpression('$uid($input)').evaluate({}, { input: { attendees: input.attendees, start: input.start, title: input.title } })).toBe(jsonata);
  });
});

describe('$parseICalendar', () => {
  const cal = (...lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', ...lines, 'END:VCALENDAR'].join('\r\n');

  it('reads all-day, floating, UTC and zoned events (a non-IANA TZID from the VTIMEZONE)', () => {
    const text = cal(
      'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time', 'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD',
      'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:a', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20261210', 'DTEND;VALUE=DATE:20261212', 'SUMMARY:Offsite', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:b', 'DTSTAMP:20260101T000000Z', 'DTSTART:20261203T100000', 'SUMMARY:Floating', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:c', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=W. Europe Standard Time:20260701T100000', 'DTEND;TZID=W. Europe Standard Time:20260701T110000',
      'ORGANIZER;CN=Rui:mailto:rui@example.com', 'ATTENDEE;PARTSTAT=DECLINED;ROLE=OPT-PARTICIPANT;RSVP=FALSE:MAILTO:bo@example.com', 'STATUS:CANCELLED', 'RRULE:FREQ=WEEKLY;COUNT=3', 'SEQUENCE:2', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:d', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=America/New_York:20260308T030000', 'DURATION:PT1H', 'END:VEVENT',
    );
    const [allDay, floating, zoned, iana] = parseICalendar(text)!;
    expect(allDay).toEqual({ uid: 'a', summary: 'Offsite', start: '2026-12-10', end: '2026-12-12', all_day: true, attendees: [], dtstamp: '2026-01-01T00:00:00Z' });
    expect(floating).toMatchObject({ uid: 'b', start: '2026-12-03T10:00:00', all_day: false });
    expect(floating).not.toHaveProperty('end');
    expect(zoned).toMatchObject({
      start: '2026-07-01T10:00:00+02:00', end: '2026-07-01T11:00:00+02:00', time_zone: 'W. Europe Standard Time', status: 'cancelled',
      organizer: { email: 'rui@example.com', name: 'Rui' }, attendees: [{ email: 'bo@example.com', partstat: 'declined', role: 'opt-participant', rsvp: false }],
      rrule: 'FREQ=WEEKLY;COUNT=3', sequence: 2,
    });
    // 03:00 on the day New York springs forward is already daylight time (-04:00).
    expect(iana).toMatchObject({ start: '2026-03-08T03:00:00-04:00', end: '2026-03-08T04:00:00-04:00', time_zone: 'America/New_York' });
  });

  it('gives nothing for nothing and an error for text that is not iCalendar', async () => {
    expect(parseICalendar(undefined)).toBeUndefined();
    await expect(compileExpression('$parseICalendar(x)').evaluate({ x: 'hello' })).rejects.toThrow(/not valid iCalendar/);
    expect(await compileExpression('$parseICalendar(x)[0].summary').evaluate({ x: cal('BEGIN:VEVENT', 'UID:z', 'SUMMARY:Hi\\, there', 'END:VEVENT') })).toBe('Hi, there');
  });
});

describe('$parseICalendar time zones and limits', () => {
  const cal = (...lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', ...lines, 'END:VCALENDAR'].join('\r\n');
  const zone = (tzid: string, ...observances: string[][]) => ['BEGIN:VTIMEZONE', `TZID:${tzid}`, ...observances.flat(), 'END:VTIMEZONE'];
  const obs = (kind: 'STANDARD' | 'DAYLIGHT', dtstart: string, from: string, to: string, ...more: string[]) => [`BEGIN:${kind}`, `DTSTART:${dtstart}`, `TZOFFSETFROM:${from}`, `TZOFFSETTO:${to}`, ...more, `END:${kind}`];
  const event = (uid: string, tzid: string, wall: string) => ['BEGIN:VEVENT', `UID:${uid}`, `DTSTART;TZID=${tzid}:${wall}`, 'END:VEVENT'];
  const starts = (text: string) => parseICalendar(text)!.map((e) => [e.start, e.time_zone]);
  // Windows' zone as Exchange writes it: rules from 1601.
  const wEurope = zone('W. Europe', obs('STANDARD', '16010101T030000', '+0200', '+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10'), obs('DAYLIGHT', '16010101T020000', '+0100', '+0200', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3'));

  it('a VTIMEZONE with a MINUTELY rule (which ical.js would expand forever) finishes and leaves the time without offset', () => {
    const minutely = obs('STANDARD', '16010101T000000', '+0100', '+0000', 'RRULE:FREQ=MINUTELY');
    const text = cal(...zone('Evil', minutely), ...event('a', 'Evil', '20260701T100000'), 'BEGIN:VEVENT', 'UID:b', 'DTSTART;TZID=Evil:99991231T235959', 'DURATION:PT1H', 'END:VEVENT');
    expect(parseICalendar(text)).toEqual([
      { uid: 'a', start: '2026-07-01T10:00:00', time_zone: 'Evil', all_day: false, attendees: [] },
      { uid: 'b', start: '9999-12-31T23:59:59', time_zone: 'Evil', all_day: false, attendees: [] }, // the end would be in year 10000: left out
    ]);
  });

  it('uses a VTIMEZONE only when every rule is YEARLY or MONTHLY with few BY* values', () => {
    const yearly = obs('STANDARD', '16010101T030000', '+0200', '+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10');
    const text = cal(
      ...zone('Daily', yearly, obs('DAYLIGHT', '16010101T020000', '+0100', '+0200', 'RRULE:FREQ=DAILY')),
      ...zone('ByHour', yearly, obs('DAYLIGHT', '16010101T020000', '+0100', '+0200', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYHOUR=1,2,3')),
      ...zone('Many', yearly, obs('DAYLIGHT', '16010101T020000', '+0100', '+0200', 'RRULE:FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=SU')),
      ...zone('Two rules', obs('STANDARD', '16010101T030000', '+0200', '+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11')),
      ...zone('Old Outlook', obs('STANDARD', '16010101T030000', '+0200', '+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=SU;BYMONTHDAY=25,26,27,28,29,30,31'), obs('DAYLIGHT', '16010101T020000', '+0100', '+0200', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYMONTHDAY=25,26,27,28,29,30,31')),
      ...zone('SetPos', obs('STANDARD', '16010101T030000', '+0200', '+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=SU;BYSETPOS=-1'), obs('DAYLIGHT', '16010101T020000', '+0100', '+0200', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1')),
      ...['Daily', 'ByHour', 'Many', 'Two rules', 'Old Outlook', 'SetPos', 'Nowhere'].flatMap((z) => event(z, z, '20261025T030000')),
    );
    expect(starts(text)).toEqual([
      ['2026-10-25T03:00:00', 'Daily'], ['2026-10-25T03:00:00', 'ByHour'], ['2026-10-25T03:00:00', 'Many'], ['2026-10-25T03:00:00', 'Two rules'],
      ['2026-10-25T03:00:00+01:00', 'Old Outlook'], ['2026-10-25T03:00:00+01:00', 'SetPos'], ['2026-10-25T03:00:00', 'Nowhere'],
    ]);
  });

  it('prefers Intl for an IANA TZID, whatever VTIMEZONE of that name the object carries', () => {
    const evil = zone('Europe/Berlin', obs('STANDARD', '16010101T000000', '+0100', '+0000', 'RRULE:FREQ=MINUTELY'));
    expect(starts(cal(...evil, ...event('a', 'Europe/Berlin', '20260701T100000'), ...event('b', 'Europe/Berlin', '20261201T100000'))))
      .toEqual([['2026-07-01T10:00:00+02:00', 'Europe/Berlin'], ['2026-12-01T10:00:00+01:00', 'Europe/Berlin']]);
    expect(starts(cal(...event('c', 'Asia/Kolkata', '00500101T000000')))[0]![0]).toMatch(/^0050-01-01T00:00:00\+05:53$/); // local mean time, not 1950's
  });

  it('reads a yearly VTIMEZONE right in any year, and gaps and repeated hours as RFC 5545 §3.3.5 says', () => {
    const at = (wall: string) => starts(cal(...wEurope, ...event('x', 'W. Europe', wall)))[0]![0];
    expect(at('99990701T100000')).toBe('9999-07-01T10:00:00+02:00'); // far from the 1601 DTSTART: expanded near 9999 only
    expect(at('99991201T100000')).toBe('9999-12-01T10:00:00+01:00');
    expect(at('20260115T100000')).toBe('2026-01-15T10:00:00+01:00'); // the last change is in the year before
    expect(at('20260329T015959')).toBe('2026-03-29T01:59:59+01:00');
    expect(at('20260329T023000')).toBe('2026-03-29T02:30:00+01:00'); // does not exist: the offset before the gap
    expect(at('20260329T030000')).toBe('2026-03-29T03:00:00+02:00');
    expect(at('20261025T023000')).toBe('2026-10-25T02:30:00+02:00'); // occurs twice: the first one
    expect(at('20261025T030000')).toBe('2026-10-25T03:00:00+01:00');
    expect(at('15000101T000000')).toBe('1500-01-01T00:00:00+02:00'); // before any onset: the first one's TZOFFSETFROM
  });

  it('reads ended rules (UNTIL), fixed onsets and RDATEs, and MONTHLY rules', () => {
    const ended = zone('Ended',
      obs('DAYLIGHT', '19800406T020000', '+0100', '+0200', 'RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20150405T010000Z'),
      obs('STANDARD', '19801026T030000', '+0200', '+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20141026T010000Z'),
      obs('STANDARD', '20151025T030000', '+0200', '+0300', 'RDATE:20400101T000000'),
      obs('DAYLIGHT', '20400101T000000', '+0300', '+0400'));
    const monthly = zone('Monthly', obs('STANDARD', '20260101T000000', '+0100', '+0000', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=1'), obs('DAYLIGHT', '20260115T000000', '+0000', '+0100', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=15'));
    const text = cal(...ended, ...monthly, ...['20141201', '20150701', '20300701', '20450701'].flatMap((d) => event(d, 'Ended', `${d}T120000`)),
      ...['20260310', '20260320', '20271110'].flatMap((d) => event(d, 'Monthly', `${d}T120000`)));
    expect(starts(text).map(([s]) => s)).toEqual([
      '2014-12-01T12:00:00+01:00', '2015-07-01T12:00:00+02:00', '2030-07-01T12:00:00+03:00', '2045-07-01T12:00:00+03:00',
      '2026-03-10T12:00:00+00:00', '2026-03-20T12:00:00+01:00', '2027-11-10T12:00:00+00:00',
    ]);
  });

  it('stops expanding rules at a budget: past it the offset is unknown', () => {
    // MONTHLY from 1601 expands from its DTSTART: 4800 steps reach 2001, not 9999.
    const monthly = zone('Monthly', obs('STANDARD', '16010101T000000', '+0100', '+0000', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=1'));
    expect(starts(cal(...monthly, ...event('a', 'Monthly', '16020510T000000'), ...event('b', 'Monthly', '99990101T000000'))))
      .toEqual([['1602-05-10T00:00:00+00:00', 'Monthly'], ['9999-01-01T00:00:00', 'Monthly']]);
  });

  it('computes the end from DURATION, and leaves out an end past year 9999', () => {
    const text = cal(
      'BEGIN:VEVENT', 'UID:a', 'DTSTART:20261231T230000Z', 'DURATION:P1W', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:b', 'DTSTART;VALUE=DATE:20261231', 'DURATION:P2D', 'END:VEVENT',
      ...wEurope, 'BEGIN:VEVENT', 'UID:c', 'DTSTART;TZID=W. Europe:20261024T120000', 'DURATION:P1DT1H', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:d', 'DTSTART:20260101T000000Z', 'DURATION:P99999999999W', 'END:VEVENT',
    );
    expect(parseICalendar(text)!.map((e) => [e.start, e.end])).toEqual([
      ['2026-12-31T23:00:00Z', '2027-01-07T23:00:00Z'], ['2026-12-31', '2027-01-02'],
      ['2026-10-24T12:00:00+02:00', '2026-10-25T13:00:00+01:00'], ['2026-01-01T00:00:00Z', undefined],
    ]);
  });

  it('refuses text longer than MAX_ICAL_CHARS and more than MAX_ICAL_EVENTS events', async () => {
    const big = cal('BEGIN:VEVENT', 'UID:a', `DESCRIPTION:${'x'.repeat(MAX_ICAL_CHARS)}`, 'END:VEVENT');
    expect(() => parseICalendar(big)).toThrow(`$parseICalendar: the iCalendar text is ${big.length} characters; at most ${MAX_ICAL_CHARS} are read`);
    const many = (n: number) => cal(...Array.from({ length: n }, (_, i) => ['BEGIN:VEVENT', `UID:${i}`, 'END:VEVENT']).flat());
    expect(parseICalendar(many(MAX_ICAL_EVENTS))).toHaveLength(MAX_ICAL_EVENTS);
    await expect(compileExpression('$parseICalendar(x)').evaluate({ x: many(MAX_ICAL_EVENTS + 1) })).rejects.toThrow(`has ${MAX_ICAL_EVENTS + 1} events; at most ${MAX_ICAL_EVENTS} are read`);
  });
});

describe('XML response bodies', () => {
  const res = (body: string, type = 'application/xml; charset=utf-8') => ({ status: 207, headers: { 'content-type': type }, body: Buffer.from(body) });

  it('parse into JSON without namespace prefixes, with attributes as @name and text kept as strings', () => {
    const body = parseBody(res('<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response><D:href>/a.ics</D:href><D:propstat><D:prop><D:getetag>"0012"</D:getetag><C:calendar-data>A&amp;B&#13;</C:calendar-data><C:x id="7">t</C:x><D:empty/></D:prop></D:propstat></D:response><D:response><D:href>/b.ics</D:href></D:response></D:multistatus>'));
    expect(body).toEqual({
      multistatus: {
        response: [
          { href: '/a.ics', propstat: { prop: { getetag: '"0012"', 'calendar-data': 'A&B\r', x: { '#text': 't', '@id': '7' }, empty: '' } } },
          { href: '/b.ics' },
        ],
      },
    });
    expect(parseBody(res('<a><n>0012</n></a>', 'text/xml'))).toEqual({ a: { n: '0012' } });
    expect(parseBody(res('<feed xmlns="http://www.w3.org/2005/Atom"><id>1</id></feed>', 'application/atom+xml'))).toEqual({ feed: { id: '1' } });
    expect(parseBody(res('<p>hi</p>', 'text/html'))).toBe('<p>hi</p>');
  });

  it('REPORT and PROPFIND requests reach the provider, and mappings read the multistatus', async () => {
    const c = connectorFromYaml(`
schema_version: 1
name: dav
display_name: Dav
category: calendar
base_url: "{{credentials.url}}"
auth: { type: basic, username: u, password: "{{credentials.p}}" }
credential_schema:
  url: { type: string, sensitive: false, required: true, format: uri }
  p: { type: string, sensitive: true, required: true }
verify:
  request: { method: PROPFIND, path: /, headers: { depth: "0" }, body_format: xml, body: "<propfind xmlns='DAV:'/>" }
  success: $exists(multistatus.response.propstat.prop.resourcetype.calendar)
capabilities:
  cancel_event:
    request: { method: REPORT, path: "/{{input.event_id}}", body_format: xml, body: "<q>{{xml input.reason}}</q>" }
    response: '{ "event_id": multistatus.response.href, "status": "canceled" }'
`);
    const seen: Array<{ method: string; url: string; body?: string }> = [];
    const transport = {
      async send(req: { method: string; url: string; body?: string | Buffer }) {
        seen.push({ method: req.method, url: req.url, body: req.body?.toString() });
        const xml = req.method === 'PROPFIND'
          ? '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop></d:propstat></d:response></d:multistatus>'
          : '<multistatus xmlns="DAV:"><response><href>e1</href></response></multistatus>';
        return { status: 207, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xml) };
      },
    };
    const engine = new Engine({ transport, env: {} });
    const credentials = { url: 'http://dav.invalid/cal/ana/', p: 'pw-123456' };
    expect(await engine.verify(c, { credentials })).toMatchObject({ ok: true });
    expect(await engine.run(c, 'cancel_event', { credentials, input: { event_id: 'e1', reason: 'a<b' } })).toMatchObject({ ok: true, output: { event_id: 'e1' } });
    expect(seen).toEqual([
      { method: 'PROPFIND', url: 'http://dav.invalid/cal/ana/', body: "<propfind xmlns='DAV:'/>" },
      { method: 'REPORT', url: 'http://dav.invalid/cal/ana/e1', body: '<q>a&lt;b</q>' },
    ]);
    // A base URL the credentials do not give is invalid_credentials, before anything is sent.
    expect(await engine.verify(c, { credentials: { ...credentials, url: 'ftp://x' } })).toMatchObject({ ok: false, error: { type: 'invalid_credentials' } });
    expect(seen).toHaveLength(2);
  });
});

describe('provider_message of XML error answers', () => {
  const manifest = `
schema_version: 1
name: dav
display_name: Dav
category: calendar
base_url: "{{credentials.url}}"
auth: { type: basic, username: u, password: "{{credentials.p}}" }
credential_schema:
  url: { type: string, sensitive: false, required: true, format: uri }
  p: { type: string, sensitive: true, required: true }
capabilities:
  cancel_event:
    request: { method: DELETE, path: "/{{input.event_id}}" }
    response: '{ "event_id": $input.event_id, "status": "canceled" }'
`;
  const credentials = { url: 'http://dav.invalid/cal/', p: 'pw-s3cr3t&x' };
  const failWith = async (status: number, body: string, type: string | undefined = 'application/xml; charset=utf-8') => {
    const transport = { async send() { return { status, headers: (type ? { 'content-type': type } : {}) as Record<string, string>, body: Buffer.from(body) }; } };
    const out = await new Engine({ transport, env: {} }).run(connectorFromYaml(manifest), 'cancel_event', { credentials, input: { event_id: 'e1' } });
    expect(out.ok).toBe(false);
    return (out as { error: { type: string; status?: number; message: string; provider_message?: string } }).error;
  };

  it('an XML 4xx answer gives a provider_message from its message element, DAV precondition or text', async () => {
    expect(await failWith(403, '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>'))
      .toMatchObject({ type: 'provider_error', status: 403, provider_message: 'Access Denied', message: 'Dav answered 403: Access Denied' });
    expect(await failWith(404, '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:sabredav-version>4</s:sabredav-version><s:exception>Sabre\\DAV\\Exception\\NotFound</s:exception><s:message>Event e1 not found</s:message></d:error>'))
      .toMatchObject({ provider_message: 'Event e1 not found' });
    expect(await failWith(403, '<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:valid-calendar-data/><C:no-uid-conflict><D:href>/x.ics</D:href></C:no-uid-conflict></D:error>', 'text/xml'))
      .toMatchObject({ provider_message: 'valid-calendar-data, no-uid-conflict' });
    expect(await failWith(500, '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Server busy</faultstring></soap:Fault></soap:Body></soap:Envelope>', 'application/soap+xml'))
      .toMatchObject({ provider_message: 'Server busy' });
    expect(await failWith(400, '<?xml version="1.0"?><oops><why>bad password pw-s3cr3t&amp;x</why><when>now</when></oops>', undefined))
      .toMatchObject({ provider_message: 'bad password [REDACTED] now' });
    // Not XML: JSON shapes as before, text as text, an unknown JSON shape gives none.
    expect(await failWith(400, '{"error":{"message":"bad"}}', 'application/json')).toMatchObject({ provider_message: 'bad' });
    expect(await failWith(502, '<html><body>Bad gateway</body></html>', 'text/html')).toMatchObject({ provider_message: '<html><body>Bad gateway</body></html>' });
    expect((await failWith(400, '{"oops":{"why":"x"}}', 'application/json')).provider_message).toBeUndefined();
  });

  it('xmlErrorMessage keeps to 500 characters and reads only XML answers', () => {
    const res = (body: string, type: string) => ({ status: 400, headers: { 'content-type': type } as Record<string, string>, body: Buffer.from(body) });
    const long = res(`<a><b>${'y'.repeat(2000)}</b></a>`, 'text/xml');
    expect(xmlErrorMessage(long, parseBody(long))).toBe('y'.repeat(500));
    const json = res('{"a":{"message":"m"}}', 'application/json');
    expect(xmlErrorMessage(json, parseBody(json))).toBeUndefined();
    const empty = res('<error/>', 'application/xml');
    expect(xmlErrorMessage(empty, parseBody(empty))).toBeUndefined();
  });
});

describe('base_url from credentials', () => {
  const manifest = (field: string) => `
schema_version: 1
name: dav
display_name: Dav
category: calendar
base_url: "{{credentials.url}}/x"
auth: { type: basic, username: u, password: "{{credentials.p}}" }
credential_schema:
  url: ${field}
  p: { type: string, sensitive: true, required: true }
capabilities:
  cancel_event:
    request: { method: DELETE, path: "/{{input.event_id}}" }
    response: '{ "event_id": $input.event_id, "status": "canceled" }'
`;
  it('may read only non-sensitive credentials of format uri', () => {
    expect(loadManifestText(manifest('{ type: string, sensitive: false, required: true, format: uri }'), 'dav.yaml').issues).toEqual([]);
    for (const bad of ['{ type: string, sensitive: true, required: true, format: uri }', '{ type: string, sensitive: false, required: true }']) {
      const issues = loadManifestText(manifest(bad), 'dav.yaml').issues;
      expect(issues.map((i) => i.message)).toEqual([expect.stringMatching(/base_url reads "credentials.url": a credential in base_url must be declared sensitive: false and format: uri/)]);
      expect(issues[0]).toMatchObject({ line: 6 });
    }
    const input = loadManifestText(manifest('{ type: string, sensitive: false, required: true, format: uri }').replace('{{credentials.url}}', '{{input.url}}'), 'dav.yaml').issues;
    expect(input.map((i) => i.message).join('\n')).toMatch(/may read only connection\.\* or credentials\.\*/);
  });
});
