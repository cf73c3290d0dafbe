// Streams in a manifest: each pagination kind is its own schema definition, so a kind missing one
// of its keys fails at the pagination's line naming the key; streams compile into
// Connector.streams with model, cursor, pagination and a parsed schedule.
import { describe, it, expect } from 'vitest';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { parseSchedule } from '../../runtime/manifest/streams.ts';
import { crmWithStreams } from '../helpers/connector.ts';

function manifest(stream: string): string {
  return `${crmWithStreams()}  contacts:
    model: contact
    request: { method: GET, path: /contacts, query: { since: "{{sync.cursor}}" } }
    records: results
${stream}`;
}

describe('pagination kinds', () => {
  it.each([
    ['cursor', 'next', '      param: after'],
    ['cursor', 'param', '      next: paging.next.after'],
    ['page', 'param', '      page_size: 10'],
    ['offset', 'page_size', '      param: offset'],
    ['next_url', 'next', '      max_pages: 10'],
  ])('a %s pagination without "%s" fails at its line, naming the key and only that', (type, key, other) => {
    const text = manifest(`    pagination:\n      type: ${type}\n${other}\n`);
    const res = loadManifestText(text, 'acme_crm.yaml');
    expect(res.connector).toBeUndefined();
    const line = text.split('\n').findIndex((l) => l.trim() === 'pagination:') + 1;
    expect(res.issues).toEqual([
      expect.objectContaining({ path: 'streams/contacts/pagination', line: line + 1, message: `missing required key "${key}" (pagination type "${type}")` }),
    ]);
  });

  it('a key of another kind is an unknown key at its own line', () => {
    const text = manifest('    pagination:\n      type: page\n      param: page\n      next: paging.next\n');
    const res = loadManifestText(text, 'acme_crm.yaml');
    expect(res.issues).toEqual([expect.objectContaining({ path: 'streams/contacts/pagination/next', line: text.split('\n').length - 1, message: 'unknown key "next"' })]);
  });
});

describe('compiled streams', () => {
  it('carries model, primary key, cursor, pagination (default max_pages 1000) and schedule', () => {
    const res = loadManifestText(manifest('    cursor: { field: updated_at, param: updated_since }\n    pagination: { type: cursor, next: paging.next.after, param: after }\n    schedule: 15 minutes\n'), 'acme_crm.yaml');
    expect(res.issues).toEqual([]);
    const s = res.connector!.streams.get('contacts')!;
    expect(s).toMatchObject({ name: 'contacts', model: 'contact', primaryKey: 'id', cursor: { field: 'updated_at', param: 'updated_since' }, schedule: '15 minutes', scheduleSpec: { kind: 'interval', ms: 900_000 } });
    expect(s.pagination.maxPages).toBe(1000);
    expect(s.pagination.next?.source).toBe('paging.next.after');
    expect(s.request.query[0][1].refs.map((r) => r.path.join('.'))).toEqual(['sync.cursor']);
  });

  it('a stream without pagination reads one page', () => {
    const res = loadManifestText(manifest(''), 'acme_crm.yaml');
    expect(res.connector!.streams.get('contacts')!.pagination).toMatchObject({ spec: { type: 'none' }, maxPages: 1000 });
  });

  it('suggests the model meant', () => {
    const res = loadManifestText(manifest('').replace('model: contact', 'model: contcat'), 'acme_crm.yaml');
    expect(res.issues.map((i) => i.message)).toEqual([expect.stringMatching(/unknown model "contcat".*did you mean "contact"/)]);
  });
});

describe('parseSchedule', () => {
  it.each([
    ['30 seconds', { kind: 'interval', ms: 30_000 }],
    ['1 hour', { kind: 'interval', ms: 3_600_000 }],
    ['2 days', { kind: 'interval', ms: 172_800_000 }],
    ['*/15 * * * *', { kind: 'cron' }],
    ['0 9-17 * jan-mar mon,wed,fri', { kind: 'cron' }],
  ])('accepts %s', (src, want) => expect(parseSchedule(src)).toMatchObject(want));

  it.each(['0 minutes', 'every 5 minutes', '* * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 8', '*/0 * * * *', '5-1 * * * *'])('refuses %s', (src) => {
    expect(typeof parseSchedule(src)).toBe('string');
  });
});
