// Slack connector vs Slack's official Web API spec (slack/slack_web_openapi_v2.json, Swagger 2.0).
// Fix-ups on the in-memory copy (spec-server.ts PROVIDER_SPECS.slack): converted to OAS 3 with
// swagger2openapi; the required header parameter literally named `token` is dropped (real Slack takes
// Authorization: Bearer, which is what the spec's oauth2 `slackAuth` security is checked as).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, responseExample, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { bot_token: 'xoxb-2417639045-5923044511394-Q8hUoXcTmGx2bLn3vRkYd7Pw', default_channel: 'C0123456789' };

let override: MockResponse | undefined;

describe('slack connector vs the official Slack spec', () => {
  let server: SpecServer;
  let slack: Connector;
  let baseUrl: string;
  // The manifest limits Slack to 1 request/s per engine: a fresh engine per call keeps the suite fast.
  const engine = { run: (...a: Parameters<Engine['run']>) => new Engine({ env: {} }).run(...a), verify: (...a: Parameters<Engine['verify']>) => new Engine({ env: {} }).verify(...a) };

  beforeAll(async () => {
    server = await startSpecServer('slack', { respond: () => override });
    slack = loadConnector('slack');
    baseUrl = baseUrlOf(slack, server);
  });
  afterAll(() => server?.close());

  it('post_message is a valid chat_postMessage with Bearer auth', async () => {
    server.reset();
    const input = { channel: 'C0123456789', text: 'Deploy finished :tada:', thread_id: '1700000000.000100' };
    const result = await engine.run(slack, 'post_message', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'chat_postMessage');
    expect(req.path).toBe('/api/chat.postMessage');
    expect(req.headers.authorization).toBe(`Bearer ${credentials.bot_token}`);
    expect(req.body).toEqual({ channel: 'C0123456789', text: 'Deploy finished :tada:', thread_ts: '1700000000.000100' });
    // The spec's example answer.
    expect(result.ok && result.output).toEqual({ message_id: '1503435956.000247', channel: 'C1H9RESGL' });
  });

  it('verify is a valid auth_test (GET)', async () => {
    server.reset();
    const result = await engine.verify(slack, { credentials, baseUrl });
    const req = expectContract(result, server, 'auth_test');
    expect(req.method).toBe('GET');
  });

  it("maps the spec's error answer (HTTP 200 {ok:false,error}, the default response's example) to a provider_error", async () => {
    server.reset();
    const body = responseExample(server, 'chat_postMessage', 'default') as { ok: false; error: string };
    expect(body).toMatchObject({ ok: false, error: expect.any(String) });
    override = { status: 200, body, specResponse: 'default' };
    try {
      const result = await engine.run(slack, 'post_message', { credentials, input: { channel: 'C0123456789', text: 'hi' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(server.responseIssues, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', provider_message: body.error, provider_code: body.error });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a form without the required channel is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('slack', (t) => replaceOnce(t, '"channel": input.channel,', '"channel_id": input.channel,'));
    const result = await engine.run(broken, 'post_message', { credentials, input: { channel: 'C0123456789', text: 'hi' }, baseUrl });
    const info = describeResult(result, server);
    const v = server.violations.find((x) => x.location === 'request.body.channel');
    expect(v?.message, info).toMatch(/missing required field "channel"/);
    expect(result.ok, info).toBe(false);
  });
  it('plugboard contract slack: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    await expectConnectorContract('slack');
  });
});
