// The callback's own query parameters beside code and state (QuickBooks sends realmId, the company the
// user chose) reach the connection mapping as `callback`; a refresh has no callback, so what it mapped
// stays. Against the real authorization server on loopback (oauth2-mock-server).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOAuthFixture, authorize, type OAuthFixture } from './helpers.ts';

let f: OAuthFixture;

beforeAll(async () => {
  f = await startOAuthFixture({
    env: { PLUGBOARD_OAUTH_ACME_BOOKS_CLIENT_ID: 'booksclient', PLUGBOARD_OAUTH_ACME_BOOKS_CLIENT_SECRET: 'bookssecretvalue' },
    manifests: (base) => ({
      acme_books: base.replace('name: acme_crm', 'name: acme_books')
        .replace(`connection: '{ "instance_url": instance_url }'`, `connection: '{ "realm_id": callback.realmId, "instance_url": instance_url, "code": callback.code, "state": callback.state }'`),
    }),
  });
}, 60_000);

afterAll(() => f?.close());

it("maps the callback's realmId into the connection, never its code or state", async () => {
  const t = await f.tp.tenant();
  const r = await f.tp.api(t.key, 'GET', '/integrations/connect/acme_books?return_to=https://app.example.test/done');
  expect(r.status, r.text).toBe(200);
  // The provider adds realmId to the redirect, as Intuit does.
  const callback = new URL(await authorize(r.body.data.authorization_url));
  callback.searchParams.set('realmId', '4620816365037572');
  const res = await fetch(callback, { redirect: 'manual' });
  expect(res.status, await res.text()).toBe(302);
  const id = new URL(res.headers.get('location')!).searchParams.get('integration_id')!;
  expect(id).toBeTruthy();
  const got = (await f.tp.api(t.key, 'GET', `/integrations/${id}`)).body.data;
  expect(got.connection).toEqual({ realm_id: '4620816365037572', instance_url: 'https://acme-eu.example.test' });
});
