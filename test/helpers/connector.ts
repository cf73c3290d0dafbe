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

/**
 * A client-credentials manifest with one create_contact capability, for tests of token handling.
 * `base` is the YAML line(s) naming the base URL; `after` is YAML appended under the capability
 * (e.g. `    examples:` …, four-space indented).
 */
export function clientCredentialsManifest(o: { name: string; displayName?: string; tokenUrl: string; base?: string; path?: string; response?: string; after?: string }): string {
  return `schema_version: 1
name: ${o.name}
display_name: ${o.displayName ?? o.name}
category: crm
${o.base ?? 'base_url: https://crm.invalid'}
auth:
  type: oauth2_client_credentials
  token_url: "${o.tokenUrl}"
  client_id: "{{credentials.client_id}}"
  client_secret: "{{credentials.client_secret}}"
credential_schema:
  client_id: { type: string, sensitive: false, required: true }
  client_secret: { type: string, sensitive: true, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: ${o.path ?? '/contacts'}, body: '{ "email": input.email }' }
    response: '${o.response ?? '{ "contact_id": id }'}'
${o.after ?? ''}`;
}

/**
 * A bearer-token CRM manifest whose YAML ends inside `streams:` (the caller appends its streams,
 * indented by two spaces), with one create_contact capability. Used by the stream and sync tests.
 */
export function crmWithStreams(o: { name?: string; displayName?: string; extra?: string } = {}): string {
  return `schema_version: 1
name: ${o.name ?? 'acme_crm'}
display_name: ${o.displayName ?? 'Acme CRM'}
category: crm
base_url: https://crm.acme.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
${o.extra ?? ''}capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
streams:
`;
}
