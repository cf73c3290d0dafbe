// Custom capabilities (what `plugboard scaffold` writes): a name without schemas/capabilities/<name>.json
// validates with its own input/output schemas, and the engine checks input and output against them.
import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../runtime/manifest/load.ts';
import { runConnectorExamples } from '../../runtime/testkit/examples.ts';
import { generate } from '../../runtime/codegen/generate.ts';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';

const manifest = (capability: string, extra = '', example = '{ id: X1 }') => `
schema_version: 1
name: acme
display_name: Acme
category: communication
base_url: https://api.acme.test
auth: { type: bearer, token: "{{credentials.api_key}}" }
credential_schema:
  api_key: { type: string, sensitive: true, required: true }
capabilities:
  ${capability}:
${extra}    request: { method: POST, path: "/things/{{input.thing_id}}", body: '{ "Name": input.name }' }
    response: '{ "id": id }'
    examples:
      - name: one
        input: { thing_id: t1, name: Widget }
        request: { method: POST, path: /things/t1, body: { Name: Widget } }
        response: { status: 200, body: ${example} }
        output: { id: X1 }
`;
const schemas = `    input:
      type: object
      required: [thing_id, name]
      properties: { thing_id: { type: string }, name: { type: string } }
    output:
      type: object
      properties: { id: { type: string } }
`;

describe('custom capabilities', () => {
  it('validate and run with their own schemas', async () => {
    const res = loadManifestText(manifest('create_thing', schemas), 'acme.yaml');
    expect(res.issues).toEqual([]);
    const [r] = await runConnectorExamples(res.connector!);
    expect(r!.problems).toEqual([]);
  });

  it('check output against the schema the manifest gives', async () => {
    const res = loadManifestText(manifest('create_thing', schemas.replace('{ id: { type: string } }', '{ id: { type: integer } }')), 'acme.yaml');
    expect(res.issues.map((i) => i.message)).toEqual(['example output /id must be integer']);
  });

  it('an unknown name without schemas is still an unknown capability; a standard name may not give schemas', () => {
    const unknown = loadManifestText(manifest('create_thing'), 'acme.yaml');
    expect(unknown.issues.map((i) => i.rule)).toEqual(['unknown_capability']);
    const standard = loadManifestText(manifest('send_sms', schemas), 'acme.yaml');
    expect(standard.issues.map((i) => i.message)).toContain('"send_sms" is a standard capability: its input schema comes from schemas/capabilities/send_sms.json; remove "input" (or rename the capability to make it custom)');
  });

  it('a schema that does not compile is a problem of the capability', () => {
    const res = loadManifestText(manifest('create_thing', schemas.replace('{ id: { type: string } }', '{ id: { type: strang } }')), 'acme.yaml');
    expect(res.issues.map((i) => [i.rule, i.path])).toEqual([['capability_schema', 'capabilities/create_thing/output']]);
  });

  it('get generated types like standard ones', async () => {
    const res = loadManifestText(manifest('create_thing', schemas), 'acme.yaml');
    const files = await generate([res.connector!], loadCapabilitySchemas());
    expect(files.get('capabilities.ts')).toMatch(/export interface CreateThingInput \{[^}]*thing_id: string;/);
    expect(files.get('capabilities.ts')).toContain('create_thing: { input: CreateThingInput; output: CreateThingOutput };');
  });
});
