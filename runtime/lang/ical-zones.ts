// UTC offsets of the zones an iCalendar object names in TZID parameters, for $parseICalendar: an IANA
// name through Intl, else the object's own VTIMEZONE. A VTIMEZONE is the provider's (or a tenant's)
// text, so it is read only when bounded: every STANDARD/DAYLIGHT rule YEARLY or MONTHLY with few BY*
// values (real zones: "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"), expanded a year or two around the date
// asked, and never past a per-call step budget. ical.js's own Timezone.utcOffset expands a rule from its
// DTSTART up to the date asked, so a FREQ=MINUTELY rule from 1601 never finishes: it is not used.
import ICAL from 'ical.js';

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;
type Recur = InstanceType<typeof ICAL.Recur>;
type Iterator = ReturnType<Recur['iterator']>;

/** Rule steps one $parseICalendar call may spend on VTIMEZONE rules; past it offsets are unknown. */
export const ZONE_RULE_STEPS = 5000;
/** Values a VTIMEZONE rule may list in all its BY* parts together. */
const MAX_BY_VALUES = 12;
const RULE_PARTS = new Set(['BYMONTH', 'BYDAY', 'BYMONTHDAY', 'BYSETPOS']);

/** A wall-clock time as milliseconds (as if it were UTC); years 0-99 are not 1900-1999. */
export function wallMs(t: { year: number; month: number; day: number; hour: number; minute: number; second: number }): number {
  const d = new Date(Date.UTC(2000, 0, 1, t.hour, t.minute, t.second));
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  return d.getTime();
}

/** One STANDARD or DAYLIGHT: offsets in seconds east of UTC; onsets as wall-clock thresholds (see threshold). */
interface Observance {
  from: number;
  to: number;
  fixed: number[]; // DTSTART and RDATEs, sorted
  rule?: {
    recur: Recur;
    dtstart: Time;
    /** YEARLY, INTERVAL 1, no COUNT: a year's onsets do not depend on DTSTART's year, so expansion starts near the year asked. */
    skip: boolean;
    untilYear: number | undefined;
    byYear: Map<number, number[]>; // skip: onsets in years y-1..y
    all?: { it: Iterator; list: number[]; lastYear: number; done: boolean }; // no skip: onsets from DTSTART on
  };
}

/**
 * RFC 5545 §3.3.5: a local time that occurs twice is the first occurrence, one that does not occur (the
 * gap) is read with the offset before it. So the new offset holds from the later of the onset's wall
 * times before and after the change.
 */
function threshold(onset: Time, from: number, to: number): number {
  return wallMs(onset) + Math.max(0, to - from) * 1000;
}

function offsetSeconds(comp: Component, name: string): number | undefined {
  const v = comp.getFirstPropertyValue(name) as InstanceType<typeof ICAL.UtcOffset> | null;
  return v && typeof v.toSeconds === 'function' ? v.toSeconds() : undefined;
}

/** The observances of a VTIMEZONE, or null when it is not one this reader uses (its times are then floating). */
function readZone(vtz: Component): Observance[] | null {
  const parts = vtz.getAllSubcomponents().filter((c) => c.name === 'standard' || c.name === 'daylight');
  if (parts.length === 0) return null;
  const out: Observance[] = [];
  for (const comp of parts) {
    const dtstart = comp.getFirstPropertyValue('dtstart') as Time | null;
    const from = offsetSeconds(comp, 'tzoffsetfrom');
    const to = offsetSeconds(comp, 'tzoffsetto');
    if (!dtstart || typeof dtstart.year !== 'number' || from === undefined || to === undefined) return null;
    const fixed = [threshold(dtstart, from, to)];
    for (const rdate of comp.getAllProperties('rdate')) {
      for (const v of rdate.getValues() as Array<Time | InstanceType<typeof ICAL.Period>>) {
        const t = v instanceof ICAL.Period ? v.start : v;
        if (t && typeof t.year === 'number') fixed.push(threshold(t, from, to));
      }
    }
    fixed.sort((a, b) => a - b);
    const rrules = comp.getAllProperties('rrule');
    if (rrules.length > 1) return null;
    const obs: Observance = { from, to, fixed };
    if (rrules.length === 1) {
      const recur = (rrules[0]!.getFirstValue() as Recur).clone();
      if (recur.freq !== 'YEARLY' && recur.freq !== 'MONTHLY') return null;
      const by = Object.entries(recur.parts ?? {});
      if (by.some(([k]) => !RULE_PARTS.has(k))) return null;
      if (by.reduce((n, [, v]) => n + (Array.isArray(v) ? v.length : 1), 0) > MAX_BY_VALUES) return null;
      if (recur.until && recur.until.zone === ICAL.Timezone.utcTimezone) {
        // UNTIL in UTC, the rule's occurrences in local time before the change (as ical.js does it).
        recur.until.adjust(0, 0, 0, from);
        recur.until.zone = ICAL.Timezone.localTimezone;
      }
      const skip = recur.freq === 'YEARLY' && (recur.interval ?? 1) === 1 && !recur.count && !(dtstart.month === 2 && dtstart.day === 29);
      obs.rule = { recur, dtstart, skip, untilYear: recur.until?.year, byYear: new Map() };
    }
    out.push(obs);
  }
  return out;
}

/** The last entry of an ascending list at or before `at`, or undefined. */
function lastAtOrBefore(list: readonly number[], at: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : list[lo - 1];
}

export class ZoneOffsets {
  private readonly zones = new Map<string, Observance[] | null>();
  private readonly iana = new Map<string, boolean>();
  private steps = 0;

  constructor(root: Component) {
    for (const vtz of root.getAllSubcomponents('vtimezone')) {
      const tzid = vtz.getFirstPropertyValue('tzid');
      if (typeof tzid === 'string' && tzid && !this.zones.has(tzid)) this.zones.set(tzid, readZone(vtz));
    }
  }

  /** Seconds east of UTC of wall-clock time `t` in zone `tzid`; undefined when it cannot be known. */
  offset(t: Time, tzid: string): number | undefined {
    if (t.year < 1 || t.year > 9999) return undefined;
    if (this.isIana(tzid)) {
      const wall = wallMs(t);
      const first = ianaOffset(tzid, wall);
      return ianaOffset(tzid, wall - first * 1000); // second pass settles the offset around DST changes
    }
    const zone = this.zones.get(tzid);
    if (!zone) return undefined;
    const at = wallMs(t);
    let best: { at: number; to: number } | undefined;
    let earliest: { at: number; from: number } | undefined;
    for (const o of zone) {
      let fromRule: number[] | undefined = [];
      try {
        if (o.rule) fromRule = this.ruleOnsets(o, o.rule, t.year);
      } catch {
        fromRule = undefined; // a rule ical.js cannot iterate (e.g. a bad BY* value): offset unknown
      }
      if (fromRule === undefined) return undefined;
      for (const list of [o.fixed, fromRule]) {
        const hit = lastAtOrBefore(list, at);
        if (hit !== undefined && (!best || hit > best.at)) best = { at: hit, to: o.to };
      }
      if (!earliest || o.fixed[0]! < earliest.at) earliest = { at: o.fixed[0]!, from: o.from };
    }
    return best ? best.to : earliest?.from;
  }

  private isIana(tzid: string): boolean {
    let known = this.iana.get(tzid);
    if (known === undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tzid });
        known = true;
      } catch {
        known = false;
      }
      this.iana.set(tzid, known);
    }
    return known;
  }

  /** Onsets (thresholds) of a rule that can be the latest before a time in `year`; undefined when the budget ran out. */
  private ruleOnsets(o: Observance, rule: NonNullable<Observance['rule']>, year: number): number[] | undefined {
    const ye = Math.min(year, rule.untilYear ?? year); // after UNTIL, the last onsets are UNTIL's year's
    if (ye < rule.dtstart.year) return [];
    if (rule.skip) {
      const cached = rule.byYear.get(ye);
      if (cached) return cached;
      const start = rule.dtstart.clone();
      start.year = Math.max(rule.dtstart.year, ye - 2);
      const it = rule.recur.iterator(start);
      const list: number[] = [];
      for (;;) {
        if (this.steps >= ZONE_RULE_STEPS) return undefined;
        this.steps++;
        const occ = it.next();
        if (!occ || occ.year > ye) break;
        if (occ.year >= ye - 1) list.push(threshold(occ, o.from, o.to));
      }
      rule.byYear.set(ye, list);
      return list;
    }
    rule.all ??= { it: rule.recur.iterator(rule.dtstart.clone()), list: [], lastYear: -Infinity, done: false };
    const all = rule.all;
    while (!all.done && all.lastYear <= ye) {
      if (this.steps >= ZONE_RULE_STEPS) return undefined;
      this.steps++;
      const occ = all.it.next();
      if (!occ) {
        all.done = true;
      } else {
        all.lastYear = occ.year;
        all.list.push(threshold(occ, o.from, o.to));
      }
    }
    return all.list;
  }
}

/** Offset (seconds east of UTC) of an IANA zone at the instant `utcMs`. */
function ianaOffset(zone: string, utcMs: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(utcMs)
      .map((p) => [p.type, p.value]),
  );
  const asUtc = wallMs({ year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), hour: Number(parts['hour']), minute: Number(parts['minute']), second: Number(parts['second']) });
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 1000);
}
