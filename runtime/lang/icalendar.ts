// iCalendar (RFC 5545) for manifests: Handlebars helpers that write a VCALENDAR body safely (TEXT
// escaping, UTC date-times, CRLF line ends and 75-octet folding) and the JSONata function
// $parseICalendar, which reads the VEVENTs of a calendar object (ical.js) into plain JSON.
import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { ZoneOffsets, wallMs } from './ical-zones.ts';

/** Longest iCalendar text $parseICalendar reads (characters), and most VEVENTs it returns. */
export const MAX_ICAL_CHARS = 2 * 1024 * 1024;
export const MAX_ICAL_EVENTS = 5000;

/** RFC 5545 §3.3.11 TEXT: backslash, semicolon and comma escaped, line breaks as \n; other control characters dropped. */
export function icalText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value)
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n')
    // eslint-disable-next-line no-control-regex -- exactly the control characters TEXT may not hold
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
}

/** A parameter value (CN=...) as an RFC 5545 quoted-string, with RFC 6868 caret escapes for ^, line breaks and ". */
export function icalParam(value: unknown): string {
  const v = String(value ?? '')
    .replace(/\^/g, '^^')
    .replace(/\r\n|\r|\n/g, '^n')
    .replace(/"/g, "^'")
    // eslint-disable-next-line no-control-regex -- control characters a parameter may not hold
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
  return `"${v}"`;
}

/** An RFC 3339 instant (or "now") as an iCalendar UTC DATE-TIME, 20261203T150000Z; empty stays empty. */
export function icalDateTime(value: unknown): string {
  const text = String(value ?? '').trim();
  if (text === '') return '';
  const ms = text === 'now' ? Date.now() : Date.parse(text);
  if (Number.isNaN(ms) || (text !== 'now' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(text))) {
    throw new Error(`icaldate: "${text.slice(0, 60)}" is not an RFC 3339 date-time with an offset`);
  }
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * A rendered iCalendar text as RFC 5545 wants it on the wire: blank lines and indentation dropped (so
 * optional properties can sit in {{#if}} blocks), every content line ended by CRLF and folded at 75 octets
 * (never inside a UTF-8 character).
 */
export function icalLines(text: string): string {
  const out: string[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trimStart(); // the template's indentation; a value's trailing blanks are data
    if (line.trim() === '') continue;
    let rest = line;
    let limit = 75;
    while (Buffer.byteLength(rest, 'utf8') > limit) {
      let cut = 0;
      let bytes = 0;
      for (const ch of rest) {
        const n = Buffer.byteLength(ch, 'utf8');
        if (bytes + n > limit) break;
        bytes += n;
        cut += ch.length;
      }
      out.push((limit === 75 ? '' : ' ') + rest.slice(0, cut));
      rest = rest.slice(cut);
      limit = 74; // a continuation line starts with one space
    }
    out.push((limit === 75 ? '' : ' ') + rest);
  }
  return out.map((l) => `${l}\r\n`).join('');
}

/** A stable UUID-shaped identifier (RFC 9562 version 8) of a value: the same value, the same id. */
export function stableUid(value: unknown): string {
  const hex = createHash('sha256').update(canonicalJson(value ?? null)).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface ICalPerson { email: string | null; name: string | null }
export interface ICalAttendee extends ICalPerson { partstat: string | null; role: string | null; rsvp: boolean | null }

/** One VEVENT as $parseICalendar returns it. */
export interface ICalEvent {
  uid: string | null;
  summary: string | null;
  description: string | null;
  location: string | null;
  url: string | null;
  status: string | null;
  start: string | null;
  end: string | null;
  all_day: boolean;
  time_zone: string | null;
  organizer: ICalPerson | null;
  attendees: ICalAttendee[];
  recurrence_id: string | null;
  rrule: string | null;
  sequence: number | null;
  created: string | null;
  last_modified: string | null;
  dtstamp: string | null;
}

type Component = InstanceType<typeof ICAL.Component>;
type Property = InstanceType<typeof ICAL.Property>;
type Time = InstanceType<typeof ICAL.Time>;

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

function timeText(prop: Property | null, zones: ZoneOffsets): { text: string | null; date: boolean; tzid: string | null } {
  if (!prop) return { text: null, date: false, tzid: null };
  const t = prop.getFirstValue() as Time;
  const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  if (t.isDate) return { text: date, date: true, tzid: null };
  const wall = `${date}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  const tzid = prop.getParameter('tzid') as string | undefined;
  if (t.zone === ICAL.Timezone.utcTimezone || (!tzid && t.toString().endsWith('Z'))) return { text: `${wall}Z`, date: false, tzid: null };
  if (!tzid) return { text: wall, date: false, tzid: null }; // floating time: no offset exists
  const offset = zones.offset(t, tzid);
  if (offset === undefined) return { text: wall, date: false, tzid }; // offset unknown: the wall time, as a floating one
  const sign = offset < 0 ? '-' : '+';
  return { text: `${wall}${sign}${pad(Math.floor(Math.abs(offset) / 3600))}:${pad(Math.floor((Math.abs(offset) % 3600) / 60))}`, date: false, tzid };
}

function person(prop: Property): ICalPerson {
  const value = String(prop.getFirstValue() ?? '');
  const email = value.replace(/^mailto:/i, '') || null;
  const cn = prop.getParameter('cn');
  return { email, name: typeof cn === 'string' && cn ? cn : null };
}

function text(comp: Component, name: string): string | null {
  const v = comp.getFirstPropertyValue(name);
  return v === null || v === undefined ? null : String(v);
}

function endOf(ev: Component, start: Property | null, zones: ZoneOffsets): ReturnType<typeof timeText> {
  const dtend = ev.getFirstProperty('dtend');
  if (dtend || !start) return timeText(dtend, zones);
  const duration = ev.getFirstPropertyValue('duration') as InstanceType<typeof ICAL.Duration> | null;
  if (!duration) return { text: null, date: false, tzid: null };
  // By hand, not Time.addDuration: ical.js normalizes a huge DURATION (P99999999W) one month at a time.
  const from = start.getFirstValue() as Time;
  const at = new Date(wallMs(from) + duration.toSeconds() * 1000);
  const year = at.getUTCFullYear();
  if (Number.isNaN(at.getTime()) || year < 1 || year > 9999) return { text: null, date: false, tzid: null };
  const end = ICAL.Time.fromData({
    year, month: at.getUTCMonth() + 1, day: at.getUTCDate(), hour: at.getUTCHours(), minute: at.getUTCMinutes(), second: at.getUTCSeconds(), isDate: from.isDate,
  }, from.zone ?? undefined);
  const shadow = new ICAL.Property('dtend', ev);
  shadow.setValue(end);
  const tzid = start.getParameter('tzid');
  if (tzid) shadow.setParameter('tzid', tzid as string);
  return timeText(shadow, zones);
}

function eventOf(ev: Component, zones: ZoneOffsets): ICalEvent {
  const dtstart = ev.getFirstProperty('dtstart');
  const start = timeText(dtstart, zones);
  const end = endOf(ev, dtstart, zones);
  const organizer = ev.getFirstProperty('organizer');
  const rrule = ev.getFirstPropertyValue('rrule');
  const sequence = ev.getFirstPropertyValue('sequence');
  const utc = (name: string) => timeText(ev.getFirstProperty(name), zones).text;
  return {
    uid: text(ev, 'uid'),
    summary: text(ev, 'summary'),
    description: text(ev, 'description'),
    location: text(ev, 'location'),
    url: text(ev, 'url'),
    status: text(ev, 'status')?.toLowerCase() ?? null,
    start: start.text,
    end: end.text,
    all_day: start.date,
    time_zone: start.tzid,
    organizer: organizer ? person(organizer) : null,
    attendees: ev.getAllProperties('attendee').map((a) => {
      const partstat = a.getParameter('partstat');
      const role = a.getParameter('role');
      const rsvp = a.getParameter('rsvp');
      return {
        ...person(a),
        partstat: typeof partstat === 'string' ? partstat.toLowerCase() : null,
        role: typeof role === 'string' ? role.toLowerCase() : null,
        rsvp: typeof rsvp === 'string' ? rsvp.toUpperCase() === 'TRUE' : null,
      };
    }),
    recurrence_id: utc('recurrence-id'),
    rrule: rrule ? String(rrule) : null,
    sequence: typeof sequence === 'number' ? sequence : null,
    created: utc('created'),
    last_modified: utc('last-modified'),
    dtstamp: utc('dtstamp'),
  };
}

/** Absent properties are left out (JSONata's $exists and a mapping's dropped keys then work as for JSON). */
function withoutNulls<T extends object>(value: T): T {
  const strip = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
  const out = strip(value) as Record<string, unknown>;
  if (out['organizer']) out['organizer'] = strip(out['organizer'] as object);
  if (Array.isArray(out['attendees'])) out['attendees'] = (out['attendees'] as object[]).map(strip);
  return out as T;
}

/**
 * $parseICalendar(text): the VEVENTs of an iCalendar object (a CalDAV calendar-data, an .ics file) as
 * JSON. Date-times come as RFC 3339: UTC ones with Z, zoned ones (TZID: an IANA name, or a zone the
 * object's VTIMEZONE defines) with their offset, floating ones without; dates as YYYY-MM-DD (all_day).
 * A zoned time whose offset cannot be known (a TZID neither IANA nor defined, a VTIMEZONE whose rules
 * are not YEARLY/MONTHLY with few BY* values, rule expansion past its budget: see ical-zones.ts) comes
 * as its wall time without offset, like a floating one, time_zone still naming the TZID.
 * Properties the event lacks are left out; attendees is always a list. Missing input gives nothing;
 * text that is not iCalendar, longer than MAX_ICAL_CHARS or with more than MAX_ICAL_EVENTS events is an error.
 */
export function parseICalendar(input: unknown): ICalEvent[] | undefined {
  if (input === undefined || input === null || input === '') return undefined;
  if (typeof input !== 'string') throw new Error('$parseICalendar: the argument must be iCalendar text');
  if (input.length > MAX_ICAL_CHARS) throw new Error(`$parseICalendar: the iCalendar text is ${input.length} characters; at most ${MAX_ICAL_CHARS} are read`);
  let root: Component;
  try {
    root = new ICAL.Component(ICAL.parse(input.trim()) as unknown[]);
  } catch (err) {
    throw new Error(`$parseICalendar: not valid iCalendar: ${(err as Error).message}`);
  }
  const events = root.name === 'vevent' ? [root] : root.getAllSubcomponents('vevent');
  if (events.length > MAX_ICAL_EVENTS) throw new Error(`$parseICalendar: the iCalendar text has ${events.length} events; at most ${MAX_ICAL_EVENTS} are read`);
  const zones = new ZoneOffsets(root);
  return events.map((ev) => withoutNulls(eventOf(ev, zones)));
}
