// The loader's promises (DESIGN.md section 2): every problem of a file is reported at once, each
// naming the line and column, the JSON path and the rule; malformed YAML and semantic mistakes
// (undeclared credentials, unknown inputs, helpers and capabilities, JSONata syntax) included.
//
// Manifests are written inline; the line numbers in the comments on the right are the ones asserted.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadManifestText, formatIssue, type ManifestIssue } from '../../runtime/manifest/load.ts';
import { closest, editDistance } from '../../runtime/manifest/suggest.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/plugboard');
const INVALID = 'test/fixtures/manifests/invalid';

/** Lines 1-10 of most manifests below. */
const HEAD = `schema_version: 1
name: probe
display_name: Probe
category: communication
base_url: https://api.example.com
auth:
  type: bearer
  token: "{{credentials.api_key}}"
credential_schema:
  api_key: { type: string, sensitive: true, required: true }
`;

function load(text: string): ManifestIssue[] {
  return loadManifestText(text, 'probe.yaml').issues;
}

/** The single issue of a manifest, with a readable failure listing all issues otherwise. */
function only(text: string): ManifestIssue {
  const issues = load(text);
  expect(issues, issues.map(formatIssue).join('\n')).toHaveLength(1);
  return issues[0];
}

function lineAt(text: string, line: number): string {
  return text.split('\n')[line - 1] ?? '';
}

function where(i: ManifestIssue): string {
  return `${i.line}:${i.column}`;
}

describe('malformed YAML', () => {
  it('names the line of a tab used as indentation', () => {
    const text = 'schema_version: 1\nname: probe\nauth:\n\ttype: none\n';
    const i = only(text);
    expect(i).toMatchObject({ file: 'probe.yaml', line: 4, column: 1, path: '', rule: 'yaml' });
    expect(i.message).toMatch(/^YAML: Tabs are not allowed as indentation/);
  });

  it('names the line of a duplicated key', () => {
    const text = 'schema_version: 1\nname: probe\nname: other\n';
    const i = only(text);
    expect(i).toMatchObject({ line: 3, column: 1, path: '', rule: 'yaml' });
    expect(i.message).toContain('Map keys must be unique');
  });

  it('names the line and column of a stray token', () => {
    const text = 'schema_version: 1\nname: probe\nauth: { type: none }}\n';
    const i = only(text);
    expect(i).toMatchObject({ line: 3, column: 21, path: '', rule: 'yaml' });
    expect(i.message).toContain('"}"');
  });

  it('names the line where mis-indented mapping items start', () => {
    const text = 'schema_version: 1\nname: probe\nauth:\n  type: bearer\n token: x\n';
    const i = only(text);
    expect(i).toMatchObject({ line: 5, column: 1, rule: 'yaml' });
    expect(i.message).toContain('All mapping items must start at the same column');
  });

  it('rejects a document that is not a mapping', () => {
    expect(only('- a\n- b\n')).toMatchObject({ line: 1, column: 1, path: '', rule: 'type', message: 'a manifest must be a YAML mapping' });
    expect(only('')).toMatchObject({ line: 1, column: 1, rule: 'type' });
  });
});

describe('schema errors with positions', () => {
  it('unknown auth type points at the value', () => {
    const text = HEAD.replace('  type: bearer\n  token: "{{credentials.api_key}}"\n', '  type: magic_link\n') +
      `capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'auth/type', rule: 'enum', line: 7, column: 9 }); //  7: "  type: magic_link"
    expect(i.message).toBe('must be one of: api_key, basic, bearer, oauth2_authorization_code, oauth2_client_credentials, smtp, none');
    expect(lineAt(text, i.line).slice(i.column - 1)).toBe('magic_link');
  });

  it('credential field without its "required" key points at the field', () => {
    const text = `schema_version: 1
name: probe
display_name: Probe
category: communication
base_url: https://api.example.com
auth: { type: basic, username: "{{credentials.user}}", password: "{{credentials.pass}}" }
credential_schema:
  user: { type: string, sensitive: false, required: true }
  pass:
    type: string
    sensitive: true
capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'credential_schema/pass', rule: 'required', message: 'missing required key "required"' });
    expect(where(i)).toBe('10:5'); // 10: "    type: string" (first line of the field's mapping)
  });

  it('a GET with a body is rejected with a readable message', () => {
    const text = `${HEAD}capabilities:
  verify_payment:
    request:
      method: GET
      path: "/payments/{{input.payment_id}}"
      body: '{ "expand": ["charges"] }'
    response: '{ "payment_id": id, "status": "pending" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'capabilities/verify_payment/request', rule: 'not', message: 'a GET or DELETE request cannot have a body' });
    expect(where(i)).toBe('14:7'); // 14: "      method: GET" (start of the request mapping)
  });

  it('an unknown key points at the key itself', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
    retries: 3
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'capabilities/send_sms/retries', rule: 'additionalProperties', message: 'unknown key "retries"' });
    expect(where(i)).toBe('15:5'); // 15: "    retries: 3"
  });
});

describe('semantic errors with positions', () => {
  it('a template naming an undeclared credential in a header points at that header', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      headers:
        Accept: application/json
        X-Account: "{{credentials.nope}}"
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({
      path: 'capabilities/send_sms/request/headers/X-Account',
      rule: 'undeclared_credential',
      message: 'template reads "credentials.nope", which credential_schema does not declare',
    });
    expect(where(i)).toBe('18:23'); // 18: '        X-Account: "{{credentials.nope}}"' (at "credentials.nope")
    expect(lineAt(text, 18)).toContain('{{credentials.nope}}');
  });

  it('a template reading an input field the capability schema lacks points at that template', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: "/messages/{{input.recipient}}"
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({
      path: 'capabilities/send_sms/request/path',
      rule: 'undeclared_input',
      message: `template reads "input.recipient", which the capability's input schema does not define`,
    });
    expect(where(i)).toBe('15:26'); // 15: '      path: "/messages/{{input.recipient}}"' (at "input.recipient")
  });

  it('a JSONata expression reading an undeclared input field is caught too', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: '{ "to": input.to, "media": input.media_url }'
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'capabilities/send_sms/request/body', rule: 'undeclared_input' });
    expect(i.message).toContain('"input.media_url"');
    expect(where(i)).toBe('16:41'); // 16: "      body: '{ ... }'" (at "input.media_url")
  });

  it('an unknown capability name points at the capability', () => {
    const text = `${HEAD}capabilities:
  send_fax:
    request: { method: POST, path: /faxes }
    response: '{ "fax_id": id }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'capabilities/send_fax', rule: 'unknown_capability' });
    expect(i.message).toMatch(/^unknown capability "send_fax": no schemas\/capabilities\/send_fax\.json \(known: .*send_sms.*\)$/);
    expect(where(i)).toBe('13:5'); // 13: "    request: ..." (the capability's mapping)
  });

  it('an unknown template helper points at the template', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      query:
        to: "{{phone input.to}}"
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'capabilities/send_sms/request/query/to', rule: 'template_helper' });
    expect(i.message).toMatch(/^unknown template helper "phone" \(known: json, base64, urlencode, /);
    expect(where(i)).toBe('17:13'); // 17: '        to: "{{phone input.to}}"'
  });

  it('a template may not read the server environment', () => {
    const text = HEAD.replace('{{credentials.api_key}}', '{{env.PLUGBOARD_MASTER_KEY}}') +
      `capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'auth/token', rule: 'template_root' });
    expect(where(i)).toBe('8:13'); // 8: '  token: "{{env.PLUGBOARD_MASTER_KEY}}"' (at "env...")
  });
});

describe('every error of a file at once', () => {
  it('reports three different semantic problems as three issues', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: "/accounts/{{credentials.account_sid}}/messages"
      headers:
        X-Trace: "{{trace input.to}}"
      body: '{ "to": input.to, "body": input.body, }'
    response: '{ "message_id": id, "status": "queued" }'
`;
    const issues = load(text);
    expect(issues.map((i) => [where(i), i.path, i.rule])).toEqual([
      ['15:26', 'capabilities/send_sms/request/path', 'undeclared_credential'], //          15: path, at credentials.account_sid
      ['17:18', 'capabilities/send_sms/request/headers/X-Trace', 'template_helper'], //     17: X-Trace
      ['18:52', 'capabilities/send_sms/request/body', 'jsonata_syntax'], //                 18: body, at the stray "}"
    ]);
  });

  it('reports three different schema problems as three issues', () => {
    const text = `schema_version: 1
name: probe
display_name: Probe
category: communication
base_url: https://api.example.com
auth:
  type: magic
credential_schema:
  api_key: { type: string, sensitive: true }
capabilities:
  verify_payment:
    request:
      method: GET
      path: "/payments/{{input.payment_id}}"
      body: '{ "expand": ["charges"] }'
    response: '{ "payment_id": id, "status": "pending" }'
`;
    const issues = load(text);
    expect(issues.map((i) => [where(i), i.path, i.rule]).sort()).toEqual(
      [
        ['7:9', 'auth/type', 'enum'], //                                  7: "  type: magic"
        ['9:12', 'credential_schema/api_key', 'required'], //              9: "  api_key: { ... }"
        ['13:7', 'capabilities/verify_payment/request', 'not'], //        13: "      method: GET"
      ].sort(),
    );
  });
});

describe('plugboard validate', () => {
  const run = (args: string[]) => spawnSync(BIN, ['validate', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: '' } });

  it('exits 1 on bad files and prints one `file:line:col  path  message` line per problem, without a stack trace', () => {
    const files = [`${INVALID}/request-get-with-body.yaml`, `${INVALID}/template-unknown-helper.yaml`, `${INVALID}/manifest-missing-capabilities.yaml`];
    const res = run(files);
    expect(res.status, res.stderr).toBe(1);
    const lines = res.stdout.trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^(\S+\.yaml):(\d+):(\d+)  (\S+)  (.+)$/);
    expect(lines).toContain(`${INVALID}/request-get-with-body.yaml:13:7  capabilities/verify_payment/request  a GET or DELETE request cannot have a body`);
    expect(lines).toContain(`${INVALID}/manifest-missing-capabilities.yaml:2:1  (root)  missing required key "capabilities"`);
    expect(lines.some((l) => l.startsWith(`${INVALID}/template-unknown-helper.yaml:15:20  capabilities/send_sms/request/query/to  unknown template helper "e164"`))).toBe(true);
    // Every file is reported, not just the first bad one.
    for (const f of files) expect(res.stdout).toContain(f);
    expect(res.stderr).toMatch(/^\d+ problem\(s\) in 3 of 3 manifest\(s\)\n$/);
    const all = res.stdout + res.stderr;
    expect(all).not.toMatch(/^\s+at /m);
    expect(all).not.toMatch(/unexpected error|Error:/);
  });

  it('exits 0 on the shipped connectors', () => {
    const res = run(['connectors']);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^\d+ manifest\(s\) valid: \d+ connector\(s\), \d+ capabilities\n$/);
    expect(res.status).toBe(0);
  });
});

describe('fixed loader and schema bugs (regression tests)', () => {
  it('JSONata syntax error in a block scalar: line is off by one (load.ts SourceMap.position)', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: |
        {
          "to": input.to,
          "body": input.body,
          "from": ]
        }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ path: 'capabilities/send_sms/request/body', rule: 'jsonata_syntax' });
    expect(i.message).toBe('JSONata syntax error: The symbol "]" cannot be used as a unary operator');
    expect(where(i)).toBe('20:19'); // 20: '          "from": ]'  (the block's indicator line is 16)
  });

  it('error on the first line of a block scalar points at the content, not at "body: |"', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: |
        ]
    response: '{ "message_id": id, "status": "queued" }'
`;
    expect(only(text).line).toBe(17); // 17: "        ]"  (loader says 16, the indicator line)
  });

  it('template reference in a block-scalar xml body: line is off by one', () => {
    const text = `${HEAD}capabilities:
  post_message:
    request:
      method: POST
      path: /chat
      body_format: xml
      body: |
        <message>
          <channel>{{xml input.channel}}</channel>
          <token>{{credentials.nope}}</token>
        </message>
    response: '{ "message_id": id, "channel": channel }'
`;
    expect(only(text).line).toBe(20); // 20: "<token>{{credentials.nope}}</token>"  (loader says 19)
  });

  it('schema errors inside a YAML sequence point at the item (load.ts pointerToSegments gives strings, SourceMap wants numbers)', () => {
    const text = `${HEAD}retry:
  on_status:
    - 429
    - 200
capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i.path).toBe('retry/on_status/1');
    expect(where(i)).toBe('14:7'); // 14: "    - 200"  (loader says 13:5, the first item)
  });

  it('an out-of-range smtp port is not described as an api_key problem (load.ts oneOf message keyed on segs[0] === "auth")', () => {
    const text = `schema_version: 1
name: probe
display_name: Probe
category: email
auth: { type: smtp, host: smtp.example.com, port: 70000 }
credential_schema: {}
capabilities:
  send_email:
    request: { method: POST, path: /smtp }
    response: '{ "status": "sent" }'
`;
    const issues = load(text);
    expect(issues.map((i) => i.message).join('\n')).not.toContain('api_key');
  });

  it('a bad property name points at the offending key and names it (propertyNames errors)', () => {
    const text = `${HEAD}environments:
  live: https://api.example.com
  Sandbox: https://sandbox.example.com
capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const issues = load(text);
    expect(issues.some((i) => i.path === 'environments/Sandbox' && i.line === 13 && i.message.includes('Sandbox'))).toBe(true);
  });

  it('an auth block without "type" yields one issue, not one per auth variant (schema: if without required)', () => {
    const text = HEAD.replace('  type: bearer\n', '') +
      `capabilities:
  send_sms:
    request: { method: POST, path: /messages }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const issues = load(text);
    expect(issues.map((i) => i.message)).toEqual(['missing required key "type"']);
  });

  it('an unresolved YAML alias is reported as an issue, not thrown (load.ts doc.toJS outside try)', () => {
    const text = 'schema_version: 1\nname: probe\ndisplay_name: *missing\n';
    const issues = load(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 3, rule: 'yaml' });
  });
});

describe('schema and semantic problems together', () => {
  it('reports a JSONata error in one capability beside a schema error elsewhere', () => {
    const text = `${HEAD}retry: { max_attempts: 99 }
capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: '{ "to": input.to, '
    response: '{ "message_id": id, "status": "queued" }'
`;
    const issues = load(text);
    expect(issues.map((i) => i.path).sort()).toEqual(['capabilities/send_sms/request/body', 'retry/max_attempts']);
    expect(issues.find((i) => i.path === 'capabilities/send_sms/request/body')!.rule).toBe('jsonata_syntax');
  });
});

// Issue 8, item 13: messages a new integrator can act on. "did you mean" for misspelt keys,
// credentials, input fields and functions; YAML errors at the offending line; JSONata problems at
// the line and column inside the block where they are, not at the block's start.
describe('did you mean', () => {
  it('edit distance and the closest candidate', () => {
    expect(editDistance('body_fromat', 'body_format')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('body_fromat', ['method', 'path', 'body_format', 'body'])).toBe('body_format');
    expect(closest('zzzzzz', ['method', 'path'])).toBeUndefined();
  });

  it('an unknown key suggests the key the schema allows there', () => {
    const i = only(`${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body_fromat: form
    response: '{ "message_id": id, "status": "queued" }'
`);
    expect(i).toMatchObject({ path: 'capabilities/send_sms/request/body_fromat', message: 'unknown key "body_fromat" (did you mean "body_format"?)' });
    expect(where(i)).toBe('16:7');
  });

  it('an undeclared credential and an undeclared input field suggest the declared ones', () => {
    const issues = load(`${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: "/x/{{credentials.apikey}}"
      body: '{ "to": input.too }'
    response: '{ "message_id": id, "status": "queued" }'
`);
    expect(issues.map((i) => i.message)).toEqual([
      'template reads "credentials.apikey", which credential_schema does not declare (did you mean "api_key"?)',
      `expression reads "input.too", which the capability's input schema does not define (did you mean "to"?)`,
    ]);
  });
});

describe('positions', () => {
  it('an over-indented line is reported at that line, once', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
        path: /messages
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ rule: 'yaml', line: 15, column: 9 }); // 15: "        path: /messages"
    expect(i.message).toContain('indented deeper');
  });

  it('a JSONata syntax error deep in a block is at its line and column, without "at character"', () => {
    const body = Array.from({ length: 12 }, (_, n) => `          "field_${n}": input.to,`).join('\n');
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: |
        {
${body}
          "broken": input.body input.to
        }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i.rule).toBe('jsonata_syntax');
    expect(i.message).not.toMatch(/at character/);
    expect(i.line).toBe(30); // 16: "body: |", 17: "{", 18-29: the fields, 30: the broken line
    expect(text.split('\n')[29].slice(i.column - 1)).toBe('input.to'); // the unexpected token
  });

  it('an unknown input field in a block is reported where it is read', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: |
        {
          "to": input.to,
          "text": input.body,
          "media": input.media_url
        }
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ rule: 'undeclared_input', line: 20 });
    expect(text.split('\n')[19].slice(i.column - 1)).toBe('input.media_url');
  });

  it('a misspelt function is reported where it is called, with a suggestion', () => {
    const text = `${HEAD}capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: '{ "to": $uppercas(input.to) }'
    response: '{ "message_id": id, "status": "queued" }'
`;
    const i = only(text);
    expect(i).toMatchObject({ rule: 'unknown_function', message: 'expression calls "$uppercas", which is no known function (did you mean "$uppercase"?)' });
    expect(text.split('\n')[15].slice(i.column - 1)).toMatch(/^\$uppercas\(/);
  });
});
