import { loadManifestText } from '../../runtime/manifest/load.ts';
import { formatIssue } from '../../runtime/manifest/load.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';

/** Compiles a manifest given as YAML text, failing loudly on any manifest problem. */
export function connectorFromYaml(yaml: string, file = 'inline.yaml'): Connector {
  const res = loadManifestText(yaml, file);
  if (!res.connector) throw new Error(`manifest problems:\n${res.issues.map(formatIssue).join('\n')}`);
  return res.connector;
}

/**
 * A small valid manifest named `name` (one send_sms capability, one example that passes), for CLI
 * tests. `extraCredentials` is YAML appended to credential_schema (two-space indented lines).
 */
export function smsManifest(name: string, extraCredentials = ''): string {
  return `schema_version: 1
name: ${name}
display_name: ${name}
category: email
base_url: https://mail.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
${extraCredentials}capabilities:
  send_sms:
    request: { method: POST, path: /messages, body: '{ "to": input.to }' }
    response: '{ "message_id": id, "status": "queued" }'
    examples:
      - name: sent
        input: { to: "+14155550123", body: hi }
        response: { status: 200, body: { id: m1 } }
        output: { message_id: m1, status: queued }
`;
}
