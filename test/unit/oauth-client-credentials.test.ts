// oauth2_client_credentials (PayPal): one token per integration, cached until shortly before expiry and
// shared by concurrent calls (single-flight), counted at a loopback token endpoint.
import { describe, it, expect } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import { connectorFromYaml, clientCredentialsManifest } from '../helpers/connector.ts';
import { useLoopbackServers, type Responder } from '../helpers/http.ts';

const serve = useLoopbackServers();

function setup(expiresIn: number) {
  let issued = 0;
  const tokenRequests: string[] = [];
  const responder: Responder = (r) => {
    if (r.url === '/v1/oauth2/token') {
      tokenRequests.push(r.body);
      issued++;
      // Slow enough that concurrent calls overlap while the first token request is in flight.
      return { status: 200, body: { access_token: `A21AA_${issued}`, token_type: 'Bearer', expires_in: expiresIn }, delayMs: 150 };
    }
    return String(r.headers['authorization']).startsWith('Bearer A21AA_') ? { status: 201, body: { id: 'PAY-1', status: 'CREATED', auth: r.headers['authorization'] } } : { status: 401, body: {} };
  };
  return { responder, tokenRequests };
}

function paypal(tokenUrl: string) {
  return connectorFromYaml(clientCredentialsManifest({ name: 'paypalish', displayName: 'PayPal-ish', tokenUrl, base: 'base_url: https://api-m.sandbox.paypal.invalid', path: '/v2/contacts', response: '{ "contact_id": id, "created_at": $lookup($, "auth") }' }));
}

const credentials = { client_id: 'cid', client_secret: 'csecret-abc' };
const input = { email: 'a@b.co' };

describe('oauth2_client_credentials token cache', () => {
  it('concurrent calls of one integration make one token request and share its token', async () => {
    const { responder, tokenRequests } = setup(3600);
    const s = await serve(responder);
    const c = paypal(`${s.url}/v1/oauth2/token`);
    const engine = new Engine({ env: {} });
    const results = await Promise.all(Array.from({ length: 8 }, () => engine.run(c, 'create_contact', { credentials, input, baseUrl: s.url, integration: { id: 'int_1' } })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(tokenRequests).toHaveLength(1);
    expect(new Set(results.map((r) => (r.ok ? (r.output as { created_at: string }).created_at : '')))).toEqual(new Set(['Bearer A21AA_1']));
    // Later calls reuse the cached token.
    await engine.run(c, 'create_contact', { credentials, input, baseUrl: s.url, integration: { id: 'int_1' } });
    expect(tokenRequests).toHaveLength(1);
  });

  it('tokens are per integration', async () => {
    const { responder, tokenRequests } = setup(3600);
    const s = await serve(responder);
    const c = paypal(`${s.url}/v1/oauth2/token`);
    const engine = new Engine({ env: {} });
    const [a, b] = await Promise.all(['int_a', 'int_b'].map((id) => engine.run(c, 'create_contact', { credentials, input, baseUrl: s.url, integration: { id } })));
    expect(tokenRequests).toHaveLength(2);
    expect(a.ok && b.ok && (a.output as { created_at: string }).created_at !== (b.output as { created_at: string }).created_at).toBe(true);
  });

  it('a token about to expire (inside the margin) is fetched again, still once for concurrent calls', async () => {
    const { responder, tokenRequests } = setup(30); // expires within the 60 s margin
    const s = await serve(responder);
    const c = paypal(`${s.url}/v1/oauth2/token`);
    const engine = new Engine({ env: {} });
    const run = () => engine.run(c, 'create_contact', { credentials, input, baseUrl: s.url, integration: { id: 'int_1' } });
    await Promise.all([run(), run(), run()]);
    expect(tokenRequests).toHaveLength(1);
    await run();
    expect(tokenRequests).toHaveLength(2);
  });
});

describe('oauth2_client_credentials: a cached token the provider rejects', () => {
  it('is forgotten on a 401: one new token request, the call retried once and succeeds', async () => {
    let issued = 0;
    let acceptFrom = 1;
    const tokenRequests: number[] = [];
    const s = await serve((r) => {
      if (r.url === '/v1/oauth2/token') {
        tokenRequests.push(++issued);
        return { status: 200, body: { access_token: `A21AA_${issued}`, token_type: 'Bearer', expires_in: 32400 } };
      }
      const n = Number(/A21AA_(\d+)/.exec(String(r.headers['authorization']))?.[1] ?? 0);
      return n >= acceptFrom ? { status: 201, body: { id: `PAY-${n}` } } : { status: 401, body: { error: 'invalid_token' } };
    });
    const c = paypal(`${s.url}/v1/oauth2/token`);
    const engine = new Engine({ env: {} });
    const run = () => engine.run(c, 'create_contact', { credentials, input, baseUrl: s.url, integration: { id: 'int_1' } });
    expect(await run()).toMatchObject({ ok: true, output: { contact_id: 'PAY-1' } });
    acceptFrom = 2; // the provider revokes token 1 long before its expiry
    expect(await run()).toMatchObject({ ok: true, output: { contact_id: 'PAY-2' }, meta: { attempts: 2 } });
    expect(tokenRequests).toEqual([1, 2]);
    expect(await run()).toMatchObject({ ok: true, output: { contact_id: 'PAY-2' } }); // the new token is cached
    expect(tokenRequests).toEqual([1, 2]);
  });

  it('a provider that keeps answering 401 gets one new token and one retry', async () => {
    let tokens = 0;
    const s = await serve((r) => (r.url === '/v1/oauth2/token' ? (tokens++, { status: 200, body: { access_token: `tok_${tokens}_abcdef`, expires_in: 3600 } }) : { status: 401, body: { message: 'nope' } }));
    const res = await new Engine({ env: {} }).run(paypal(`${s.url}/v1/oauth2/token`), 'create_contact', { credentials, input, baseUrl: s.url, integration: { id: 'int_1' } });
    expect(tokens).toBe(2);
    expect(s.seen.filter((r) => r.url !== '/v1/oauth2/token')).toHaveLength(2);
    expect(res).toMatchObject({ ok: false, error: { status: 401 } });
  });
});
