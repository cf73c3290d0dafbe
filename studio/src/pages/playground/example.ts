// The manifest the playground starts with: a small, valid connector to edit.
export const EXAMPLE_MANIFEST = `schema_version: 1
name: acme_sms
display_name: Acme SMS
category: communication
base_url: https://api.acme-sms.example/v1
auth:
  type: bearer
  token: "{{credentials.api_token}}"
credential_schema:
  api_token: { type: string, sensitive: true, required: true, title: API token }
  from_number: { type: string, sensitive: false, required: true, title: Sender number, format: e164 }
verify:
  request: { method: GET, path: /account }
capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body: '{ "to": input.to, "from": credentials.from_number, "text": input.body }'
    response: '{ "message_id": id, "status": state }'
`;
