// The spec fix-ups built into the contract server (runtime/testkit/contract/spec-document.ts) and
// the RFC 6749 judge of token endpoints a spec lacks: each would otherwise make a correct request
// fail (or the spec not load at all).
import { describe, it, expect } from 'vitest';
import { loadManifestText, formatIssue } from '../../runtime/manifest/load.ts';
import { startSpecServer } from '../../runtime/testkit/contract/spec-server.ts';
import { runContract, formatContractReport } from '../../runtime/testkit/contract/run-contract.ts';
import { judgeTokenRequest, TOKEN_OPERATION } from '../../runtime/testkit/contract/token-endpoint.ts';

const json = { 'content-type': 'application/json' };

const oas = (schema: Record<string, unknown>) => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  servers: [{ url: 'https://api.example.com' }],
  paths: {
    '/things': {
      post: {
        operationId: 'createThing',
        requestBody: { content: { 'application/json': { schema } } },
        responses: { '201': { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' } } } } } } },
      },
    },
  },
});

describe('contract server spec fix-ups', () => {
  it('removes a pattern Ajv cannot compile (unicode mode) and still judges the rest of the body', async () => {
    const s = await startSpecServer(oas({ type: 'object', required: ['handle'], properties: { handle: { type: 'string', pattern: '^[\\w\\@.]+$' }, n: { type: 'integer' } } }));
    try {
      expect(s.fixups.join('\n')).toMatch(/1 pattern\(s\) Ajv cannot compile removed: "\^\[\\\\w\\\\@\.\]\+\$"/);
      const ok = await fetch(`${s.url}/things`, { method: 'POST', headers: json, body: JSON.stringify({ handle: 'a@b.c' }) });
      expect(ok.status, JSON.stringify(s.violations)).toBe(201);
      await fetch(`${s.url}/things`, { method: 'POST', headers: json, body: JSON.stringify({ n: 'x' }) });
      expect(s.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(expect.arrayContaining(['request.body.handle required', 'request.body.n type']));
      expect(s.violations.some((v) => v.rule === 'harness')).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('rewrites typeless nullable (beside allOf) so null is accepted and other types are not', async () => {
    const s = await startSpecServer(oas({ type: 'object', properties: { note: { nullable: true, allOf: [{ type: 'string', maxLength: 3 }] } } }));
    try {
      expect(s.fixups.join('\n')).toMatch(/1 typeless "nullable: true" rewritten/);
      expect((await fetch(`${s.url}/things`, { method: 'POST', headers: json, body: JSON.stringify({ note: null }) })).status, JSON.stringify(s.violations)).toBe(201);
      expect((await fetch(`${s.url}/things`, { method: 'POST', headers: json, body: JSON.stringify({ note: 'abc' }) })).status).toBe(201);
      expect((await fetch(`${s.url}/things`, { method: 'POST', headers: json, body: JSON.stringify({ note: 'abcdef' }) })).status).toBe(400);
      expect(s.violations.some((v) => v.rule === 'harness')).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('converts Swagger 2.0, keeps the JSON body it consumes, and drops a `token` header parameter the security requirement already judges', async () => {
    const swagger = {
      swagger: '2.0',
      info: { title: 's', version: '1' },
      host: 'slack.example.com',
      basePath: '/api',
      securityDefinitions: { slackAuth: { type: 'oauth2', flow: 'accessCode', authorizationUrl: 'https://slack.example.com/oauth', tokenUrl: 'https://slack.example.com/token', scopes: { 'chat:write': 'w' } } },
      paths: {
        '/chat.postMessage': {
          post: {
            operationId: 'chat_postMessage',
            consumes: ['application/x-www-form-urlencoded', 'application/json'],
            security: [{ slackAuth: ['chat:write'] }],
            parameters: [
              { name: 'token', in: 'header', required: true, type: 'string' },
              { name: 'channel', in: 'formData', required: true, type: 'string' },
              { name: 'text', in: 'formData', type: 'string' },
            ],
            responses: { '200': { description: 'ok', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
          },
        },
      },
    };
    const s = await startSpecServer(swagger);
    try {
      expect(s.basePath).toBe('/api');
      const bearer = { authorization: 'Bearer xoxb-1' };
      const form = await fetch(`${s.url}/chat.postMessage`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, body: 'channel=C1&text=hi' });
      expect(form.status, JSON.stringify(s.violations)).toBe(200);
      const asJson = await fetch(`${s.url}/chat.postMessage`, { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify({ channel: 'C1' }) });
      expect(asJson.status, JSON.stringify(s.violations)).toBe(200);
      await fetch(`${s.url}/chat.postMessage`, { method: 'POST', headers: json, body: JSON.stringify({ text: 'no channel' }) });
      expect(s.violations.map((v) => v.location).sort()).toEqual(['request.body.channel', 'security']);
    } finally {
      await s.close();
    }
  });
});

const CLIENT_CREDENTIALS_MANIFEST = `
schema_version: 1
name: acme
display_name: Acme SMS
category: communication
base_url: https://api.acme.example/v2
auth:
  type: oauth2_client_credentials
  token_url: https://login.acme.example/oauth2/token
  client_id: "{{credentials.client_id}}"
  client_secret: "{{credentials.client_secret}}"
credential_schema:
  client_id: { type: string, sensitive: false, required: true }
  client_secret: { type: string, sensitive: true, required: true }
capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body_format: json
      body: '{ "to": input.to, "text": input.body }'
    response: '{ "message_id": id, "status": "queued" }'
    examples:
      - name: one message
        credentials: { client_id: app-1, client_secret: s3cret }
        input: { to: "+14155550123", body: hi }
        response: { status: 201, body: { id: m-1 } }
        output: { message_id: m-1, status: queued }
`;

const ACME_SPEC = {
  openapi: '3.0.3',
  info: { title: 'acme', version: '2' },
  servers: [{ url: 'https://api.acme.example/v2' }],
  components: { securitySchemes: { oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://login.acme.example/oauth2/token', scopes: {} } } } } },
  security: [{ oauth: [] }],
  paths: {
    '/messages': {
      post: {
        operationId: 'sendMessage',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['to', 'text'], properties: { to: { type: 'string' }, text: { type: 'string' } } } } } },
        responses: { '201': { description: 'sent', content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' } } } } } } },
      },
    },
  },
};

describe('token endpoints absent from the spec', () => {
  it('judges the token request by RFC 6749 on loopback (even for an absolute token_url on another host), then the capability by the spec', async () => {
    const loaded = loadManifestText(CLIENT_CREDENTIALS_MANIFEST, 'acme.yaml');
    expect(loaded.connector, loaded.issues.map(formatIssue).join('\n')).toBeDefined();
    const report = await runContract(loaded.connector!, { spec: { document: ACME_SPEC, fixups: [], files: ['acme.json'] } });
    const info = formatContractReport(report).join('\n');
    expect(report.failed, info).toBe(0);
    expect(report.runs[0]!.requests, info).toEqual([
      { method: 'POST', path: '/oauth2/token', operationId: TOKEN_OPERATION, status: 200 },
      { method: 'POST', path: '/v2/messages', operationId: 'sendMessage', status: 201 },
    ]);
  });

  it('--environment picks the base path; an unknown one is a clear error', async () => {
    const loaded = loadManifestText(CLIENT_CREDENTIALS_MANIFEST.replace('base_url: https://api.acme.example/v2', 'environments: { live: "https://api.acme.example/v2", old: "https://api.acme.example/v1" }'), 'acme.yaml');
    const spec = { document: ACME_SPEC, fixups: [], files: ['acme.json'] };
    expect((await runContract(loaded.connector!, { spec, environment: 'live' })).failed).toBe(0);
    const v1 = await runContract(loaded.connector!, { spec, environment: 'old' });
    expect(v1.runs[0]!.violations.map((v) => `${v.method} ${v.path} ${v.rule}`)).toEqual(['POST /v1/messages route']);
    await expect(runContract(loaded.connector!, { spec, environment: 'nope' })).rejects.toThrow('connector acme has no environment "nope" (known: live, old)');
  });

  it('a token request that is not an RFC 6749 form post is a violation', () => {
    const problems = judgeTokenRequest('POST', 'application/json', { grant_type: 'password' }, {});
    expect(problems.map((p) => p.location)).toEqual(['content-type', 'request.body.grant_type', 'security']);
    expect(judgeTokenRequest('POST', 'application/x-www-form-urlencoded', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from('id:secret').toString('base64')}` })).toEqual([]);
  });
});
