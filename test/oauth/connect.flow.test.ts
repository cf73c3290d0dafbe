// The OAuth connect flow end to end against a real authorization server on loopback
// (oauth2-mock-server): connect -> browser-style redirect -> callback -> integration; capability
// calls with the bearer token; refresh on expiry and after a 401; rotated refresh tokens; a revoked
// grant; refused states; return_to; revocation on delete; no token in plaintext anywhere.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useOAuthFixture, authorize, OAUTH_ENV } from './helpers.ts';
import { sqlQuery, sqlOne } from '../helpers/store.ts';

const f = useOAuthFixture();

const store = () => f.tp.platform.store;

async function connect(key: string, returnTo: string | null = 'https://app.example.test/done') {
  const q = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : '';
  const r = await f.tp.api(key, 'GET', `/integrations/connect/acme_crm${q}`);
  expect(r.status, r.text).toBe(200);
  return r.body.data as { authorization_url: string; state: string; expires_at: string };
}

/** The browser arriving at the callback; answers the status and the redirect target (or the page). */
async function callback(location: string) {
  const res = await fetch(location, { redirect: 'manual' });
  const text = await res.text();
  f.tp.responses.push(text);
  return { status: res.status, location: res.headers.get('location'), text };
}

async function connectFully(key: string) {
  const started = await connect(key);
  const back = await callback(await authorize(started.authorization_url));
  expect(back.status, back.text).toBe(302);
  const to = new URL(back.location!);
  return { id: to.searchParams.get('integration_id')!, status: to.searchParams.get('status')!, started };
}

async function integration(key: string, id: string) {
  return (await f.tp.api(key, 'GET', `/integrations/${id}`)).body.data;
}

async function events(tenantId: string, type: string): Promise<Array<Record<string, any>>> {
  return (await sqlQuery<{ data: string }>(store(), 'SELECT data FROM events WHERE tenant_id = ? AND type = ?', tenantId, type)).map((r) => JSON.parse(r.data));
}

describe('OAuth connect flow', () => {
  it('connects, verifies with the bearer token and calls a capability; the URL carries state, S256 PKCE, scopes and extra parameters', async () => {
    const t = await f.tp.tenant();
    const started = await connect(t.key);
    const url = new URL(started.authorization_url);
    expect(url.origin + url.pathname).toBe(`${f.auth.url}/authorize`);
    expect(url.searchParams.get('state')).toBe(started.state);
    expect(started.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('scope')).toBe('contacts.read contacts.write');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('client_id')).toBe('plugboardtestclient');
    expect(url.searchParams.get('redirect_uri')).toBe(`${f.tp.url}/api/v1/integrations/callback/acme_crm`);
    expect(Date.parse(started.expires_at) - Date.now()).toBeGreaterThan(9 * 60_000);
    // Only the hash of the state is stored.
    expect(await sqlOne(store(), 'SELECT COUNT(*) AS n FROM oauth_states WHERE state_hash = ?', started.state)).toEqual({ n: 0 });
    expect(await sqlOne(store(), 'SELECT COUNT(*) AS n FROM oauth_states WHERE state_hash = ?', createHash('sha256').update(started.state).digest('hex'))).toEqual({ n: 1 });

    const back = await callback(await authorize(started.authorization_url));
    expect(back.status).toBe(302);
    const to = new URL(back.location!);
    expect(to.origin + to.pathname).toBe('https://app.example.test/done');
    expect(to.searchParams.get('status')).toBe('pending_verify');
    const id = to.searchParams.get('integration_id')!;
    const active = await f.tp.waitFor(async () => ((await integration(t.key, id)).status === 'active' ? integration(t.key, id) : undefined), 'verification');
    expect(active.connection).toEqual({ instance_url: 'https://acme-eu.example.test' });
    expect(active.credentials).toEqual({});

    const op = await f.tp.api(t.key, 'POST', '/operations/create_contact', { input: { email: 'ada@example.com' }, integration_id: id });
    expect(op.status, op.text).toBe(200);
    expect(f.api.seen.at(-1)).toBe(f.auth.issued.find((x) => f.auth.validAccess.has(x) && f.api.seen.includes(x)));
    expect((await f.tp.api(t.key, 'GET', '/providers')).body.data.find((p: any) => p.name === 'acme_crm').oauth_app_configured).toBe(true);
    // Audited: who started connecting (the API key), and the callback's change to the integration.
    const audit = (await f.tp.api(t.key, 'GET', '/audit-log')).body.data as Array<{ action: string; actor: string; target_id: string | null }>;
    expect(audit.find((e) => e.action === 'integration.connect_started')?.actor).toMatch(/^key:/);
    expect(audit.find((e) => e.action === 'integration.connected')).toMatchObject({ actor: 'oauth_callback:acme_crm', target_id: id });
  });

  it('refreshes an expiring token before the call, keeps the rotated refresh token, and refreshes once after a provider 401', async () => {
    const t = await f.tp.tenant('Expiring');
    // Within the refresh margin: expiring at once (the grant, and the refresh the verification makes).
    f.auth.nextExpiresIn.push(30, 30);
    const { id } = await connectFully(t.key);
    await f.tp.waitFor(async () => (await integration(t.key, id)).status === 'active', 'active');
    const before = f.auth.counts['refresh_token'] ?? 0;
    const op = await f.tp.api(t.key, 'POST', '/operations/create_contact', { input: { email: 'a@example.com' }, integration_id: id });
    expect(op.status, op.text).toBe(200);
    expect(f.auth.counts['refresh_token']).toBe(before + 1);
    // A cached, valid token: no refresh.
    expect((await f.tp.api(t.key, 'POST', '/operations/create_contact', { input: { email: 'b@example.com' }, integration_id: id })).status).toBe(200);
    expect(f.auth.counts['refresh_token']).toBe(before + 1);
    // The provider stops accepting the access token: one refresh with the rotated refresh token
    // (the first one is spent at the authorization server), then the call goes through.
    f.auth.validAccess.delete(f.api.seen.at(-1)!);
    const again = await f.tp.api(t.key, 'POST', '/operations/create_contact', { input: { email: 'c@example.com' }, integration_id: id });
    expect(again.status, again.text).toBe(200);
    expect(f.auth.counts['refresh_token']).toBe(before + 2);
  });

  it('a revoked refresh token ends in error with needs_reauth and integration.error; reconnecting clears it', async () => {
    const t = await f.tp.tenant('Revoked');
    const { id } = await connectFully(t.key);
    await f.tp.waitFor(async () => (await integration(t.key, id)).status === 'active', 'active');
    f.auth.validRefresh.clear(); // the grant is revoked at the provider
    f.auth.validAccess.clear();
    const op = await f.tp.api(t.key, 'POST', '/operations/create_contact', { input: { email: 'x@example.com' }, integration_id: id });
    expect(op.body.data?.status ?? op.body.errors, op.text).not.toBe('succeeded');
    const broken = await integration(t.key, id);
    expect(broken.status).toBe('error');
    expect(broken.metadata.needs_reauth).toBe(true);
    expect(broken.metadata.reauth_reason).toMatch(/invalid_grant/);
    const evs = await events(t.id, 'integration.error');
    expect(evs).toHaveLength(1);
    expect(evs[0]!.integration_id).toBe(id);
    // Reconnect: the same integration, new tokens, needs_reauth gone.
    const again = await connectFully(t.key);
    expect(again.id).toBe(id);
    const fixed = await f.tp.waitFor(async () => ((await integration(t.key, id)).status === 'active' ? integration(t.key, id) : undefined), 'reconnected');
    expect(fixed.metadata.needs_reauth).toBeUndefined();
    expect(fixed.metadata.reauth_reason).toBeUndefined();
  });

  it('refuses a replayed state, an expired state, another tenant\'s state, a wrong PKCE verifier and denied consent, readably', async () => {
    const a = await f.tp.tenant('A');
    const b = await f.tp.tenant('B');
    // Replayed: the second use of the same callback URL.
    const started = await connect(a.key);
    const location = await authorize(started.authorization_url);
    expect((await callback(location)).status).toBe(302);
    const replay = await callback(location);
    expect(replay.status).toBe(400);
    expect(replay.text).toMatch(/already used/);
    expect(replay.text).toMatch(/invalid_state/);

    // Expired.
    const old = await connect(b.key);
    await sqlQuery(store(), "UPDATE oauth_states SET expires_at = '2000-01-01T00:00:00.000Z'");
    const expired = await callback(await authorize(old.authorization_url));
    expect(expired.status).toBe(302);
    expect(new URL(expired.location!).searchParams.get('error')).toBe('expired_state');
    expect(new URL(expired.location!).searchParams.get('error_description')).toMatch(/expired/);

    // Another tenant's state: tenant A's code (A's PKCE challenge) with tenant B's state.
    const forA = await connect(a.key);
    const forB = await connect(b.key);
    const codeForA = new URL(await authorize(forA.authorization_url));
    codeForA.searchParams.set('state', forB.state);
    const crossed = await callback(codeForA.href);
    expect(crossed.status).toBe(302);
    const crossedTo = new URL(crossed.location!);
    expect(crossedTo.searchParams.get('error')).toBe('invalid_request');
    expect(crossedTo.searchParams.get('error_description')).toMatch(/code_verifier/);
    expect((await f.tp.api(b.key, 'GET', '/integrations')).body.data).toHaveLength(0);

    // Wrong PKCE verifier: the authorization server got another challenge than Plugboard's verifier.
    const wrong = await connect(b.key);
    const tampered = new URL(wrong.authorization_url);
    tampered.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const refused = await callback(await authorize(tampered.href));
    expect(new URL(refused.location!).searchParams.get('error')).toBe('invalid_request');
    expect((await f.tp.api(b.key, 'GET', '/integrations')).body.data).toHaveLength(0);

    // Denied consent.
    const denied = await connect(b.key, null);
    const deniedPage = await callback(`${f.tp.url}/api/v1/integrations/callback/acme_crm?error=access_denied&error_description=The+user+said+no&state=${denied.state}`);
    expect(deniedPage.status).toBe(400);
    expect(deniedPage.text).toMatch(/access_denied/);

    // An unknown state and a state for another provider: a page, never a redirect.
    const unknown = await callback(`${f.tp.url}/api/v1/integrations/callback/acme_crm?code=x&state=nope`);
    expect(unknown.status).toBe(400);
    expect(unknown.location).toBeNull();
    for (const page of [replay, deniedPage, unknown]) {
      expect(page.text).not.toMatch(/at .*\.ts:|Error:|stack/);
    }
  });

  it('refuses return_to on a foreign origin (422 naming return_to); the server\'s own origin is allowed', async () => {
    const t = await f.tp.tenant();
    const r = await f.tp.api(t.key, 'GET', `/integrations/connect/acme_crm?return_to=${encodeURIComponent('https://evil.example.com/x')}`);
    expect(r.status).toBe(422);
    expect(Object.keys(r.body.errors)).toEqual(['return_to']);
    const js = await f.tp.api(t.key, 'GET', `/integrations/connect/acme_crm?return_to=${encodeURIComponent('javascript:alert(1)')}`);
    expect(js.status).toBe(422);
    expect((await f.tp.api(t.key, 'GET', `/integrations/connect/acme_crm?return_to=${encodeURIComponent(`${f.tp.url}/studio`)}`)).status).toBe(200);
  });

  it('DELETE revokes the grant at revocation_url; a failing revocation does not block the delete', async () => {
    const t = await f.tp.tenant('Leaving');
    const { id } = await connectFully(t.key);
    const del = await f.tp.api(t.key, 'DELETE', `/integrations/${id}`);
    expect(del.status).toBe(200);
    expect(f.auth.revoked).toHaveLength(1);
    expect(f.auth.issued).toContain(f.auth.revoked[0]);

    const t2 = await f.tp.tenant('Leaving too');
    const second = await connectFully(t2.key);
    f.auth.failRevoke = true; // the revocation endpoint fails
    try {
      const del2 = await f.tp.api(t2.key, 'DELETE', `/integrations/${second.id}`);
      expect(del2.status).toBe(200);
      expect((await f.tp.api(t2.key, 'GET', `/integrations/${second.id}`)).status).toBe(404);
      expect(fs.readFileSync(f.tp.logFile, 'utf8')).toMatch(/oauth token revocation failed/);
    } finally {
      f.auth.failRevoke = false;
    }
  });

  it('no access or refresh token appears in a response, a log line, the database or its WAL', async () => {
    const tokens = [...new Set(f.auth.issued)];
    expect(tokens.length).toBeGreaterThan(6);
    if (f.tp.storeKind === 'sqlite') expect(fs.existsSync(`${f.tp.dbFile}-wal`)).toBe(true);
    const haystacks = [await f.tp.dumpDatabase(), fs.readFileSync(f.tp.logFile, 'latin1'), ...f.tp.responses];
    for (const token of tokens) for (const h of haystacks) expect(h.includes(token)).toBe(false);
    // The client secret and the PKCE verifiers are not stored either.
    for (const h of haystacks.slice(0, 1)) expect(h.includes(OAUTH_ENV.PLUGBOARD_OAUTH_ACME_CRM_CLIENT_SECRET)).toBe(false);
  });
});

