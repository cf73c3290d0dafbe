// The OAuth callback as real providers call it (extra query parameters, error_uri, malformed
// queries), the connect step's refusals (half an operator app, return_to with userinfo), the
// callback's ordering (provider checked before the state is consumed, a missing code), races (the
// same state twice at once, a double-clicked connect), the read-only state lookup and the
// per-address throttle of refused callbacks.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TEST_PG_URL } from '../helpers/store.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPlatform } from '../helpers/platform.ts';
import { CALLBACK_REFUSAL_BUDGET } from '../../runtime/oauth/callback-throttle.ts';
import { startOAuthFixture, authorize, type OAuthFixture, type AuthServer } from './helpers.ts';

let auth: AuthServer;
let tp: TestPlatform;
let fixture: OAuthFixture;


/** Blocks every writer of oauth_states from another connection until the returned function runs. */
async function holdWriters(): Promise<() => Promise<void>> {
  if (tp.storeKind === 'sqlite') {
    const other = new Database(tp.dbFile);
    other.pragma('busy_timeout = 0');
    other.prepare('BEGIN IMMEDIATE').run();
    return async () => {
      other.prepare('ROLLBACK').run();
      other.close();
    };
  }
  const schema = new URL(tp.databaseEnv.PLUGBOARD_DATABASE_URL!).searchParams.get('schema')!;
  const other = new pg.Client({ connectionString: TEST_PG_URL });
  await other.connect();
  await other.query('BEGIN');
  await other.query(`LOCK TABLE "${schema}".oauth_states IN EXCLUSIVE MODE`);
  return async () => {
    await other.query('ROLLBACK');
    await other.end();
  };
}

beforeAll(async () => {
  // half_crm: the operator set the client id but not the secret.
  fixture = await startOAuthFixture({
    env: { PLUGBOARD_OAUTH_HALF_CRM_CLIENT_ID: 'halfclient' },
    manifests: (acme) => ({ half_crm: acme.replace('name: acme_crm', 'name: half_crm').replace('display_name: Acme CRM', 'display_name: Half CRM') }),
  });
  ({ auth, tp } = fixture);
}, 60_000);

afterAll(() => fixture?.close());

async function connect(key: string, provider = 'acme_crm', returnTo: string | null = 'https://app.example.test/done') {
  const q = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : '';
  const r = await tp.api(key, 'GET', `/integrations/connect/${provider}${q}`);
  expect(r.status, r.text).toBe(200);
  return r.body.data as { authorization_url: string; state: string; expires_at: string };
}

async function callback(location: string) {
  const res = await fetch(location, { redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), text };
}

const redirected = (r: { location: string | null }) => Object.fromEntries(new URL(r.location!).searchParams);
const codeExchanges = () => auth.counts['authorization_code'] ?? 0;

describe('OAuth callback', () => {
  it('accepts the query parameters real providers add (Google, Microsoft, Zoho, RFC 9207 iss)', async () => {
    const extras: Record<string, Record<string, string>> = {
      google: { scope: 'https://www.googleapis.com/auth/gmail.send openid', authuser: '0', prompt: 'consent', hd: 'example.com' },
      microsoft: { session_state: 'd2f4c5a6-1b2c-4d5e-8f90-123456789abc' },
      zoho: { location: 'eu', 'accounts-server': 'https://accounts.zoho.eu' },
      rfc9207: { iss: auth.url },
    };
    for (const [who, params] of Object.entries(extras)) {
      const t = await tp.tenant(who);
      const url = new URL(await authorize((await connect(t.key)).authorization_url));
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const back = await callback(url.href);
      expect(back.status, `${who}: ${back.text}`).toBe(302);
      expect(redirected(back), who).toMatchObject({ status: 'pending_verify' });
    }
  });

  it('answers denied consent with error_uri as an error redirect', async () => {
    const t = await tp.tenant('Denied');
    const started = await connect(t.key);
    const q = new URLSearchParams({ error: 'access_denied', error_description: 'The user said no', error_uri: 'https://provider.example/errors/denied', state: started.state });
    const back = await callback(`${tp.url}/api/v1/integrations/callback/acme_crm?${q}`);
    expect(back.status, back.text).toBe(302);
    expect(redirected(back)).toMatchObject({ error: 'access_denied' });
    expect(redirected(back)['error_description']).toMatch(/The user said no/);
  });

  it('answers a repeated or structured state with a page, never JSON', async () => {
    const t = await tp.tenant('Malformed');
    const started = await connect(t.key);
    for (const q of [`state=${started.state}&state=${started.state}&code=x`, `state[]=${started.state}&code=x`, `state[a]=1&code=x`]) {
      const back = await callback(`${tp.url}/api/v1/integrations/callback/acme_crm?${q}`);
      expect(back.status, q).toBe(400);
      expect(back.type, q).toMatch(/text\/html/);
      expect(back.text, q).toMatch(/invalid_(request|state)/);
    }
    // The state was not spent by the refused requests: the real callback still connects.
    expect((await callback(await authorize(started.authorization_url))).status).toBe(302);
  });

  it('refuses connect with 409 naming the missing variable when only half of the operator app is set', async () => {
    const t = await tp.tenant('Half');
    const r = await tp.api(t.key, 'GET', '/integrations/connect/half_crm');
    expect(r.status, r.text).toBe(409);
    expect(r.body.message).toMatch(/PLUGBOARD_OAUTH_HALF_CRM_CLIENT_SECRET/);
    expect(r.body.message).not.toMatch(/HALF_CRM_CLIENT_ID/);
    expect((await tp.api(t.key, 'GET', '/providers')).body.data.find((p: any) => p.name === 'half_crm').oauth_app_configured).toBe(false);
  });

  it('refuses return_to with a user name or password (422 naming return_to)', async () => {
    const t = await tp.tenant('Userinfo');
    for (const to of ['https://user:pw@app.example.test/x', 'https://user@app.example.test/x']) {
      const r = await tp.api(t.key, 'GET', `/integrations/connect/acme_crm?return_to=${encodeURIComponent(to)}`);
      expect(r.status, to).toBe(422);
      expect(Object.keys(r.body.errors)).toEqual(['return_to']);
    }
  });

  it('a callback on another provider\'s path does not spend the state', async () => {
    const t = await tp.tenant('Wrong path');
    const started = await connect(t.key);
    const location = new URL(await authorize(started.authorization_url));
    const wrong = await callback(location.href.replace('/callback/acme_crm', '/callback/half_crm'));
    expect(wrong.status).toBe(400);
    expect(wrong.text).toMatch(/another provider/);
    const right = await callback(location.href);
    expect(right.status, right.text).toBe(302);
    expect(redirected(right)['integration_id']).toBeTruthy();
  });

  it('a callback without a code says the code is missing and calls no token endpoint', async () => {
    const t = await tp.tenant('No code');
    const started = await connect(t.key);
    const before = codeExchanges();
    const back = await callback(`${tp.url}/api/v1/integrations/callback/acme_crm?state=${started.state}`);
    expect(back.status).toBe(302);
    expect(redirected(back)['error']).toBe('invalid_request');
    expect(redirected(back)['error_description']).toMatch(/code is missing/);
    expect(codeExchanges()).toBe(before);
  });

  it('the same state twice at once makes exactly one code exchange', async () => {
    const t = await tp.tenant('Twice');
    const location = await authorize((await connect(t.key)).authorization_url);
    // Every request to the token endpoint, refused ones too (auth.counts sees only the answered
    // ones: the mock refuses a spent code before counting it).
    const tokenRequests: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input).startsWith(`${auth.url}/token`)) tokenRequests.push(String(init?.body ?? ''));
      return realFetch(input, init);
    };
    const before = codeExchanges();
    let answers: Array<Awaited<ReturnType<typeof callback>>>;
    try {
      answers = await Promise.all([callback(location), callback(location)]);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(tokenRequests.filter((b) => b.includes('grant_type=authorization_code'))).toHaveLength(1);
    expect(codeExchanges()).toBe(before + 1);
    expect(answers.map((a) => a.status).sort()).toEqual([302, 400]);
    expect(answers.find((a) => a.status === 400)!.text).toMatch(/already used/);
  });

  it('a double-clicked connect: the second callback reconnects the integration the first created', async () => {
    const t = await tp.tenant('Double click');
    const locations = [await authorize((await connect(t.key)).authorization_url), await authorize((await connect(t.key)).authorization_url)];
    // Both callbacks look for the tenant's integration before either has created it.
    const store = tp.platform.store.integrations;
    const list = store.list.bind(store);
    let waiting: (() => void) | undefined;
    store.list = async (tenantId, q) => {
      if (tenantId === t.id) {
        if (waiting) {
          waiting();
          waiting = undefined;
        } else {
          await new Promise<void>((r) => {
            waiting = r;
            setTimeout(r, 1000);
          });
        }
      }
      return list(tenantId, q);
    };
    try {
      const answers = await Promise.all(locations.map(callback));
      for (const a of answers) expect(a.status, a.location ?? a.text).toBe(302);
      const ids = answers.map((a) => redirected(a)['integration_id']);
      expect(ids[0]).toBeTruthy();
      expect(ids[1]).toBe(ids[0]);
    } finally {
      store.list = list;
    }
    const all = (await tp.api(t.key, 'GET', '/integrations')).body.data;
    expect(all).toHaveLength(1);
    const audit = (await tp.api(t.key, 'GET', '/audit-log')).body.data as Array<{ action: string }>;
    expect(audit.map((e) => e.action).filter((a) => a.startsWith('integration.'))).toEqual(expect.arrayContaining(['integration.connected', 'integration.reconnected']));
  });

  // Another connection holds the writers out (SQLite: BEGIN IMMEDIATE on the file; PostgreSQL: a
  // table lock that admits readers only): a lookup that wanted a write would wait, a plain read does not.
  it('an unknown or spent state is looked up without the write lock', async () => {
    const states = tp.platform.store.oauthConnections;
    const unknown = createHash('sha256').update('never-issued').digest('hex');
    const spent = createHash('sha256').update('used-once').digest('hex');
    const now = new Date().toISOString();
    await states.createState({ state_hash: spent, tenant_id: 'tenant', provider: 'acme_crm', verifier_sealed: null, data_key_wrapped: null, master_key_id: null, return_to: null, expires_at: new Date(Date.now() + 600_000).toISOString(), used_at: null, created_at: now });
    expect((await states.consumeState(spent, now))?.firstUse).toBe(true);
    const release = await holdWriters();
    try {
      const started = Date.now();
      expect(await states.consumeState(unknown, new Date().toISOString())).toBeUndefined();
      expect(await states.findState(unknown)).toBeUndefined();
      expect((await states.consumeState(spent, new Date().toISOString()))?.firstUse).toBe(false);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await release();
    }
  });

  // Last: it spends this address's budget of refused callbacks.
  it('refused callbacks are throttled per client address: a 429 page with Retry-After', async () => {
    let last: Awaited<ReturnType<typeof callback>> | undefined;
    for (let i = 0; i <= CALLBACK_REFUSAL_BUDGET.refusals; i++) {
      last = await callback(`${tp.url}/api/v1/integrations/callback/acme_crm?code=x&state=guess${i}`);
      if (last.status === 429) break;
    }
    expect(last!.status).toBe(429);
    expect(last!.type).toMatch(/text\/html/);
    expect(Number(last!.retryAfter)).toBeGreaterThan(0);
    // Blocked: even a malformed query gets the 429 page.
    const malformed = await callback(`${tp.url}/api/v1/integrations/callback/acme_crm?state=a&state=b`);
    expect(malformed.status).toBe(429);
    expect(malformed.type).toMatch(/text\/html/);
  });
});
