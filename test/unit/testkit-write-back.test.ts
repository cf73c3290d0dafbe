// `plugboard test` checks a capability's write-back (`record:`) on each example: the mapping over the
// example's input and output must give a valid model of the stream, with its key.
import { describe, it, expect } from 'vitest';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { runConnectorExamples } from '../../runtime/testkit/examples.ts';

const manifest = (mapping: string) => `schema_version: 1
name: acme_wb
display_name: Acme WB
category: crm
base_url: https://crm.acme.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
capabilities:
  create_contact:
    request: { method: POST, path: /contacts, body: '{ "email": input.email }' }
    response: '{ "contact_id": id }'
    record: { stream: contacts, mapping: '${mapping}' }
    examples:
      - name: a contact
        input: { email: ana@example.com }
        response: { status: 201, body: { id: "c1" } }
        output: { contact_id: c1 }
streams:
  contacts:
    model: contact
    request: { method: GET, path: /contacts }
    records: results
`;

async function problems(mapping: string): Promise<string[]> {
  const { connector, issues } = loadManifestText(manifest(mapping), 'acme_wb.yaml');
  expect(issues).toEqual([]);
  return (await runConnectorExamples(connector!)).flatMap((r) => r.problems);
}

describe('write-back in plugboard test', () => {
  it('passes a mapping that gives a valid model with its key', async () => {
    expect(await problems('{ "id": output.contact_id, "email": input.email }')).toEqual([]);
  });

  it('names a record that is not a valid model', async () => {
    expect(await problems('{ "id": output.contact_id, "email": "not an e-mail" }')).toEqual([expect.stringMatching(/^record\.mapping: not a valid contact: .*email/)]);
  });

  it('names a missing key', async () => {
    expect(await problems('{ "email": input.email }')).toEqual(expect.arrayContaining(['record.mapping gave no id (the record\'s key)']));
  });
});
