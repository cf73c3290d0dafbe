// Client-credentials tokens (issue 8, items 10 and 11): a relative token_url follows the base URL
// (override, PLUGBOARD_BASE_URL_<PROVIDER>, environment); PLUGBOARD_OAUTH_<PROVIDER>_TOKEN_URL
// overrides it; transport failures are network_error and a refused client is invalid_credentials.
import { describe, it, expect } from 'vitest';
import type { LookupFunction } from 'node:net';
import { Engine } from '../../runtime/engine/engine.ts';
import { UndiciTransport } from '../../runtime/http/transport.ts';
import { connectorFromYaml, clientCredentialsManifest } from '../helpers/connector.ts';
import { useLoopbackServers, type Responder } from '../helpers/http.ts';

const manifest = (tokenUrl: string, base?: string) => connectorFromYaml(clientCredentialsManifest({ name: 'crmy', displayName: 'CRM Y', tokenUrl, base }));

const credentials = { client_id: 'cid', client_secret: 'csecret-123' };
const input = { email: 'a@b.co' };

const serve = useLoopbackServers();

const tokenThenContact: Responder = (r) =>
  r.url.endsWith('/oauth2/token') ? { status: 200, body: { access_token: 'at-1', expires_in: 3600 } } : { status: 201, body: { id: r.url } };

describe('client credentials: token_url', () => {
  it('resolves a relative token_url against --base-url', async () => {
    const s = await serve(tokenThenContact);
    const res = await new Engine({ env: {} }).run(manifest('/v1/oauth2/token'), 'create_contact', { credentials, input, baseUrl: `${s.url}/api` });
    expect(res).toMatchObject({ ok: true, output: { contact_id: '/api/contacts' } });
    expect(s.seen.map((r) => r.url)).toEqual(['/api/v1/oauth2/token', '/api/contacts']);
  });

  it('resolves a relative token_url against PLUGBOARD_BASE_URL_<PROVIDER> and the chosen environment', async () => {
    const s = await serve(tokenThenContact);
    const viaEnv = await new Engine({ env: { PLUGBOARD_BASE_URL_CRMY: s.url } }).run(manifest('/v1/oauth2/token'), 'create_contact', { credentials, input });
    expect(viaEnv).toMatchObject({ ok: true });
    const envs = `environments: { live: https://crm.invalid, sandbox: "${s.url}/sandbox" }`;
    const viaEnvironment = await new Engine({ env: {} }).run(manifest('/v1/oauth2/token', envs), 'create_contact', { credentials, input, integration: { environment: 'sandbox' } });
    expect(viaEnvironment).toMatchObject({ ok: true });
    expect(s.seen.map((r) => r.url)).toEqual(['/v1/oauth2/token', '/contacts', '/sandbox/v1/oauth2/token', '/sandbox/contacts']);
  });

  it("an environment's own token_url replaces the manifest's; the override variable beats both", async () => {
    const s = await serve(tokenThenContact);
    const envs = `environments:
  live: https://crm.invalid
  sandbox: { base_url: "${s.url}/sb", token_url: "${s.url}/sandbox-login/oauth2/token" }`;
    const c = manifest('/v1/oauth2/token', envs);
    expect(await new Engine({ env: {} }).run(c, 'create_contact', { credentials, input, integration: { environment: 'sandbox' } })).toMatchObject({ ok: true });
    const overridden = new Engine({ env: { PLUGBOARD_OAUTH_CRMY_TOKEN_URL: `${s.url}/proxy/oauth2/token` } });
    expect(await overridden.run(c, 'create_contact', { credentials, input, integration: { environment: 'sandbox' } })).toMatchObject({ ok: true });
    expect(s.seen.map((r) => r.url)).toEqual(['/sandbox-login/oauth2/token', '/sb/contacts', '/proxy/oauth2/token', '/sb/contacts']);
  });

  it('PLUGBOARD_OAUTH_<PROVIDER>_TOKEN_URL overrides an absolute token_url', async () => {
    const s = await serve(tokenThenContact);
    const engine = new Engine({ env: { PLUGBOARD_OAUTH_CRMY_TOKEN_URL: `${s.url}/proxy/oauth2/token` } });
    const res = await engine.run(manifest('https://login.crm.invalid/oauth2/token'), 'create_contact', { credentials, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: true });
    expect(s.seen[0].url).toBe('/proxy/oauth2/token');
  });
});

describe('client credentials: error types', () => {
  it('a token endpoint answering 401 is invalid_credentials, not provider_error', async () => {
    const s = await serve(() => ({ status: 401, body: { error: 'invalid_client', error_description: 'bad secret' } }));
    const res = await new Engine({ env: {} }).run(manifest('/oauth2/token'), 'create_contact', { credentials, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: false, error: { type: 'invalid_credentials', status: 401, provider_code: 'invalid_client', retryable: false } });
    expect(JSON.stringify(res)).not.toContain('csecret-123');
  });

  it('a token endpoint answering 503 stays a retryable provider_error', async () => {
    const s = await serve(() => ({ status: 503, body: { error: 'temporarily_unavailable' } }));
    const res = await new Engine({ env: {} }).run(manifest('/oauth2/token'), 'create_contact', { credentials, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', status: 503, retryable: true } });
  });

  // A host under .invalid (RFC 6761) resolved by an injected lookup that fails like getaddrinfo:
  // no DNS traffic at all.
  const failingLookup: LookupFunction = (hostname, _opts, cb) => {
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
    (cb as (e: Error) => void)(err);
  };

  it('a DNS failure of the token endpoint is a retryable network_error', async () => {
    const transport = new UndiciTransport({ lookup: failingLookup });
    try {
      const res = await new Engine({ env: {}, transport, sleep: async () => {} }).run(manifest('https://login.nowhere.invalid/oauth2/token'), 'create_contact', { credentials, input });
      expect(res).toMatchObject({ ok: false, error: { type: 'network_error', retryable: true } });
      if (!res.ok) expect(res.error.message).toContain('ENOTFOUND');
    } finally {
      await transport.close();
    }
  });

  it('a DNS failure of the capability request is a retryable network_error', async () => {
    const transport = new UndiciTransport({ lookup: failingLookup });
    try {
      const c = connectorFromYaml(`
schema_version: 1
name: dnsx
display_name: DNS X
category: crm
base_url: https://api.nowhere.invalid
auth: { type: none }
credential_schema: {}
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
`);
      const res = await new Engine({ env: {}, transport, sleep: async () => {} }).run(c, 'create_contact', { credentials: {}, input });
      expect(res).toMatchObject({ ok: false, error: { type: 'network_error', retryable: true } });
    } finally {
      await transport.close();
    }
  });
});
