// oauth2_authorization_code in the engine: the token source, one refresh-and-retry on a provider 401,
// typed token-source failures, tokens redacted from every error, connection.* in templates and base_url.
import { describe, it, expect } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import { EngineError, failure } from '../../runtime/http/errors.ts';
import { PlugboardError } from '../../runtime/errors/plugboard-error.ts';
import type { TokenSource } from '../../runtime/auth/token-source.ts';
import { connectorFromYaml } from '../helpers/connector.ts';
import { useLoopbackServers, type Responder } from '../helpers/http.ts';

const OLD = 'at_old_5f4e3d2c1b0a99887766';
const NEW = 'at_new_0a1b2c3d4e5f66778899';

function crm(baseUrl = 'https://crm.example.invalid/v1', extra = '') {
  return connectorFromYaml(`
schema_version: 1
name: acme_crm
display_name: Acme CRM
category: crm
base_url: "${baseUrl}"
${extra}
auth:
  type: oauth2_authorization_code
  authorization_url: https://login.acme.invalid/oauth/authorize
  token_url: https://login.acme.invalid/oauth/token
  client_id: "{{app.client_id}}"
  client_secret: "{{app.client_secret}}"
  connection: '{ "instance_url": instance_url, "owner": user_id }'
credential_schema: {}
capabilities:
  create_contact:
    request:
      method: POST
      path: /contacts
      headers: { X-Owner: "{{connection.owner}}" }
      body: '{ "email": input.email, "owner": connection.owner }'
    response: '{ "contact_id": id }'
`);
}

/** A token source that counts its calls; refresh hands out NEW. */
function countingSource(first = OLD, next = NEW) {
  const calls = { access: 0, refresh: [] as string[] };
  const source: TokenSource = {
    async accessToken() {
      calls.access++;
      return first;
    },
    async refreshAfterRejection(rejected) {
      calls.refresh.push(rejected);
      return next;
    },
  };
  return { source, calls };
}

const serve = useLoopbackServers();

/** 401 (echoing the token it got, as careless providers do) unless the token is `valid`. */
function acceptOnly(valid: string): Responder {
  return (req) => (req.headers['authorization'] === `Bearer ${valid}` ? { status: 201, body: { id: 'c1' } } : { status: 401, body: { message: `token ${String(req.headers['authorization'])} is expired` } });
}

const engine = () => new Engine({ env: {}, sleep: async () => {} });
const input = { email: 'ada@example.com' };

describe('engine: oauth2_authorization_code with a token source', () => {
  it('sends the token source token; on a 401 refreshes once and retries once with the new token', async () => {
    const s = await serve(acceptOnly(NEW));
    const { source, calls } = countingSource();
    const res = await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url, tokenSource: source });
    expect(res).toMatchObject({ ok: true, output: { contact_id: 'c1' }, meta: { attempts: 2, status: 201 } });
    expect(s.seen.map((r) => r.headers['authorization'])).toEqual([`Bearer ${OLD}`, `Bearer ${NEW}`]);
    expect(calls).toEqual({ access: 1, refresh: [OLD] });
  });

  it('a second 401 is invalid_credentials: exactly one refresh and one retry, no token in the error', async () => {
    const s = await serve(acceptOnly('never'));
    const { source, calls } = countingSource();
    const res = await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url, tokenSource: source });
    expect(s.seen).toHaveLength(2);
    expect(calls.refresh).toEqual([OLD]);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error).toMatchObject({ type: 'invalid_credentials', status: 401, retryable: false });
    expect(res.error.message).toMatch(/rejected the OAuth access token/);
    const shown = JSON.stringify(res.error);
    expect(shown).not.toContain(OLD);
    expect(shown).not.toContain(NEW);
    expect(shown).toContain('[REDACTED]');
  });

  it('does not refresh on other statuses', async () => {
    const s = await serve(() => ({ status: 403, body: { message: 'no permission' } }));
    const { source, calls } = countingSource();
    const res = await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url, tokenSource: source });
    expect(s.seen).toHaveLength(1);
    expect(calls.refresh).toEqual([]);
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', status: 403 } });
  });

  it('verify refreshes too', async () => {
    const c = connectorFromYaml(`
schema_version: 1
name: acme_crm
display_name: Acme CRM
category: crm
base_url: https://crm.example.invalid
auth: { type: oauth2_authorization_code, authorization_url: "https://l.invalid/a", token_url: /oauth/token, client_id: "{{app.client_id}}" }
credential_schema: {}
verify: { request: { method: GET, path: /me } }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
`);
    const s = await serve(acceptOnly(NEW));
    const { source, calls } = countingSource();
    const res = await engine().verify(c, { credentials: {}, baseUrl: s.url, tokenSource: source });
    expect(res.ok).toBe(true);
    expect(s.seen).toHaveLength(2);
    expect(calls.refresh).toEqual([OLD]);
  });

  it('token source failures are typed EngineErrors, redacted', async () => {
    const s = await serve(acceptOnly(OLD));
    const gone: TokenSource = {
      accessToken: async () => { throw new EngineError(failure('invalid_credentials', `grant revoked for ${OLD}`, { retryable: false })); },
      refreshAfterRejection: async () => OLD,
    };
    const res1 = await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url, tokenSource: gone });
    expect(res1).toMatchObject({ ok: false, error: { type: 'invalid_credentials' } });

    const down: TokenSource = {
      accessToken: async () => { throw new EngineError(failure('network_error', 'cannot reach the token endpoint: ECONNREFUSED')); },
      refreshAfterRejection: async () => OLD,
    };
    expect(await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url, tokenSource: down })).toMatchObject({ ok: false, error: { type: 'network_error', retryable: true } });

    const plain: TokenSource = {
      accessToken: async () => { throw new PlugboardError('conflict', 'the integration needs to be reconnected'); },
      refreshAfterRejection: async () => OLD,
    };
    expect(await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url, tokenSource: plain })).toMatchObject({ ok: false, error: { type: 'invalid_credentials', message: expect.stringContaining('reconnected') } });

    // A refresh that fails after the 401: its error, and neither token shown.
    const s2 = await serve(acceptOnly('never'));
    const refreshFails: TokenSource = {
      accessToken: async () => OLD,
      refreshAfterRejection: async () => { throw new EngineError(failure('invalid_credentials', `invalid_grant: refresh for ${OLD} refused`, { retryable: false })); },
    };
    const res4 = await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s2.url, tokenSource: refreshFails });
    expect(s2.seen).toHaveLength(1);
    expect(res4).toMatchObject({ ok: false, error: { type: 'invalid_credentials', message: expect.stringContaining('invalid_grant') } });
    expect(JSON.stringify(res4)).not.toContain(OLD);
  });
});

describe('engine: oauth2_authorization_code without a token source', () => {
  it('no token source and no access_token: a clear invalid_credentials, nothing sent', async () => {
    const s = await serve(acceptOnly(OLD));
    const res = await engine().run(crm(), 'create_contact', { credentials: {}, input, baseUrl: s.url });
    expect(s.seen).toHaveLength(0);
    expect(res).toMatchObject({ ok: false, error: { type: 'invalid_credentials', retryable: false } });
    if (!res.ok) expect(res.error.message).toMatch(/no OAuth access token: connect it first .*connect\/acme_crm.*credentials\.access_token/);
  });

  it('credentials.access_token is a static token: sent, never retried, redacted', async () => {
    const ok = await serve(acceptOnly(OLD));
    expect(await engine().run(crm(), 'create_contact', { credentials: { access_token: OLD }, input, baseUrl: ok.url })).toMatchObject({ ok: true });
    expect(ok.seen[0].headers['authorization']).toBe(`Bearer ${OLD}`);

    const no = await serve(acceptOnly('never'));
    const res = await engine().run(crm(), 'create_contact', { credentials: { access_token: OLD }, input, baseUrl: no.url });
    expect(no.seen).toHaveLength(1);
    expect(res).toMatchObject({ ok: false, error: { type: 'invalid_credentials', status: 401 } });
    expect(JSON.stringify(res)).not.toContain(OLD);
  });
});

describe('engine: connection.*', () => {
  it('templates, expressions and a templated base_url read the connection', async () => {
    const s = await serve(acceptOnly(OLD));
    const c = crm('{{connection.instance_url}}/v1');
    const res = await engine().run(c, 'create_contact', { credentials: { access_token: OLD }, input, connection: { instance_url: s.url, owner: 'u_7' } });
    expect(res).toMatchObject({ ok: true });
    expect(s.seen[0].url).toBe('/v1/contacts');
    expect(s.seen[0].headers['x-owner']).toBe('u_7');
    expect(JSON.parse(s.seen[0].body)).toEqual({ email: 'ada@example.com', owner: 'u_7' });
  });

  it('base URL precedence: override > PLUGBOARD_BASE_URL_<PROVIDER> > connection > environment', () => {
    const c = crm('{{connection.instance_url}}/v1', 'environments: { sandbox: "https://sandbox.acme.invalid" }');
    const conn = { instance_url: 'https://eu1.acme.invalid' };
    const plain = new Engine({ env: {} });
    const withEnv = new Engine({ env: { PLUGBOARD_BASE_URL_ACME_CRM: 'http://127.0.0.1:9' } });
    expect(plain.baseUrl(c, { baseUrl: 'http://127.0.0.1:1', connection: conn })).toBe('http://127.0.0.1:1');
    expect(withEnv.baseUrl(c, { connection: conn })).toBe('http://127.0.0.1:9');
    expect(plain.baseUrl(c, { connection: conn, integration: { environment: 'sandbox' } })).toBe('https://eu1.acme.invalid/v1');
    expect(plain.baseUrl(c, { connection: {}, integration: { environment: 'sandbox' } })).toBe('https://sandbox.acme.invalid');
  });

  it('a templated base_url whose connection lacks the field is invalid_credentials (reconnect)', async () => {
    const res = await engine().run(crm('{{connection.instance_url}}/v1'), 'create_contact', { credentials: { access_token: OLD }, input, connection: {} });
    expect(res).toMatchObject({ ok: false, error: { type: 'invalid_credentials', message: expect.stringContaining('connect it again') } });
  });
});
