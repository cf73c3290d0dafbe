import { describe, it, expect } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import { connectorFromYaml } from '../helpers/connector.ts';
import { useLoopbackServers } from '../helpers/http.ts';

const SECRET = 'tok_9f8e7d6c5b4a39281706';

function smsConnector(extra = '', capExtra = '', body = '{ "to": input.to, "from": credentials.sender, "text": input.body }') {
  return connectorFromYaml(`
schema_version: 1
name: acme_sms
display_name: Acme SMS
category: communication
base_url: https://sms.acme.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
  sender: { type: string, sensitive: false, required: true, format: e164 }
retry: { on_status: [429, 503], max_attempts: 3, initial_delay_ms: 10, max_delay_ms: 50 }
${extra}
capabilities:
  send_sms:
    ${capExtra}
    request:
      method: POST
      path: "/accounts/{{input.to}}/messages"
      headers: { X-Trace: "{{integration.id}}" }
      body: '${body}'
    response: '{ "message_id": id, "status": state }'
`);
}

const creds = { token: SECRET, sender: '+15005550006' };
const input = { to: '+14155550123', body: 'hello' };

const serve = useLoopbackServers();

function engineWithSleeps() {
  const sleeps: number[] = [];
  const engine = new Engine({ env: {}, sleep: async (ms) => void sleeps.push(ms) });
  return { engine, sleeps };
}

describe('engine: request building', () => {
  it('renders path (URL-encoded), headers, JSON body and bearer auth', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 'm1', state: 'queued' } }));
    const { engine } = engineWithSleeps();
    const res = await engine.run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: s.url, integration: { id: 'int_1' } });
    expect(res).toMatchObject({ ok: true, output: { message_id: 'm1', status: 'queued' }, meta: { attempts: 1, status: 200 } });
    const req = s.seen[0];
    expect(req.url).toBe('/accounts/%2B14155550123/messages');
    expect(req.headers['authorization']).toBe(`Bearer ${SECRET}`);
    expect(req.headers['x-trace']).toBe('int_1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ to: '+14155550123', from: '+15005550006', text: 'hello' });
  });

  it('keeps a path traversal attempt inside one encoded segment', async () => {
    const c = connectorFromYaml(`
schema_version: 1
name: pay
display_name: Pay
category: payment
base_url: https://pay.invalid
auth: { type: none }
credential_schema: {}
capabilities:
  verify_payment:
    request: { method: GET, path: "/v1/payments/{{input.payment_id}}" }
    response: '{ "payment_id": id, "status": "succeeded" }'
`);
    const s = await serve(() => ({ status: 200, body: { id: 'p' } }));
    const res = await new Engine({ env: {} }).run(c, 'verify_payment', { credentials: {}, input: { payment_id: '../admin?x=1' }, baseUrl: s.url });
    expect(res.ok).toBe(true);
    expect(s.seen[0].url).toBe('/v1/payments/..%2Fadmin%3Fx%3D1');
  });

  it('sends api keys in the query and several auth headers', async () => {
    const mk = (auth: string) => connectorFromYaml(`
schema_version: 1
name: k
display_name: K
category: crm
base_url: https://k.invalid
auth: ${auth}
credential_schema:
  key: { type: string, sensitive: true, required: true }
  id: { type: string, sensitive: false, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
`);
    const s = await serve(() => ({ status: 201, body: { id: 'c1' } }));
    const e = new Engine({ env: {} });
    const r1 = await e.run(mk('{ type: api_key, in: query, name: api_key, value: "{{credentials.key}}" }'), 'create_contact', { credentials: { key: 'k-123456', id: 'i' }, input: { email: 'a@b.co' }, baseUrl: s.url });
    expect(r1.ok).toBe(true);
    expect(s.seen[0].url).toBe('/contacts?api_key=k-123456');
    const r2 = await e.run(mk('{ type: api_key, headers: { X-Id: "{{credentials.id}}", X-Key: "{{credentials.key}}" } }'), 'create_contact', { credentials: { key: 'k-123456', id: 'i-1' }, input: { email: 'a@b.co' }, baseUrl: s.url });
    expect(r2.ok).toBe(true);
    expect(s.seen[1].headers['x-id']).toBe('i-1');
    expect(s.seen[1].headers['x-key']).toBe('k-123456');
  });

  it('encodes form bodies with nested objects and the chosen array style', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 'pi_1', status: 'succeeded' } }));
    const c = connectorFromYaml(`
schema_version: 1
name: f
display_name: F
category: payment
base_url: https://f.invalid
auth: { type: none }
credential_schema: {}
capabilities:
  initiate_payment:
    request:
      method: POST
      path: /pi
      body_format: form
      form_arrays: brackets
      body: '{ "amount": input.amount, "confirm": input.confirm, "metadata": input.metadata, "types": ["card", "sepa"] }'
    response: '{ "payment_id": id, "status": status }'
`);
    const res = await new Engine({ env: {} }).run(c, 'initiate_payment', { credentials: {}, input: { amount: 500, currency: 'eur', confirm: false, metadata: { order: 'A 1' } }, baseUrl: s.url });
    expect(res.ok).toBe(true);
    expect(s.seen[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(decodeURIComponent(s.seen[0].body)).toBe('amount=500&confirm=false&metadata[order]=A+1&types[]=card&types[]=sepa');
  });

  it('picks the base URL: override, PLUGBOARD_BASE_URL_<NAME>, environment, default', () => {
    const c = connectorFromYaml(`
schema_version: 1
name: envy
display_name: Envy
category: echeck
environments: { production: "https://prod.envy.invalid", sandbox: "https://sandbox.envy.invalid" }
auth: { type: none }
credential_schema: {}
capabilities:
  verify_bank_account:
    request: { method: POST, path: /auth, body: '{ "t": input.access_token }' }
    response: '{ "accounts": [] }'
`);
    expect(new Engine({ env: {} }).baseUrl(c)).toBe('https://prod.envy.invalid');
    expect(new Engine({ env: {} }).baseUrl(c, { integration: { environment: 'sandbox' } })).toBe('https://sandbox.envy.invalid');
    // metadata is the tenant's free-form object: never read as an environment
    expect(new Engine({ env: {} }).baseUrl(c, { integration: { metadata: { environment: 'sandbox' } } })).toBe('https://prod.envy.invalid');
    expect(new Engine({ env: { PLUGBOARD_BASE_URL_ENVY: 'http://127.0.0.1:4010' } }).baseUrl(c, { integration: { environment: 'sandbox' } })).toBe('http://127.0.0.1:4010');
    expect(new Engine({ env: { PLUGBOARD_BASE_URL_ENVY: 'http://127.0.0.1:4010' } }).baseUrl(c, { baseUrl: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:9');
    expect(() => new Engine({ env: {} }).baseUrl(c, { integration: { environment: 'staging' } })).toThrow(/unknown environment "staging"/);
  });
});

describe('engine: validation', () => {
  it('rejects invalid input with per-field errors and sends nothing', async () => {
    const s = await serve(() => ({ status: 200, body: {} }));
    const res = await new Engine({ env: {} }).run(smsConnector(), 'send_sms', { credentials: creds, input: { to: '555', extra: 1 }, baseUrl: s.url });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.type).toBe('invalid_input');
    expect(res.error.fields).toMatchObject({ 'input.body': ['is required'], 'input.to': [expect.stringContaining('e164')], 'input.extra': ['is not allowed'] });
    expect(s.seen).toHaveLength(0);
  });

  it('rejects credentials that break credential_schema without echoing their values', async () => {
    const res = await new Engine({ env: {} }).run(smsConnector(), 'send_sms', { credentials: { token: SECRET, sender: 'nope' }, input, baseUrl: 'http://127.0.0.1:9' });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.type).toBe('invalid_credentials');
    expect(res.error.fields).toHaveProperty(['credentials.sender']);
    expect(JSON.stringify(res)).not.toContain(SECRET);
  });

  it('answers a $error the request body raises on the input as invalid_input with its message, sending nothing', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 'm1', state: 'queued' } }));
    const body = '$length(input.body) < 10 ? $error("body must be at least 10 characters") : { "to": input.to, "text": input.body }';
    const res = await new Engine({ env: {} }).run(smsConnector('', '', body), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error).toMatchObject({ type: 'invalid_input', message: 'body must be at least 10 characters', retryable: false });
    expect(s.seen).toHaveLength(0);
  });

  it('keeps any other body evaluation error an internal one (a manifest bug, not the input)', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 'm1', state: 'queued' } }));
    const res = await new Engine({ env: {} }).run(smsConnector('', '', '{ "n": $number("x") }'), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.type).toBe('unsupported');
    expect(res.error.message).toMatch(/^internal error: /);
  });

  it('reports an answer that does not map to the capability output as invalid_output', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 42, state: 'weird' } }));
    const res = await new Engine({ env: {} }).run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.type).toBe('invalid_output');
    expect(Object.keys(res.error.fields ?? {})).toEqual(expect.arrayContaining(['output.message_id', 'output.status']));
  });
});

describe('engine: retries, timeouts, errors', () => {
  it('retries retryable statuses with backoff and honours Retry-After', async () => {
    const s = await serve((_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '2' }, body: { error: 'slow down' } } : n === 2 ? { status: 503, body: {} } : { status: 200, body: { id: 'm2', state: 'sent' } }));
    const { engine, sleeps } = engineWithSleeps();
    const res = await engine.run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: true, output: { message_id: 'm2', status: 'sent' }, meta: { attempts: 3 } });
    expect(sleeps[0]).toBe(2000);
    expect(sleeps[1]).toBeGreaterThanOrEqual(10);
    expect(sleeps[1]).toBeLessThanOrEqual(50);
  });

  it('gives up after max_attempts with the provider status and message', async () => {
    const s = await serve(() => ({ status: 503, body: { message: 'maintenance' } }));
    const { engine } = engineWithSleeps();
    const res = await engine.run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', status: 503, provider_message: 'maintenance', retryable: true }, meta: { attempts: 3 } });
    expect(s.seen).toHaveLength(3);
  });

  it('does not retry a non-retryable status', async () => {
    const s = await serve(() => ({ status: 400, body: { error: { message: 'bad number', code: 'E1' } } }));
    const res = await new Engine({ env: {} }).run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', status: 400, provider_message: 'bad number', retryable: false } });
    expect(s.seen).toHaveLength(1);
  });

  it('times out a slow provider and does not resend a POST that may have arrived', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 'late', state: 'sent' }, delayMs: 1500 }));
    const res = await new Engine({ env: {} }).run(smsConnector('', 'timeout_ms: 200'), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res).toMatchObject({ ok: false, error: { type: 'timeout', retryable: true } });
    expect(s.seen).toHaveLength(1);
  });

  it('reports an unreachable provider as network_error after retrying the connection', async () => {
    const { engine, sleeps } = engineWithSleeps();
    const res = await engine.run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: 'http://127.0.0.1:9' });
    expect(res).toMatchObject({ ok: false, error: { type: 'network_error' }, meta: { attempts: 3 } });
    expect(res.ok || res.error.message).toMatch(/ECONNREFUSED/);
    expect(sleeps).toHaveLength(2);
  });

  it('never puts credential values into errors, even when the provider echoes them', async () => {
    const s = await serve((r) => ({ status: 401, body: { message: `invalid token ${String(r.headers['authorization'])} for ${SECRET}` } }));
    const res = await new Engine({ env: {} }).run(smsConnector(), 'send_sms', { credentials: creds, input, baseUrl: s.url });
    expect(res.ok).toBe(false);
    const text = JSON.stringify(res);
    expect(text).not.toContain(SECRET);
    expect(text).toContain('[REDACTED]');
  });

  it('treats a 2xx answer matching errors.when as a provider error', async () => {
    const c = connectorFromYaml(`
schema_version: 1
name: chat
display_name: Chat
category: communication
base_url: https://chat.invalid
auth: { type: bearer, token: "{{credentials.t}}" }
credential_schema: { t: { type: string, sensitive: true, required: true } }
errors: { when: ok = false, message: error, code: error }
capabilities:
  post_message:
    request: { method: POST, path: /post, body: '{ "channel": input.channel, "text": input.text }' }
    response: '{ "message_id": ts, "channel": channel }'
`);
    const s = await serve(() => ({ status: 200, body: { ok: false, error: 'channel_not_found' } }));
    const res = await new Engine({ env: {} }).run(c, 'post_message', { credentials: { t: 'xoxb-1' }, input: { channel: 'C1', text: 'x' }, baseUrl: s.url });
    expect(res).toMatchObject({ ok: false, error: { type: 'provider_error', provider_message: 'channel_not_found', provider_code: 'channel_not_found', retryable: false } });
  });
});

describe('engine: rate limit per integration', () => {
  it('queues calls beyond the budget and fails them once the queue is full', async () => {
    const s = await serve(() => ({ status: 200, body: { id: 'm', state: 'queued' } }));
    const c = smsConnector('rate_limit: { requests_per_second: 2, max_queue: 2 }');
    const engine = new Engine({ env: {} });
    const results = await Promise.all(Array.from({ length: 6 }, () => engine.run(c, 'send_sms', { credentials: creds, input, baseUrl: s.url, integration: { id: 'int_a' } })));
    const limited = results.filter((r) => !r.ok && r.error.type === 'rate_limited');
    expect(results.filter((r) => r.ok)).toHaveLength(4); // 2 at once + 2 queued for the next window
    expect(limited).toHaveLength(2);
    // the two queued calls were sent in a later window than the first two
    const times = s.seen.map((r) => r.at).sort((a, b) => a - b);
    expect(times[2] - times[0]).toBeGreaterThanOrEqual(500);
    // another integration has its own budget
    const other = await engine.run(c, 'send_sms', { credentials: creds, input, baseUrl: s.url, integration: { id: 'int_b' } });
    expect(other.ok).toBe(true);
  });
});

describe('engine: oauth2 client credentials', () => {
  it('fetches a token once with HTTP Basic client auth and reuses it until expiry', async () => {
    let tokenCalls = 0;
    const s = await serve((r) => {
      if (r.url === '/oauth/token') {
        tokenCalls++;
        const ok = r.headers['authorization'] === `Basic ${Buffer.from('cid:csecret-123').toString('base64')}` && r.body.includes('grant_type=client_credentials') && r.body.includes('scope=contacts.write');
        return ok ? { status: 200, body: { access_token: 'at-xyz-123', token_type: 'Bearer', expires_in: 3600 } } : { status: 401, body: { error: 'invalid_client' } };
      }
      return r.headers['authorization'] === 'Bearer at-xyz-123' ? { status: 201, body: { id: 'c9' } } : { status: 401, body: { message: 'no' } };
    });
    const c = connectorFromYaml(`
schema_version: 1
name: crmx
display_name: CRM X
category: crm
base_url: https://crm.invalid
auth:
  type: oauth2_client_credentials
  token_url: "${s.url}/oauth/token"
  client_id: "{{credentials.client_id}}"
  client_secret: "{{credentials.client_secret}}"
  scopes: [contacts.write]
credential_schema:
  client_id: { type: string, sensitive: false, required: true }
  client_secret: { type: string, sensitive: true, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
`);
    const engine = new Engine({ env: {} });
    const opts = { credentials: { client_id: 'cid', client_secret: 'csecret-123' }, input: { email: 'a@b.co' }, baseUrl: s.url, integration: { id: 'int_oauth' } };
    expect(await engine.run(c, 'create_contact', opts)).toMatchObject({ ok: true, output: { contact_id: 'c9' } });
    expect(await engine.run(c, 'create_contact', opts)).toMatchObject({ ok: true });
    expect(tokenCalls).toBe(1);
    const bad = await engine.run(c, 'create_contact', { ...opts, credentials: { client_id: 'cid', client_secret: 'wrong-secret' } });
    expect(bad).toMatchObject({ ok: false, error: { type: 'invalid_credentials', provider_code: 'invalid_client' } });
    expect(JSON.stringify(bad)).not.toContain('wrong-secret');
  });
});

describe('engine: verify', () => {
  it('runs the verify request and applies its success expression', async () => {
    const c = connectorFromYaml(`
schema_version: 1
name: acct
display_name: Acct
category: communication
base_url: https://acct.invalid
auth: { type: basic, username: "{{credentials.sid}}", password: "{{credentials.token}}" }
credential_schema:
  sid: { type: string, sensitive: false, required: true }
  token: { type: string, sensitive: true, required: true }
verify:
  request: { method: GET, path: "/accounts/{{credentials.sid}}" }
  success: status = "active"
capabilities:
  send_sms:
    request: { method: POST, path: /m, body: '{ "to": input.to }' }
    response: '{ "message_id": sid, "status": "queued" }'
`);
    const s = await serve((r) => (r.url === '/accounts/AC1' ? { status: 200, body: { status: 'active' } } : { status: 200, body: { status: 'suspended' } }));
    const engine = new Engine({ env: {} });
    expect(await engine.verify(c, { credentials: { sid: 'AC1', token: 'secret-token' }, baseUrl: s.url })).toMatchObject({ ok: true });
    expect(s.seen[0].headers['authorization']).toBe(`Basic ${Buffer.from('AC1:secret-token').toString('base64')}`);
    expect(await engine.verify(c, { credentials: { sid: 'AC2', token: 'secret-token' }, baseUrl: s.url })).toMatchObject({ ok: false, error: { type: 'provider_error' } });
  });
});
