// Plaid connector vs Plaid's official OpenAPI spec (plaid/2020-09-14.yml, OAS 3.0.0).
// Global security is ONE requirement of three apiKey headers (AND): PLAID-CLIENT-ID, PLAID-SECRET,
// Plaid-Version. Request bodies leave additionalProperties unset, so the negative test removes a
// required field rather than adding an unknown one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { client_id: '5f3c9a1b2d4e6f7081920a1b', secret: 'a1b2c3d4e5f60718293a4b5c6d7e8f' };
const ACCESS_TOKEN = 'access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6';

let override: MockResponse | undefined;

describe('plaid connector vs the official Plaid spec', () => {
  let server: SpecServer;
  let plaid: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('plaid', { respond: () => override });
    plaid = loadConnector('plaid');
    baseUrl = baseUrlOf(plaid, server, 'sandbox');
  });
  afterAll(() => server?.close());

  it('verify_bank_account is a valid authGet with the three security headers', async () => {
    server.reset();
    const input = { access_token: ACCESS_TOKEN, account_ids: ['vzeNDwK7KQIm4yEog683uElbp9GRLEFXGK98D'] };
    const result = await engine.run(plaid, 'verify_bank_account', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'authGet');
    expect(req.contentType).toMatch(/^application\/json/);
    expect(req.body).toEqual({ access_token: ACCESS_TOKEN, options: { account_ids: ['vzeNDwK7KQIm4yEog683uElbp9GRLEFXGK98D'] } });
    expect(req.headers['plaid-client-id']).toBe(credentials.client_id);
    expect(req.headers['plaid-secret']).toBe(credentials.secret);
    expect(req.headers['plaid-version']).toBe('2020-09-14');
    // Mapped from the spec's example-1 answer.
    const out = result.ok ? (result.output as { accounts: Array<Record<string, unknown>> }) : { accounts: [] };
    expect(out.accounts.length).toBeGreaterThan(0);
    for (const a of out.accounts) expect(a).toMatchObject({ account_id: expect.any(String), account_number: expect.any(String), routing_number: expect.any(String) });
  });

  it('verify_bank_account without account_ids is valid', async () => {
    server.reset();
    const result = await engine.run(plaid, 'verify_bank_account', { credentials, input: { access_token: ACCESS_TOKEN }, baseUrl });
    const req = expectContract(result, server, 'authGet');
    expect(req.body).toEqual({ access_token: ACCESS_TOKEN });
  });

  it('verify is a valid institutionsGet', async () => {
    server.reset();
    const result = await engine.verify(plaid, { credentials, baseUrl });
    const req = expectContract(result, server, 'institutionsGet');
    expect(req.body).toEqual({ count: 1, offset: 0, country_codes: ['US'] });
  });

  it("maps the spec's error answer (default response, PlaidError) to a provider_error", async () => {
    server.reset();
    // PlaidError has no example in the spec; this body is validated against its schema by the server.
    override = {
      status: 400,
      body: {
        error_type: 'ITEM_ERROR', error_code: 'ITEM_LOGIN_REQUIRED', display_message: null, request_id: 'HNTDNrA8F1shFEW',
        error_message: 'the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information.',
      },
    };
    try {
      const result = await engine.run(plaid, 'verify_bank_account', { credentials, input: { access_token: ACCESS_TOKEN }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(server.responseIssues, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 400, provider_code: 'ITEM_LOGIN_REQUIRED', provider_message: expect.stringMatching(/^the login details/) });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a body without the required access_token is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('plaid', (t) => replaceOnce(t, '"access_token": input.access_token,', '"accessToken": input.access_token,'));
    const result = await engine.run(broken, 'verify_bank_account', { credentials, input: { access_token: ACCESS_TOKEN }, baseUrl });
    const info = describeResult(result, server);
    const v = server.violations.find((x) => x.location === 'request.body.access_token');
    expect(v?.message, info).toMatch(/missing required field "access_token"/);
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: without the Plaid-Version header the security requirement (an AND of three headers) fails', async () => {
    server.reset();
    const broken = loadEditedManifest('plaid', (t) => replaceOnce(t, /\n\s*Plaid-Version: "2020-09-14"/, ''));
    const result = await engine.run(broken, 'verify_bank_account', { credentials, input: { access_token: ACCESS_TOKEN }, baseUrl });
    const info = describeResult(result, server);
    const v = server.violations.find((x) => x.location === 'security');
    expect(v?.message, info).toMatch(/Plaid-Version/);
    expect(!result.ok && result.error.status, info).toBe(401);
  });
  it('plugboard contract plaid: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    await expectConnectorContract('plaid');
  });
});
