// The caldav connector against a real CalDAV server on loopback: Debian's radicale (3.x), started per
// run in a temporary folder with one htpasswd user and one calendar. WebDAV has no OpenAPI document to
// judge requests by, so the server itself is the judge: what create_event PUTs must be accepted, stored
// and found again by a REPORT time-range query, and read back independently (ical.js) as what was sent.
// radicale must be installed (.ci/run installs it when missing): without it this file fails, naming
// the package to install; it never skips.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { Engine } from '../../runtime/engine/engine.ts';
import { modelErrors } from '../../runtime/manifest/models.ts';
import { loadConnector } from './helpers.ts';

const RADICALE = ['/usr/bin/radicale', '/usr/local/bin/radicale'].find((p) => fs.existsSync(p)) ?? (spawnSync('sh', ['-c', 'command -v radicale']).stdout?.toString().trim() || undefined);

const USER = 'ana';
const PASSWORD = 'cal-secret-7f3k9q';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function dav(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method, headers: { authorization: AUTH, ...(body ? { 'content-type': 'application/xml; charset=utf-8' } : {}), ...headers }, body });
  return { status: res.status, text: await res.text() };
}

describe('caldav against a real CalDAV server (radicale on loopback)', () => {
  let child: ChildProcess | undefined;
  let dir = '';
  let calendarUrl = '';
  let log = '';
  const connector = loadConnector('caldav');
  // radicale listens on loopback: a private address, allowed only with PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1.
  const engine = new Engine({ env: { PLUGBOARD_ALLOW_PRIVATE_PROVIDERS: '1' } });
  const credentials = () => ({ calendar_url: calendarUrl, username: USER, password: PASSWORD });

  beforeAll(async () => {
    if (!RADICALE) throw new Error('radicale is not installed: this test needs a real CalDAV server (apt-get install radicale; .ci/run installs it when it is missing)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugboard-radicale-'));
    fs.writeFileSync(path.join(dir, 'users'), `${USER}:${PASSWORD}\n`);
    const port = await freePort();
    child = spawn(RADICALE, [
      '--config', '', // no system or user configuration files: only these options
      '--server-hosts', `127.0.0.1:${port}`,
      '--auth-type', 'htpasswd', '--auth-htpasswd-filename', path.join(dir, 'users'), '--auth-htpasswd-encryption', 'plain',
      '--rights-type', 'owner_only',
      '--storage-filesystem-folder', path.join(dir, 'collections'),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (log += String(d)));
    child.stderr?.on('data', (d) => (log += String(d)));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/.web/`)).status < 500) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`radicale did not start on ${base}:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    calendarUrl = `${base}/${USER}/work/`;
    const made = await dav('MKCALENDAR', calendarUrl, '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Work</d:displayname></d:prop></d:set></c:mkcalendar>');
    expect(made.status, `${made.text}\n${log}`).toBe(201);
  });

  afterAll(() => {
    child?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const input = {
    title: 'Quarterly review; Q4, numbers \\ "final"',
    description: `Agenda:\n1. revenue, costs; forecast\n2. Café ünd Größe ${'– lange Beschreibung '.repeat(6)}`,
    location: 'Room 4, 2nd floor',
    start: '2026-12-03T10:00:00-05:00',
    end: '2026-12-03T11:30:00-05:00',
    time_zone: 'America/New_York',
    attendees: [{ email: 'ana@example.com', name: 'Lima, Ana "AL"' }, { email: 'bo@example.com' }],
  };
  let eventId = '';

  it('verify: PROPFIND on the calendar collection accepts the credentials', async () => {
    const res = await engine.verify(connector, { credentials: credentials() });
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true });
  });

  it('verify refuses a collection that is not a calendar', async () => {
    const home = calendarUrl.replace(/work\/$/, '');
    const res = await engine.verify(connector, { credentials: { ...credentials(), calendar_url: home } });
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', message: expect.stringMatching(/did not confirm/) } });
  });

  it('create_event PUTs an iCalendar event the server stores as sent (read back by PROPFIND and GET, parsed by ical.js)', async () => {
    const res = await engine.run(connector, 'create_event', { credentials: credentials(), input });
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, output: { status: 'confirmed', start: input.start, end: input.end, time_zone: input.time_zone } });
    eventId = (res as { output: { event_id: string } }).output.event_id;
    expect(eventId).toMatch(/^[0-9a-f-]{36}\.ics$/);

    const listing = await dav('PROPFIND', calendarUrl, '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>', { depth: '1' });
    expect(listing.status).toBe(207);
    expect(listing.text).toContain(`/${USER}/work/${eventId}`);

    const stored = await dav('GET', calendarUrl + eventId);
    expect(stored.status).toBe(200);
    const vevent = new ICAL.Component(ICAL.parse(stored.text)).getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('summary')).toBe(input.title);
    expect(vevent.getFirstPropertyValue('description')).toBe(input.description);
    expect(vevent.getFirstPropertyValue('location')).toBe(input.location);
    expect(vevent.getFirstPropertyValue('uid')).toBe(eventId.replace(/\.ics$/, ''));
    const start = vevent.getFirstPropertyValue('dtstart') as InstanceType<typeof ICAL.Time>;
    expect(start.toJSDate().toISOString()).toBe('2026-12-03T15:00:00.000Z');
    const attendees = vevent.getAllProperties('attendee').map((a) => ({ value: a.getFirstValue(), cn: a.getParameter('cn') ?? null }));
    expect(attendees).toEqual([{ value: 'mailto:ana@example.com', cn: 'Lima, Ana "AL"' }, { value: 'mailto:bo@example.com', cn: null }]);
  });

  it('list_events finds it with a REPORT time-range query, parsed back to the same fields', async () => {
    const res = await engine.run(connector, 'list_events', { credentials: credentials(), input: { start: '2026-12-03T00:00:00-05:00', end: '2026-12-04T00:00:00-05:00' } });
    expect(res.ok, JSON.stringify(res)).toBe(true);
    const events = (res as { output: { events: Array<Record<string, unknown>> } }).output.events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: eventId,
      title: input.title,
      description: input.description,
      location: input.location,
      start: '2026-12-03T15:00:00Z',
      end: '2026-12-03T16:30:00Z',
      all_day: false,
      status: 'confirmed',
      attendees: [{ email: 'ana@example.com', name: 'Lima, Ana "AL"', response: 'needs_action' }, { email: 'bo@example.com', response: 'needs_action' }],
    });
    expect(Date.parse(String(events[0]!['start']))).toBe(Date.parse(input.start));
  });

  it('list_events leaves out events outside the window (the time-range reaches the server)', async () => {
    const res = await engine.run(connector, 'list_events', { credentials: credentials(), input: { start: '2026-12-03T16:30:00Z', end: '2026-12-05T00:00:00Z' } });
    expect(res).toMatchObject({ ok: true, output: { events: [] } });
  });

  it('an event another client stored with a TZID and VTIMEZONE is listed with its offset', async () => {
    const ics = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Other//Client//EN',
      'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:offsite@example.com', 'DTSTAMP:20261120T083000Z', 'DTSTART;TZID=Europe/Berlin:20261210T090000', 'DURATION:PT8H', 'SUMMARY:Team offsite', 'STATUS:TENTATIVE', 'END:VEVENT',
      'END:VCALENDAR', '',
    ].join('\r\n');
    const put = await dav('PUT', `${calendarUrl}team%20offsite.ics`, ics, { 'content-type': 'text/calendar; charset=utf-8' });
    expect(put.status, put.text).toBe(201);
    const res = await engine.run(connector, 'list_events', { credentials: credentials(), input: { start: '2026-12-10T00:00:00Z', end: '2026-12-11T00:00:00Z' } });
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, output: { events: [{ id: 'team offsite.ics', title: 'Team offsite', start: '2026-12-10T09:00:00+01:00', end: '2026-12-10T17:00:00+01:00', time_zone: 'Europe/Berlin', status: 'tentative' }] } });
  });

  it('creating the same event again is refused (412), never a duplicate', async () => {
    const res = await engine.run(connector, 'create_event', { credentials: credentials(), input });
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', status: 412 } });
  });

  it('the events stream reads the whole calendar as valid calendar_event records', async () => {
    const records: Array<{ key: string; data: Record<string, unknown> }> = [];
    for await (const page of engine.readStream(connector, 'events', { credentials: credentials() })) {
      expect(page.invalid).toEqual([]);
      records.push(...page.records);
    }
    expect(records.map((r) => r.key).sort()).toEqual([eventId, 'team offsite.ics'].sort());
    for (const r of records) expect(modelErrors('calendar_event', r.data)).toEqual([]);
    expect(records.find((r) => r.key === eventId)?.data).toMatchObject({ title: input.title, start: '2026-12-03T15:00:00Z', attendees: [{ email: 'ana@example.com' }, { email: 'bo@example.com' }] });
  });

  it('a wrong password is invalid_credentials (401), for verify and for a capability, and never shows the password', async () => {
    const wrong = { ...credentials(), password: 'not-the-password-42' };
    const verify = await engine.verify(connector, { credentials: wrong });
    expect(verify).toMatchObject({ ok: false, error: { type: 'invalid_credentials', status: 401, retryable: false } });
    const create = await engine.run(connector, 'create_event', { credentials: wrong, input: { ...input, title: 'Never stored' } });
    expect(create).toMatchObject({ ok: false, error: { type: 'invalid_credentials', status: 401 } });
    expect(JSON.stringify([verify, create])).not.toContain('not-the-password-42');
  });

  it('cancel_event deletes the resource; the window is empty again, and a second cancel is a 404', async () => {
    const res = await engine.run(connector, 'cancel_event', { credentials: credentials(), input: { event_id: eventId } });
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, output: { event_id: eventId, status: 'canceled' } });
    expect((await dav('GET', calendarUrl + eventId)).status).toBe(404);
    const listed = await engine.run(connector, 'list_events', { credentials: credentials(), input: { start: '2026-12-03T00:00:00Z', end: '2026-12-04T00:00:00Z' } });
    expect(listed).toMatchObject({ ok: true, output: { events: [] } });
    const again = await engine.run(connector, 'cancel_event', { credentials: credentials(), input: { event_id: eventId } });
    expect(again).toMatchObject({ ok: false, error: { type: 'provider_error', status: 404 } });
  });
});
