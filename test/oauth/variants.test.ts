// Manifest variants of the connect flow: pkce: false (no challenge, no verifier), and a tenant's own
// OAuth app (client_id / client_secret from credentials): the integration is created with them
// first, connecting fills in its tokens, and new credentials keep the tokens readable.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestPlatform } from '../helpers/platform.ts';
import { startOAuthFixture, authorize, type OAuthFixture, type AuthServer, type ProviderApi } from './helpers.ts';

let auth: AuthServer;
let api: ProviderApi;
let tp: TestPlatform;

let fixture: OAuthFixture;

beforeAll(async () => {
  fixture = await startOAuthFixture({
    env: { PLUGBOARD_OAUTH_ACME_NOPKCE_CLIENT_ID: 'nopkceclient', PLUGBOARD_OAUTH_ACME_NOPKCE_CLIENT_SECRET: 'nopkcesecret' },
    manifests: (base) => ({
      acme_nopkce: base.replace('name: acme_crm', 'name: acme_nopkce').replace('  client_auth: basic', '  client_auth: body\n  pkce: false'),
      acme_own_app: base.replace('name: acme_crm', 'name: acme_own_app')
        .replace('"{{app.client_id}}"', '"{{credentials.client_id}}"').replace('"{{app.client_secret}}"', '"{{credentials.client_secret}}"')
        .replace('credential_schema: {}', 'credential_schema:\n  client_id: { type: string, sensitive: false, required: true }\n  client_secret: { type: string, sensitive: true, required: true }'),
    }),
  });
  ({ auth, api, tp } = fixture);
}, 60_000);

afterAll(() => fixture?.close());

async function connectAndCallBack(key: string, provider: string) {
  const r = await tp.api(key, 'GET', `/integrations/connect/${provider}`);
  expect(r.status, r.text).toBe(200);
  const res = await fetch(await authorize(r.body.data.authorization_url), { redirect: 'manual' });
  return { url: new URL(r.body.data.authorization_url), status: res.status, text: await res.text() };
}

it('pkce: false sends no code challenge and exchanges the code without a verifier', async () => {
  const t = await tp.tenant();
  const sent = auth.tokenRequests.length;
  const { url, status, text } = await connectAndCallBack(t.key, 'acme_nopkce');
  expect(url.searchParams.has('code_challenge')).toBe(false);
  // client_auth: body sends the operator's app id and secret in the form, without a verifier.
  const exchange = auth.tokenRequests.slice(sent).find((r) => r.body.get('grant_type') === 'authorization_code');
  expect([exchange?.body.get('client_id'), exchange?.body.get('client_secret'), exchange?.body.has('code_verifier')]).toEqual(['nopkceclient', 'nopkcesecret', false]);
  expect(exchange?.authorization).toBeUndefined();
  expect(status, text).toBe(200);
  expect(text).toMatch(/is pending_verify/);
  const [integration] = (await tp.api(t.key, 'GET', '/integrations')).body.data;
  await tp.waitFor(async () => (await tp.api(t.key, 'GET', `/integrations/${integration.id}`)).body.data.status === 'active', 'active');
});

it('a tenant\'s own OAuth app: credentials first, then connect; new credentials keep the tokens', async () => {
  const t = await tp.tenant();
  const early = await tp.api(t.key, 'GET', '/integrations/connect/acme_own_app');
  expect(early.status).toBe(422);
  expect(Object.keys(early.body.errors)).toEqual(['credentials']);
  const created = await tp.api(t.key, 'POST', '/integrations', { provider: 'acme_own_app', credentials: { client_id: 'tenantapp', client_secret: 'tenantsecret1' } });
  expect(created.status, created.text).toBe(201);
  const sent = auth.tokenRequests.length;
  const { url, status } = await connectAndCallBack(t.key, 'acme_own_app');
  expect(url.searchParams.get('client_id')).toBe('tenantapp');
  expect(status).toBe(200);
  // The code exchange authenticated as the tenant's app (client_auth: basic), not the operator's.
  const exchange = auth.tokenRequests.slice(sent).find((r) => r.body.get('grant_type') === 'authorization_code');
  expect(basicAuth(exchange?.authorization)).toEqual(['tenantapp', 'tenantsecret1']);
  const id = created.body.data.id as string;
  expect((await tp.api(t.key, 'GET', '/integrations')).body.data).toHaveLength(1); // reconnected, not a second one
  await tp.waitFor(async () => (await tp.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'active');
  // New credentials re-seal under a new data key: the tokens must still open (no refresh needed).
  const refreshes = auth.counts['refresh_token'] ?? 0;
  expect((await tp.api(t.key, 'PATCH', `/integrations/${id}`, { credentials: { client_secret: 'tenantsecret2' } })).status).toBe(200);
  await tp.waitFor(async () => (await tp.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'verified again');
  const op = await tp.api(t.key, 'POST', '/operations/create_contact', { input: { email: 'own@example.com' }, integration_id: id });
  expect(op.status, op.text).toBe(200);
  expect(auth.counts['refresh_token'] ?? 0).toBe(refreshes);
  // A refresh authenticates with the tenant's current client secret.
  const row = (await tp.platform.store.integrations.get(t.id, id))!;
  const source = tp.platform.integrations.oauthRunOptions(row).tokenSource!;
  const before = auth.tokenRequests.length;
  await source.refreshAfterRejection(await source.accessToken());
  const refresh = auth.tokenRequests.slice(before).find((r) => r.body.get('grant_type') === 'refresh_token');
  expect(basicAuth(refresh?.authorization)).toEqual(['tenantapp', 'tenantsecret2']);
  expect(refresh?.body.get('client_secret')).toBeNull(); // basic: not also in the body
});

/** [client_id, client_secret] of an HTTP Basic header (RFC 6749 §2.3.1: form-urlencoded, then base64). */
function basicAuth(header: string | undefined): string[] | undefined {
  const m = /^Basic (.+)$/.exec(header ?? '');
  return m ? Buffer.from(m[1]!, 'base64').toString().split(':').map((p) => decodeURIComponent(p)) : undefined;
}
