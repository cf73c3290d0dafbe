// OAuth token cost per capability call: a call with a cached (sealed, still valid) token and a call
// that must refresh it first, each against a plain call of the same capability with a static token,
// measured in the same run. A real authorization server on loopback (oauth2-mock-server: it signs a
// JWT per token) and a loopback provider API that accepts any bearer token.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { OAuth2Server } from 'oauth2-mock-server';
import { readConfig } from '../runtime/config/env.ts';
import { createPlatform } from '../runtime/platform/platform.ts';
import { createTenant } from '../runtime/tenants/tenants.ts';
import { actingAs } from '../runtime/access/audit.ts';

const ITER = Number(process.env.BENCH_ITERATIONS ?? 2000);

async function time(label: string, n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(50, n); i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const per = ((performance.now() - t0) * 1000) / n;
  console.log(`  ${label.padEnd(48)} ${per.toFixed(1).padStart(9)} µs/op`);
  return per;
}

const ratio = (label: string, value: number, base: number) => console.log(`  ${label.padEnd(48)} ${(value / base).toFixed(2).padStart(9)} x`);

export async function oauthCalls(): Promise<void> {
  const as = new OAuth2Server();
  await as.issuer.keys.generate('RS256');
  await as.start(0, '127.0.0.1');
  let expiresIn = 3600;
  let refreshes = 0;
  as.service.on('beforeResponse', (res: { body: Record<string, unknown> }, req: { body: Record<string, string> }) => {
    res.body['expires_in'] = expiresIn;
    if (req.body.grant_type === 'refresh_token') refreshes++;
  });
  const provider = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"c_1"}'));
  });
  provider.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  const apiUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  const connectors = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-oauth-'));
  fs.writeFileSync(path.join(connectors, 'acme_crm.yaml'), `schema_version: 1
name: acme_crm
display_name: Acme CRM
category: crm
base_url: ${apiUrl}
auth:
  type: oauth2_authorization_code
  authorization_url: ${as.issuer.url}/authorize
  token_url: ${as.issuer.url}/token
  scopes: [contacts]
  client_id: "{{app.client_id}}"
  client_secret: "{{app.client_secret}}"
credential_schema: {}
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-'));
  const env = {
    PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, PLUGBOARD_CONNECTORS_DIR: connectors, LOG_LEVEL: 'silent',
    PLUGBOARD_PUBLIC_URL: 'http://127.0.0.1:9', PLUGBOARD_OAUTH_ACME_CRM_CLIENT_ID: 'benchclient', PLUGBOARD_OAUTH_ACME_CRM_CLIENT_SECRET: 'benchsecret',
  };
  const platform = await createPlatform(readConfig(env), { logger: pino({ level: 'silent' }), env });
  const { tenant_id: tenantId } = await createTenant(platform.store, 'Bench');
  // Connect the way a browser would, at the service level (no HTTP server needed for this figure).
  const started = await platform.connections.connect(actingAs(tenantId, 'bench'), 'acme_crm');
  const back = new URL((await fetch(started.authorization_url, { redirect: 'manual' })).headers.get('location')!);
  const outcome = await platform.connections.callback('acme_crm', back.searchParams);
  if (!outcome.integrationId) throw new Error(`connect failed: ${outcome.error?.description}`);
  const connector = platform.connectors.get('acme_crm')!;
  const input = { email: 'ada@example.com' };
  const row = async () => (await platform.store.integrations.get(tenantId, outcome.integrationId!))!;

  console.log(`\nOAuth token cost per call (acme_crm.create_contact to a loopback API; integration row read per call as an operation does)`);
  // Alternating rounds, best of each: the static and the cached variant see the same machine load.
  const staticCall = async () => {
    await row();
    const r = await platform.engine.run(connector, 'create_contact', { credentials: { access_token: 'static-token' }, input });
    if (!r.ok) throw new Error(r.error.message);
  };
  const cachedCall = async () => {
    const r = await platform.engine.run(connector, 'create_contact', { credentials: {}, input, ...platform.integrations.oauthRunOptions(await row()) });
    if (!r.ok) throw new Error(r.error.message);
  };
  let plain = Infinity;
  let cached = Infinity;
  for (let round = 1; round <= 3; round++) {
    plain = Math.min(plain, await time(`static token (baseline), round ${round}`, ITER, staticCall));
    cached = Math.min(cached, await time(`cached OAuth token (opened from the row), round ${round}`, ITER, cachedCall));
  }
  // Tokens that expire inside the refresh margin: every call refreshes first (one refresh now to start).
  expiresIn = 30;
  const source = platform.integrations.oauthRunOptions(await row()).tokenSource!;
  await source.refreshAfterRejection(await source.accessToken());
  const n = Math.max(50, Math.round(ITER / 10));
  const before = refreshes;
  const refreshing = await time(`refresh, then call (${n} calls)`, n, async () => {
    const r = await platform.engine.run(connector, 'create_contact', { credentials: {}, input, ...platform.integrations.oauthRunOptions(await row()) });
    if (!r.ok) throw new Error(r.error.message);
  });
  if (refreshes - before !== n + Math.min(50, n)) throw new Error(`expected a refresh per call, saw ${refreshes - before} for ${n + Math.min(50, n)} calls`);
  const base = Math.min(plain, await time('static token (baseline, after the refreshes)', ITER, staticCall));
  // What the authorization server itself costs per refresh (it signs two RS256 JWTs): a bare token request.
  const bareRefresh = await time('bare refresh request (fetch, no Plugboard)', n, async () => {
    const res = await fetch(`${as.issuer.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('benchclient:benchsecret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'bench' }).toString(),
    });
    await res.json();
  });
  ratio('cached OAuth token / static token', cached, base);
  ratio('refresh + call / static token', refreshing, base);
  console.log(`  ${'Plugboard\'s own refresh cost (refresh+call - static call - bare refresh)'.padEnd(48)} ${(refreshing - base - bareRefresh).toFixed(1).padStart(9)} µs/op`);
  await platform.close();
  await as.stop();
  provider.closeAllConnections();
  provider.close();
}
