// Issue 8, item 12: offline examples. A client-credentials example gets its own token response
// (token_response, or a default token) and the recorded response goes to the capability request;
// multipart bodies are compared field by field; made-up credentials honour `format`; a failed
// example shows the engine's error message.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runConnectorExamples, sampleCredentials } from '../../runtime/testkit/examples.ts';
import { connectorFromYaml, clientCredentialsManifest } from '../helpers/connector.ts';
import { MANIFEST_SCHEMA_FILE, PROJECT_ROOT } from '../../runtime/config/paths.ts';

const oauthManifest = clientCredentialsManifest({
  name: 'crmz', displayName: 'CRM Z',
  tokenUrl: '/oauth2/token',
  base: 'base_url: https://crm.invalid/api',
  after: `    examples:
      - name: created
        input: { email: a@b.co }
        request: { method: POST, path: /contacts, headers: { Authorization: Bearer example-access-token }, body: { email: a@b.co } }
        response: { status: 201, body: { id: c1 } }
        output: { contact_id: c1 }
      - name: created with a token of its own
        input: { email: a@b.co }
        token_response: { status: 200, body: { access_token: tok-42, token_type: bearer, expires_in: 60 } }
        request: { headers: { Authorization: Bearer tok-42 } }
        response: { status: 201, body: { id: c2 } }
        output: { contact_id: c2 }
      - name: client refused by the token endpoint
        input: { email: a@b.co }
        token_response: { status: 401, body: { error: invalid_client } }
        response: { status: 201, body: { id: never } }
        error: { type: invalid_credentials, status: 401 }
      - name: provider fails after a good token
        input: { email: a@b.co }
        response: { status: 500, body: { message: down } }
        error: { type: provider_error, status: 500 }
`,
});

describe('offline examples: client credentials', () => {
  it('serves the token response to the token request and the recorded one to the capability request', async () => {
    const results = await runConnectorExamples(connectorFromYaml(oauthManifest));
    expect(results.map((r) => [r.example, r.problems])).toEqual([
      ['created', []],
      ['created with a token of its own', []],
      ['client refused by the token endpoint', []],
      ['provider fails after a good token', []],
    ]);
  });

  it('`plugboard test` runs a connector with a relative token_url (no "Invalid URL" crash)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cc-'));
    try {
      fs.writeFileSync(path.join(dir, 'crmz.yaml'), oauthManifest);
      const r = spawnSync(path.join(PROJECT_ROOT, 'bin', 'plugboard'), ['test', 'crmz'], { encoding: 'utf8', env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: dir } });
      expect(r.stderr).not.toMatch(/Invalid URL|^\s+at /m);
      expect(r.stdout).toContain('4 passed, 0 failed');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an error example cannot pass because the token request got the error response', async () => {
    // Before: the one recorded 500 answered the token request, so this "passed" for the wrong reason
    // (the failure was the token's). Now the token succeeds and the capability's own status is judged.
    const yaml = oauthManifest.replace('error: { type: provider_error, status: 500 }', 'error: { type: provider_error, status: 500, message: "CRM Z answered 500: down" }');
    const results = await runConnectorExamples(connectorFromYaml(yaml));
    expect(results[3].problems).toEqual([]);
  });
});

describe('offline examples: multipart bodies', () => {
  const multipart = (expectedText: string) => `
schema_version: 1
name: mailz
display_name: Mail Z
category: email
base_url: https://mail.invalid
auth: { type: basic, username: api, password: "{{credentials.key}}" }
credential_schema:
  key: { type: string, sensitive: true, required: true }
capabilities:
  send_email:
    request:
      method: POST
      path: /messages
      body_format: multipart
      body: '{ "from": input.from, "to": input.to, "subject": input.subject, "text": input.text }'
    response: '{ "message_id": id, "status": "queued" }'
    examples:
      - name: sent
        input: { from: a@b.co, to: [c@d.co], subject: Hi, text: Hello }
        request: { body: { from: a@b.co, to: c@d.co, subject: Hi, text: ${expectedText} } }
        response: { status: 200, body: { id: m1 } }
        output: { message_id: m1, status: queued }
`;

  it('compares multipart bodies field by field, whatever the boundary', async () => {
    const [ok] = await runConnectorExamples(connectorFromYaml(multipart('Hello')));
    expect(ok.problems).toEqual([]);
    const [bad] = await runConnectorExamples(connectorFromYaml(multipart('Goodbye')));
    expect(bad.passed).toBe(false);
    expect(bad.problems.join('\n')).toContain('-   "text": "Goodbye"');
    expect(bad.problems.join('\n')).toContain('+   "text": "Hello"');
  });
});

describe('offline examples: made-up credentials', () => {
  const formats = (JSON.parse(fs.readFileSync(MANIFEST_SCHEMA_FILE, 'utf8')) as { $defs: { credential_field: { properties: { format: { enum: string[] } } } } }).$defs.credential_field.properties.format.enum;

  it.each(formats)('generates a valid value for format %s', (format) => {
    const c = connectorFromYaml(`
schema_version: 1
name: fmt
display_name: Fmt
category: crm
base_url: https://fmt.invalid
auth: { type: none }
credential_schema:
  field: { type: string, sensitive: false, required: true, format: ${format} }
capabilities: {}
`.replace('capabilities: {}', `capabilities:
  create_contact:
    request: { method: POST, path: /c }
    response: '{ "contact_id": "x" }'`));
    const creds = sampleCredentials(c);
    expect(c.validateCredentials(creds), JSON.stringify({ creds, errors: c.validateCredentials.errors })).toBe(true);
  });
});

describe('offline examples: failure messages', () => {
  it('shows the error the engine produced when an expected error differs', async () => {
    const [r] = await runConnectorExamples(connectorFromYaml(`
schema_version: 1
name: shown
display_name: Shown
category: communication
base_url: https://shown.invalid
auth: { type: none }
credential_schema: {}
capabilities:
  send_sms:
    request: { method: POST, path: /m, body: '{ "to": input.to }' }
    response: '{ "message_id": id, "status": "queued" }'
    examples:
      - name: expects a provider error
        input: { to: "+14155550123", body: hi }
        response: { status: 200, body: { nothing: here } }
        error: { type: provider_error }
`));
    expect(r.passed).toBe(false);
    const text = r.problems.join('\n');
    expect(text).toContain('-   "type": "provider_error"');
    expect(text).toMatch(/invalid_output: .*message_id/);
  });
});
