// auth.userinfo_url (DocuSign: the account's host is in GET /oauth/userinfo, not in the token
// response): after the code exchange the user info is read and given to the connection mapping as
// `userinfo`; a relative userinfo_url follows the token URL's host. Against the real authorization
// server on loopback (oauth2-mock-server, whose /userinfo answers {"sub": "johndoe"}).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOAuthFixture, authorize, type OAuthFixture } from './helpers.ts';
import net, { type AddressInfo } from 'node:net';
import { resolveEndpoints, type OAuthEndpoints } from '../../runtime/oauth/endpoints.ts';
import { fetchUserinfo } from '../../runtime/oauth/grant.ts';

let f: OAuthFixture;

beforeAll(async () => {
  f = await startOAuthFixture({
    env: { PLUGBOARD_OAUTH_ACME_SIGN_CLIENT_ID: 'signclient', PLUGBOARD_OAUTH_ACME_SIGN_CLIENT_SECRET: 'signsecretvalue', PLUGBOARD_OAUTH_ACME_SIGN_BROKEN_CLIENT_ID: 'signclient', PLUGBOARD_OAUTH_ACME_SIGN_BROKEN_CLIENT_SECRET: 'signsecretvalue' },
    manifests: (base) => ({
      acme_sign: base.replace('name: acme_crm', 'name: acme_sign')
        .replace(`connection: '{ "instance_url": instance_url }'`, `userinfo_url: /userinfo\n  connection: '{ "user": userinfo.sub, "instance_url": instance_url }'`),
      acme_sign_broken: base.replace('name: acme_crm', 'name: acme_sign_broken')
        .replace(`connection: '{ "instance_url": instance_url }'`, `userinfo_url: /no-such-userinfo\n  connection: '{ "user": userinfo.sub }'`),
    }),
  });
}, 60_000);

afterAll(() => f?.close());

it('a relative userinfo_url is resolved against the token URL (and its override)', () => {
  const c = f.tp.platform.connectors.get('acme_sign')!;
  expect(resolveEndpoints(c, { credentials: {}, environment: null, baseUrl: f.api.url, env: {} }).userinfoUrl).toBe(`${f.auth.url}/userinfo`);
  expect(resolveEndpoints(c, { credentials: {}, environment: null, baseUrl: f.api.url, env: { PLUGBOARD_OAUTH_ACME_SIGN_TOKEN_URL: 'https://account-d.example.test/oauth/token' } }).userinfoUrl).toBe('https://account-d.example.test/userinfo');
});

it('the connection maps the user info read with the new token beside the token response', async () => {
  const t = await f.tp.tenant();
  const r = await f.tp.api(t.key, 'GET', '/integrations/connect/acme_sign?return_to=https://app.example.test/done');
  expect(r.status, r.text).toBe(200);
  const res = await fetch(await authorize(r.body.data.authorization_url), { redirect: 'manual' });
  expect(res.status, await res.text()).toBe(302);
  const id = new URL(res.headers.get('location')!).searchParams.get('integration_id')!;
  const got = (await f.tp.api(t.key, 'GET', `/integrations/${id}`)).body.data;
  expect(got.connection).toEqual({ user: 'johndoe', instance_url: 'https://acme-eu.example.test' });
});

it('a user info endpoint that fails fails the connect, with no integration left behind', async () => {
  const t = await f.tp.tenant();
  const r = await f.tp.api(t.key, 'GET', '/integrations/connect/acme_sign_broken?return_to=https://app.example.test/done');
  const res = await fetch(await authorize(r.body.data.authorization_url), { redirect: 'manual' });
  const to = new URL(res.headers.get('location')!);
  expect(to.searchParams.get('error')).toBeTruthy();
  expect(to.searchParams.get('integration_id')).toBeNull();
  expect(to.searchParams.get('error_description')).toMatch(/user info/);
  expect((await f.tp.api(t.key, 'GET', '/integrations')).body.data).toEqual([]);
});

it('the tokens of a connect whose user info fails are revoked at revocation_url, not dropped', async () => {
  const t = await f.tp.tenant();
  const before = f.auth.revoked.length;
  const r = await f.tp.api(t.key, 'GET', '/integrations/connect/acme_sign_broken?return_to=https://app.example.test/done');
  const res = await fetch(await authorize(r.body.data.authorization_url), { redirect: 'manual' });
  expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBeTruthy();
  const revoked = f.auth.revoked.slice(before);
  expect(revoked).toHaveLength(1);
  expect(f.auth.issued).toContain(revoked[0]);
});

it('an unreachable user info endpoint is named as such (not the token endpoint)', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const endpoints: OAuthEndpoints = { clientId: 'x', clientSecret: '', clientAuth: 'basic', authorizationUrl: '', tokenUrl: '', userinfoUrl: `http://127.0.0.1:${port}/userinfo` };
  const err = await fetchUserinfo(endpoints, 'secret-access-token').catch((e: unknown) => e as Error);
  expect((err as Error).message).toMatch(/^reading the user info: cannot reach the user info endpoint/);
  expect((err as Error).message).not.toContain('secret-access-token');
});
