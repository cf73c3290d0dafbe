// The token lifecycle under races and provider failures (issue 9 security review): a credentials
// PATCH during a refresh, a reconnect during a refresh, OAuth client errors, transient token
// endpoint failures, expires_in as a string, a refresh without scope, redaction of provider text,
// and what a delete leaves in the database.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestPlatform } from '../helpers/platform.ts';
import { CredentialCipher } from '../../runtime/crypto/envelope.ts';
import { OAUTH_TOKENS } from '../../runtime/integrations/oauth-grants.ts';
import { startOAuthFixture, authorize, type OAuthFixture, type AuthServer } from './helpers.ts';
import { agendaJobs, runAgendaJobsNow, sqlOne } from '../helpers/store.ts';

let auth: AuthServer;
let tp: TestPlatform;
let fixture: OAuthFixture;

beforeAll(async () => {
  // A short token request timeout, so a timeout can be tested (default 30 s).
  fixture = await startOAuthFixture({ env: { PLUGBOARD_OAUTH_TOKEN_TIMEOUT_MS: '1500' } });
  ({ auth, tp } = fixture);
}, 60_000);

afterAll(() => fixture?.close());


async function connect(key: string): Promise<void> {
  const started = (await tp.api(key, 'GET', '/integrations/connect/acme_crm')).body.data;
  const back = await fetch(await authorize(started.authorization_url), { redirect: 'manual' });
  expect(back.status, await back.text()).toBe(200);
}

async function connected(): Promise<{ key: string; tenantId: string; id: string }> {
  const t = await tp.tenant();
  await connect(t.key);
  const id = (await tp.api(t.key, 'GET', '/integrations')).body.data[0].id as string;
  await tp.waitFor(async () => (await tp.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'active');
  return { key: t.key, tenantId: t.id, id };
}

async function source(tenantId: string, id: string) {
  const row = (await tp.platform.store.integrations.get(tenantId, id))!;
  return tp.platform.integrations.oauthRunOptions(row).tokenSource!;
}

/** The integration's stored tokens, opened as the runtime opens them (throws when they do not open). */
async function storedTokens(tenantId: string, id: string): Promise<Record<string, unknown>> {
  const row = (await tp.platform.store.integrations.get(tenantId, id))!;
  return new CredentialCipher(tp.platform.keyring).openBeside(tenantId, id, row, OAUTH_TOKENS, row.oauth_tokens_sealed!) as Record<string, unknown>;
}

async function createContact(key: string, id: string) {
  return tp.api(key, 'POST', '/operations/create_contact', { input: { email: 'life@example.com' }, integration_id: id });
}

it('a credentials PATCH during a refresh leaves readable tokens: the refresh saves on the re-sealed row', async () => {
  const { key, tenantId, id } = await connected();
  const s = await source(tenantId, id);
  const rejected = await s.accessToken();
  auth.tokenDelayMs = 800;
  try {
    const refreshing = s.refreshAfterRejection(rejected);
    await new Promise((r) => setTimeout(r, 300));
    const patched = await tp.api(key, 'PATCH', `/integrations/${id}`, { credentials: {} });
    expect(patched.status, patched.text).toBe(200);
    const fresh = await refreshing;
    expect(fresh).not.toBe(rejected);
    // The refreshed token was saved under the new data key, not lost and not left under the old one.
    expect((await storedTokens(tenantId, id))['access_token']).toBe(fresh);
  } finally {
    auth.tokenDelayMs = 0;
  }
  await tp.waitFor(async () => (await tp.api(key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'verified again');
  const op = await createContact(key, id);
  expect(op.status, op.text).toBe(200);
}, 60_000);

it('a reconnect during a refresh with the old refresh token: the stale invalid_grant marks nothing', async () => {
  const { key, tenantId, id } = await connected();
  const s = await source(tenantId, id);
  const rejected = await s.accessToken();
  const oldRefresh = (await storedTokens(tenantId, id))['refresh_token'] as string;
  auth.refreshDelayMs = 1000; // under the 1.5 s token request timeout
  try {
    const refreshing = s.refreshAfterRejection(rejected);
    await new Promise((r) => setTimeout(r, 100));
    await connect(key); // the reconnect saves new tokens while the refresh waits for the provider
    auth.validRefresh.delete(oldRefresh); // the provider dropped the old grant: the refresh gets invalid_grant
    const reconnected = (await storedTokens(tenantId, id))['access_token'];
    expect(await refreshing).toBe(reconnected);
  } finally {
    auth.refreshDelayMs = 0;
  }
  const view = (await tp.api(key, 'GET', `/integrations/${id}`)).body.data;
  expect(view.status).not.toBe('error');
  expect(view.metadata?.needs_reauth).toBeUndefined();
  const row = (await tp.platform.store.integrations.get(tenantId, id))!;
  expect(row.system_metadata['needs_reauth']).toBeUndefined();
  await tp.waitFor(async () => (await tp.api(key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'active after reconnect');
}, 60_000);

it('invalid_client and unauthorized_client are a configuration error naming the operator\'s variables, not needs_reauth', async () => {
  const { key, tenantId, id } = await connected();
  for (const error of ['invalid_client', 'unauthorized_client']) {
    const s = await source(tenantId, id);
    const rejected = await s.accessToken();
    auth.nextTokenFailures.push(() => ({ status: 401, body: { error, error_description: 'Client authentication failed.' } }));
    const err = await s.refreshAfterRejection(rejected).then(() => undefined, (e: { failure?: { type: string; message: string; retryable?: boolean } }) => e);
    expect(err?.failure?.type).toBe('invalid_credentials');
    expect(err?.failure?.message).toMatch(/PLUGBOARD_OAUTH_ACME_CRM_CLIENT_SECRET/);
    const row = (await tp.platform.store.integrations.get(tenantId, id))!;
    expect(row.status).toBe('active');
    expect(row.system_metadata['needs_reauth']).toBeUndefined();
    // Once the app is right again, the same grant refreshes.
    expect(await s.refreshAfterRejection(rejected)).not.toBe(rejected);
  }
  expect((await createContact(key, id)).status).toBe(200);
}, 60_000);

it('a 5xx, a 429 and a timeout of the token endpoint do not set needs_reauth; a later refresh works', async () => {
  const { key, tenantId, id } = await connected();
  const failures: Array<[string, () => void]> = [
    ['503', () => auth.nextTokenFailures.push(() => ({ status: 503, body: { error: 'temporarily_unavailable' } }))],
    ['429', () => auth.nextTokenFailures.push(() => ({ status: 429, body: { error: 'rate_limited' } }))],
    // Held past the timeout, then never forwarded: the refresh token stays unspent at the server.
    ['timeout', () => { auth.refreshDelayMs = 2500; auth.nextTokenFailures.push(() => ({ status: 503, body: {} })); }],
  ];
  for (const [what, arrange] of failures) {
    const s = await source(tenantId, id);
    const rejected = await s.accessToken();
    arrange();
    const err = await s.refreshAfterRejection(rejected).then(() => undefined, (e: { failure?: { type: string } }) => e);
    auth.refreshDelayMs = 0;
    expect(err?.failure?.type, what).toBe(what === 'timeout' ? 'timeout' : 'provider_error');
    const row = (await tp.platform.store.integrations.get(tenantId, id))!;
    expect(row.status, what).toBe('active');
    expect(row.system_metadata['needs_reauth'], what).toBeUndefined();
    if (what === 'timeout') await new Promise((r) => setTimeout(r, 1500)); // the abandoned request ends at the proxy
    expect(auth.nextTokenFailures, what).toHaveLength(0);
    expect(await s.refreshAfterRejection(rejected), what).not.toBe(rejected);
  }
  expect((await createContact(key, id)).status).toBe(200);
}, 60_000);

it('expires_in as a numeric string sets the expiry; a refresh without scope keeps the granted scopes', async () => {
  const { tenantId, id } = await connected();
  const granted = (await storedTokens(tenantId, id))['scope'];
  expect(granted).toBeTruthy();
  const s = await source(tenantId, id);
  const rejected = await s.accessToken();
  auth.nextExpiresIn.push('3600');
  auth.nextResponseEdits.push((body) => { delete body['scope']; });
  await s.refreshAfterRejection(rejected);
  const tokens = await storedTokens(tenantId, id);
  expect(tokens['scope']).toBe(granted);
  const expiresAt = Date.parse(String(tokens['expires_at']));
  expect(expiresAt - Date.now()).toBeGreaterThan(3500_000);
  expect(expiresAt - Date.now()).toBeLessThan(3700_000);
  const row = (await tp.platform.store.integrations.get(tenantId, id))!;
  expect(Date.parse(row.token_expires_at!)).toBe(expiresAt);
}, 60_000);

it('provider error text that echoes the refresh or access token is redacted', async () => {
  const { tenantId, id } = await connected();
  const s = await source(tenantId, id);
  const rejected = await s.accessToken();
  const refresh = (await storedTokens(tenantId, id))['refresh_token'] as string;
  auth.nextTokenFailures.push((form) => ({ status: 400, body: { error: 'invalid_request', error_description: `bad refresh_token ${form.get('refresh_token')} for access ${rejected}` } }));
  const err = await s.refreshAfterRejection(rejected).then(() => undefined, (e: Error) => e);
  expect(err?.message).toMatch(/bad refresh_token \[REDACTED\] for access \[REDACTED\]/);
  expect(err?.message).not.toContain(refresh);
  expect(err?.message).not.toContain(rejected);
}, 60_000);

it('deleting an integration removes its tokens from the row and cancels its refresh job', async () => {
  const { key, id } = await connected();
  const jobs = async () => (await agendaJobs(tp.platform.store, 'refresh-oauth-token')).filter((j) => j.data['integration_id'] === id);
  expect(await jobs()).toHaveLength(1);
  expect((await tp.api(key, 'DELETE', `/integrations/${id}`)).status).toBe(200);
  const row = (await sqlOne(tp.platform.store, 'SELECT oauth_tokens_sealed, token_expires_at, connection, deleted_at FROM integrations WHERE id = ?', id))!;
  expect(row['deleted_at']).toBeTruthy();
  expect(row['oauth_tokens_sealed']).toBeNull();
  expect(row['token_expires_at']).toBeNull();
  expect(row['connection']).toBe('{}');
  expect(await jobs()).toHaveLength(0);
}, 60_000);

it('the scheduled refresh refused with invalid_client keeps its job (retried in a minute) and marks nothing', async () => {
  const t = await tp.tenant();
  auth.nextExpiresIn.push(240); // inside the job's 5 minutes
  await connect(t.key);
  const id = (await tp.api(t.key, 'GET', '/integrations')).body.data[0].id as string;
  await tp.waitFor(async () => (await tp.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'active');
  const mine = async () => (await agendaJobs(tp.platform.store, 'refresh-oauth-token')).filter((j) => j.data['integration_id'] === id);
  const before = auth.tokenRequests.length;
  auth.nextTokenFailures.push(() => ({ status: 401, body: { error: 'invalid_client' } }));
  expect(await runAgendaJobsNow(tp.platform.store, 'refresh-oauth-token', (data) => data['integration_id'] === id)).toBe(1);
  await tp.waitFor(async () => auth.tokenRequests.length > before, 'the scheduled refresh', 20_000);
  const next = await tp.waitFor(async () => (await mine()).find((j) => j.next_run_at > Date.now() + 30_000), 'the job queued again');
  expect(next.next_run_at - Date.now()).toBeLessThan(65_000);
  const row = (await tp.platform.store.integrations.get(t.id, id))!;
  expect(row.status).toBe('active');
  expect(row.system_metadata['needs_reauth']).toBeUndefined();
}, 60_000);

it('token writes are compare-and-set on token_version: a write from a stale read is refused, the version moves in SQL', async () => {
  const { tenantId, id } = await connected();
  const { store } = tp.platform;
  const read = (await store.integrations.get(tenantId, id))!; // e.g. a credentials PATCH reads here
  const v = read.token_version ?? 0;
  // ... a refresh saves new tokens meanwhile
  expect(await store.oauthConnections.saveTokens(tenantId, id, v, { oauth_tokens_sealed: read.oauth_tokens_sealed!, token_expires_at: read.token_expires_at ?? null })).toBe(true);
  // ... so the PATCH's re-seal from its stale read would write back a spent refresh token: refused.
  expect(await store.integrations.updateAtTokenVersion(tenantId, id, v, { oauth_tokens_sealed: read.oauth_tokens_sealed!, updated_at: new Date().toISOString() })).toBeUndefined();
  const again = await store.integrations.updateAtTokenVersion(tenantId, id, v + 1, { oauth_tokens_sealed: read.oauth_tokens_sealed!, updated_at: new Date().toISOString() });
  expect(again?.token_version).toBe(v + 2);
  // A write without tokens (needs_reauth) is conditional too, and does not move the version.
  expect(await store.integrations.updateAtTokenVersion(tenantId, id, v, { status: 'error' })).toBeUndefined();
  expect((await store.integrations.updateAtTokenVersion(tenantId, id, v + 2, { updated_at: new Date().toISOString() }))?.token_version).toBe(v + 2);
}, 60_000);

it('the refresh lease outlasts the token request timeout by a margin (a slow refresh never loses it)', async () => {
  const { tenantId, id } = await connected();
  const s = await source(tenantId, id);
  const rejected = await s.accessToken();
  auth.refreshDelayMs = 500;
  try {
    const refreshing = s.refreshAfterRejection(rejected);
    const lease = await tp.waitFor(async () => sqlOne<{ expires_at: number }>(tp.platform.store, 'SELECT expires_at FROM oauth_refresh_leases WHERE integration_id = ?', id), 'the lease');
    // PLUGBOARD_OAUTH_TOKEN_TIMEOUT_MS is 1500 here: the lease lasts it plus 30 s.
    expect(lease.expires_at - Date.now()).toBeGreaterThan(1500 + 29_000);
    await refreshing;
  } finally {
    auth.refreshDelayMs = 0;
  }
}, 60_000);
