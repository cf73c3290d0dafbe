// Engine.readStream against loopback providers: every pagination kind reads every page; the loop,
// max_pages and origin guards; the incremental cursor (param, header, sync.cursor); resuming from a
// stored PageRequest; records invalid against their model are reported, not yielded.
import { describe, it, expect } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { StreamOptions, StreamPage } from '../../runtime/engine/stream.ts';
import { EngineError } from '../../runtime/http/errors.ts';
import { connectorFromYaml, crmWithStreams } from '../helpers/connector.ts';
import { useLoopbackServers, type SeenRequest } from '../helpers/http.ts';

const serve = useLoopbackServers();
const TOKEN = 'tok_stream_5f4e3d2c1b0a';

/** Seven contacts; updated_at grows with the number. */
const ALL = Array.from({ length: 7 }, (_, i) => ({ id: `c${i + 1}`, email: `p${i + 1}@example.com`, updated: `2024-03-0${i + 1}T10:00:00Z` }));

function connector(stream: string, cursor = '{ field: updated_at }') {
  return connectorFromYaml(`${crmWithStreams({ extra: 'retry: { on_status: [429, 503], max_attempts: 3, initial_delay_ms: 1, max_delay_ms: 5 }\n' })}  contacts:
    model: contact
    mapping: '{ "id": id, "email": email, "updated_at": updated }'
    cursor: ${cursor}
${stream}
`);
}

async function readAll(engine: Engine, c: ReturnType<typeof connector>, opts: StreamOptions): Promise<StreamPage[]> {
  const pages: StreamPage[] = [];
  for await (const p of engine.readStream(c, 'contacts', opts)) pages.push(p);
  return pages;
}

function query(r: SeenRequest): URLSearchParams {
  return new URL(r.url, 'http://x').searchParams;
}

const engine = () => new Engine({ env: {}, sleep: async () => {} });
const ids = (pages: StreamPage[]) => pages.flatMap((p) => p.records.map((r) => r.key));

describe('readStream: every pagination kind reads every page', () => {
  it('cursor: a token from the body sent as a query parameter, with the page size', async () => {
    const s = await serve((r) => {
      const after = query(r).get('after');
      const from = after ? ALL.findIndex((c) => c.id === after) + 1 : 0;
      const slice = ALL.slice(from, from + Number(query(r).get('limit')));
      const more = from + slice.length < ALL.length;
      return { status: 200, body: { results: slice, ...(more ? { paging: { next: { after: slice[slice.length - 1].id } } } : {}) } };
    });
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results
    pagination: { type: cursor, next: paging.next.after, param: after, page_size: 3, page_size_param: limit }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(pages.map((p) => p.number)).toEqual([1, 2, 3]);
    expect(s.seen.map((r) => r.url)).toEqual(['/contacts?limit=3', '/contacts?limit=3&after=c3', '/contacts?limit=3&after=c6']);
    expect(s.seen.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(pages[0].next).toEqual({ query: { limit: '3', after: 'c3' }, cursor: null });
    expect(pages[2].next).toBeNull();
    expect(pages[2].cursor).toBe('2024-03-07T10:00:00Z');
  });

  it('page: page numbers from start until an empty page (a short page is not the end)', async () => {
    const s = await serve((r) => {
      const n = Number(query(r).get('page'));
      return { status: 200, body: { items: ALL.slice((n - 1) * 3, n * 3) } };
    });
    const c = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: { type: page, param: page, page_size: 3, page_size_param: per_page }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(s.seen.map((r) => query(r).get('page'))).toEqual(['1', '2', '3', '4']);
    expect(s.seen.every((r) => query(r).get('per_page') === '3')).toBe(true);
  });

  it('page and offset: a provider that caps page_size below the manifest\'s is still read to the end', async () => {
    const capped = await serve((r) => {
      const n = Number(query(r).get('page') ?? 0);
      const o = Number(query(r).get('offset') ?? -1);
      return { status: 200, body: { items: o >= 0 ? ALL.slice(o, o + 2) : ALL.slice((n - 1) * 2, n * 2) } };
    });
    for (const pagination of ['{ type: page, param: page, page_size: 5 }', '{ type: offset, param: offset, page_size: 5 }']) {
      const c = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: ${pagination}`);
      expect(ids(await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: capped.url }))).toEqual(ALL.map((a) => a.id));
    }
  });

  it('page: an empty page ends when no page_size is known', async () => {
    const s = await serve((r) => {
      const n = Number(query(r).get('p'));
      return { status: 200, body: { items: ALL.slice(n * 4, n * 4 + 4) } };
    });
    const c = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: { type: page, param: p, start: 0 }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(s.seen.map((r) => query(r).get('p'))).toEqual(['0', '1', '2']);
    expect(pages[2].records).toEqual([]);
  });

  it('offset: advances by the records of each page', async () => {
    const s = await serve((r) => {
      const o = Number(query(r).get('offset'));
      return { status: 200, body: { data: ALL.slice(o, o + Number(query(r).get('limit'))) } };
    });
    const c = connector(`    request: { method: GET, path: /contacts }
    records: data
    pagination: { type: offset, param: offset, page_size: 2, page_size_param: limit }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(s.seen.map((r) => query(r).get('offset'))).toEqual(['0', '2', '4', '6', '7']);
  });

  it('link_header: follows rel="next" (relative and absolute) until there is none', async () => {
    let url = '';
    const s = await serve((r) => {
      const n = Number(query(r).get('page') ?? 1);
      const link = n === 1 ? '</contacts?page=2>; rel="next", </contacts?page=3>; rel="last"' : n === 2 ? `<${url}/contacts?page=3>; rel="prev next"` : '</contacts?page=2>; rel="prev"';
      return { status: 200, headers: { link }, body: ALL.slice((n - 1) * 3, n * 3) };
    });
    url = s.url;
    const c = connector(`    request: { method: GET, path: /contacts, query: { per_page: "3" } }
    records: $
    pagination: { type: link_header }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(s.seen.map((r) => r.url)).toEqual(['/contacts?per_page=3', '/contacts?page=2', '/contacts?page=3']);
    expect(pages[0].next).toEqual({ url: `${s.url}/contacts?page=2`, cursor: null });
  });

  it('next_url: a root-relative URL resolved against the origin of a base URL with a path (Twilio next_page_uri)', async () => {
    const s = await serve((r) => {
      const n = Number(query(r).get('Page') ?? 0);
      const next = n < 2 ? `/2010-04-01/Accounts/AC1/Messages.json?PageSize=3&Page=${n + 1}&PageToken=PA${n}` : null;
      return { status: 200, body: { messages: ALL.slice(n * 3, n * 3 + 3), next_page_uri: next } };
    });
    const c = connector(`    request: { method: GET, path: /Accounts/AC1/Messages.json, query: { PageSize: "3" } }
    records: messages
    pagination: { type: next_url, next: next_page_uri }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: `${s.url}/2010-04-01` });
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(s.seen.map((r) => r.url)).toEqual([
      '/2010-04-01/Accounts/AC1/Messages.json?PageSize=3',
      '/2010-04-01/Accounts/AC1/Messages.json?PageSize=3&Page=1&PageToken=PA0',
      '/2010-04-01/Accounts/AC1/Messages.json?PageSize=3&Page=2&PageToken=PA1',
    ]);
  });

  it('none: one page', async () => {
    const s = await serve(() => ({ status: 200, body: { results: ALL } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(pages).toHaveLength(1);
    expect(ids(pages)).toEqual(ALL.map((a) => a.id));
    expect(pages[0].next).toBeNull();
    expect(s.seen).toHaveLength(1);
  });
});

describe('readStream: guards', () => {
  it('the same next request twice is an error naming the stream', async () => {
    const s = await serve((r) => ({ status: 200, body: { results: [ALL[0]], next: query(r).get('after') ? 'T2' : 'T1' } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results
    pagination: { type: cursor, next: next, param: after }`);
    const pages: StreamPage[] = [];
    const err = await (async () => {
      try {
        for await (const p of engine().readStream(c, 'contacts', { credentials: { token: TOKEN }, baseUrl: s.url })) pages.push(p);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toMatch(/stream "contacts".*same next page request twice/);
    expect(s.seen.map((r) => query(r).get('after'))).toEqual([null, 'T1', 'T2']);
    expect(pages).toHaveLength(2);
  });

  it('max_pages stops the run with truncated: true (not an error), saying where the next page is', async () => {
    const s = await serve((r) => ({ status: 200, body: { items: [{ ...ALL[0], id: `p${query(r).get('page')}` }] } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: { type: page, param: page, max_pages: 3 }`);
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(ids(pages)).toEqual(['p1', 'p2', 'p3']);
    expect(pages.map((p) => p.truncated ?? false)).toEqual([false, false, true]);
    expect(pages[2].next).toMatchObject({ query: { page: '4' } });
    expect(s.seen).toHaveLength(3);
  });

  it.each([
    ['an absolute URL on another origin', 'http://127.0.0.2:9/steal?page=2'],
    ['a protocol-relative URL', '//evil.invalid/contacts?page=2'],
    ['a relative URL that is not root-relative', 'contacts?page=2'],
  ])('next_url refuses %s', async (_what, next) => {
    const s = await serve(() => ({ status: 200, body: { results: [ALL[0]], next } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results
    pagination: { type: next_url, next: next }`);
    await expect(readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url })).rejects.toThrow(/stream "contacts": the next page URL/);
    expect(s.seen).toHaveLength(1);
  });

  it('a link_header next on another origin is refused too', async () => {
    const s = await serve(() => ({ status: 200, headers: { link: '<http://127.0.0.2:9/x>; rel="next"' }, body: [ALL[0]] }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: $
    pagination: { type: link_header }`);
    await expect(readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url })).rejects.toThrow(/not the provider's origin/);
  });
});

describe('readStream: incremental cursor and resume', () => {
  const pageServer = () => serve((r) => {
    const n = Number(query(r).get('page'));
    const since = query(r).get('updated_since') ?? r.headers['if-modified-since'] ?? '';
    const rows = ALL.filter((c) => !since || c.updated > String(since));
    return { status: 200, body: { items: rows.slice((n - 1) * 2, n * 2) } };
  });

  it('sends the cursor as a query param on an incremental run, not on a first run, and returns the max cursor', async () => {
    const s = await pageServer();
    const inc = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: { type: page, param: page, page_size: 2 }`, '{ field: updated_at, param: updated_since }');
    const first = await readAll(engine(), inc, { credentials: { token: TOKEN }, baseUrl: s.url, cursor: null });
    expect(ids(first)).toEqual(ALL.map((a) => a.id));
    expect(s.seen.every((r) => !query(r).has('updated_since'))).toBe(true);
    expect(first[first.length - 1].cursor).toBe('2024-03-07T10:00:00Z');

    s.seen.length = 0;
    const second = await readAll(engine(), inc, { credentials: { token: TOKEN }, baseUrl: s.url, cursor: '2024-03-04T10:00:00Z' });
    expect(ids(second)).toEqual(['c5', 'c6', 'c7']);
    // Pages 1 and 2 hold c5..c7; page 3 is empty and ends the read.
    expect(s.seen.map((r) => query(r).get('updated_since'))).toEqual(['2024-03-04T10:00:00Z', '2024-03-04T10:00:00Z', '2024-03-04T10:00:00Z']);
    expect(second.map((p) => p.cursor)).toEqual(['2024-03-06T10:00:00Z', '2024-03-07T10:00:00Z', '2024-03-07T10:00:00Z']);
  });

  it('sends the cursor as a header, and templates read sync.cursor', async () => {
    const s = await pageServer();
    const c = connector(`    request: { method: GET, path: /contacts, query: { since_tpl: "{{sync.cursor}}" } }
    records: items
    pagination: { type: page, param: page, page_size: 2 }`, '{ field: updated_at, header: If-Modified-Since }');
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url, cursor: '2024-03-05T10:00:00Z' });
    expect(ids(pages)).toEqual(['c6', 'c7']);
    expect(s.seen[0].headers['if-modified-since']).toBe('2024-03-05T10:00:00Z');
    expect(query(s.seen[0]).get('since_tpl')).toBe('2024-03-05T10:00:00Z');
    // no cursor: neither the header nor the (empty, hence omitted) templated param
    s.seen.length = 0;
    await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(s.seen[0].headers['if-modified-since']).toBeUndefined();
    expect(query(s.seen[0]).has('since_tpl')).toBe(false);
  });

  it('a 304 Not Modified to a conditional request is an empty last page, not an error', async () => {
    const s = await serve((r) => (r.headers['if-modified-since'] ? { status: 304 } : { status: 200, body: { items: ALL.slice(0, 2) } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: { type: none }`, '{ field: updated_at, header: If-Modified-Since }');
    const pages = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url, cursor: '2024-03-05T10:00:00Z' });
    expect(pages).toEqual([{ number: 1, records: [], invalid: [], cursor: '2024-03-05T10:00:00Z', next: null }]);
    expect(s.seen[0].headers['if-modified-since']).toBe('2024-03-05T10:00:00Z');
    // without the cursor the same source answers a page
    expect(ids(await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url }))).toEqual(['c1', 'c2']);
  });

  it('resumes from a stored PageRequest with the filter the run started with', async () => {
    const s = await pageServer();
    const c = connector(`    request: { method: GET, path: /contacts }
    records: items
    pagination: { type: page, param: page, page_size: 2 }`, '{ field: updated_at, param: updated_since }');
    const full = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url, cursor: '2024-03-01T10:00:00Z' });
    expect(ids(full)).toEqual(['c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
    // "killed" after page 1 was committed (cursor c3's): resume from its next request, as stored (JSON)
    const token = JSON.parse(JSON.stringify(full[0].next));
    expect(token).toEqual({ query: { page: '2' }, cursor: '2024-03-01T10:00:00Z' });
    s.seen.length = 0;
    const resumed = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url, cursor: full[0].cursor, resume: token });
    expect(ids(resumed)).toEqual(['c4', 'c5', 'c6', 'c7']);
    expect(s.seen.map((r) => [query(r).get('page'), query(r).get('updated_since')])).toEqual([['2', '2024-03-01T10:00:00Z'], ['3', '2024-03-01T10:00:00Z'], ['4', '2024-03-01T10:00:00Z']]);
    expect(resumed.map((p) => p.number)).toEqual([1, 2, 3]); // six rows in pages of two: page 4 is the empty last one
    expect(resumed[resumed.length - 1].cursor).toBe('2024-03-07T10:00:00Z');
  });
});

describe('readStream: records, models and the transport', () => {
  it('reports records invalid against the model (with their key) and never yields them', async () => {
    const rows = [ALL[0], { ...ALL[1], email: 'not-an-email' }, { ...ALL[2], id: '' }, ALL[3], { ...ALL[4], updated: 'yesterday' }];
    const s = await serve(() => ({ status: 200, body: { results: rows } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results`);
    const [page] = await readAll(engine(), c, { credentials: { token: TOKEN }, baseUrl: s.url });
    expect(page.records.map((r) => r.key)).toEqual(['c1', 'c4']);
    expect(page.records[0].data).toEqual({ id: 'c1', email: 'p1@example.com', updated_at: '2024-03-01T10:00:00Z' });
    expect(page.invalid.map((i) => i.key)).toEqual(['c2', null, 'c5']);
    expect(page.invalid[0].errors.join()).toMatch(/email/);
    expect(page.invalid[1].errors.join()).toMatch(/primary key "id"/);
    expect(page.invalid[2].errors.join()).toMatch(/updated_at/);
    expect(page.cursor).toBe('2024-03-04T10:00:00Z'); // only valid records move the cursor
  });

  it('retries a 429 with Retry-After through the engine and fails on a provider error with its status', async () => {
    const s = await serve((r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '0' }, body: {} } : n === 2 ? { status: 200, body: { results: [ALL[0]], next: 'T1' } } : { status: 500, body: { message: `boom ${TOKEN}` } }));
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results
    pagination: { type: cursor, next: next, param: after }`);
    const pages: StreamPage[] = [];
    const err = await (async () => {
      try {
        for await (const p of engine().readStream(c, 'contacts', { credentials: { token: TOKEN }, baseUrl: s.url })) pages.push(p);
      } catch (e) {
        return e as EngineError;
      }
    })();
    expect(ids(pages)).toEqual(['c1']);
    expect(s.seen).toHaveLength(3);
    expect(err?.failure).toMatchObject({ type: 'provider_error', status: 500 });
    expect(err?.message).not.toContain(TOKEN);
  });

  it('an unknown stream is an error', async () => {
    const c = connector(`    request: { method: GET, path: /contacts }
    records: results`);
    await expect(engine().readStream(c, 'nope', { credentials: { token: TOKEN } }).next()).rejects.toThrow(/connector acme_crm has no stream "nope"/);
  });
});
