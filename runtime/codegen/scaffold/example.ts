// The offline example of a scaffolded capability, from the spec's own examples: input (parameter and
// body examples, else values made up from the schema), the recorded response (the response example,
// else one made up from its schema) and the output the response mapping gives for it, so that
// `plugboard test` passes as scaffolded and keeps passing once the integrator edits the mapping.
import { ajv } from '../../manifest/ajv.ts';
import { compileExpression } from '../../lang/expressions.ts';
import type { AnyObj } from './schema-tools.ts';
import { sample } from './schema-tools.ts';
import type { CapabilityDraft } from './operation.ts';

function validFor(schema: AnyObj, value: unknown): boolean {
  try {
    return ajv.validate(schema, value);
  } catch {
    return false;
  }
}

function exampleInput(doc: AnyObj, draft: CapabilityDraft): AnyObj {
  const input: AnyObj = {};
  const props = draft.capability.input.properties as AnyObj;
  const required = new Set<string>(draft.capability.input.required ?? []);
  for (const f of draft.fields) {
    if (!required.has(f.name)) continue; // optional inputs stay out: the example shows the minimum
    const schema = props[f.name] as AnyObj;
    const candidates = [f.example, f.source === undefined ? undefined : sample(doc, f.source), sample(doc, schema)];
    input[f.name] = candidates.find((c) => c !== undefined && validFor(schema, c)) ?? candidates.find((c) => c !== undefined);
  }
  return input;
}

function recordedBody(doc: AnyObj, media: AnyObj | undefined): unknown {
  if (!media) return undefined;
  const ex = media.example ?? Object.values<AnyObj>(media.examples ?? {})[0]?.value;
  if (ex !== undefined) return ex;
  return media.schema ? sample(doc, media.schema, { allProperties: true }) : undefined;
}

/** The path the engine sends for the example input (Handlebars URL-encodes path values). */
function renderedPath(path: string, input: AnyObj): string {
  return path.replace(/\{\{input\.([a-z0-9_]+)\}\}/g, (_, k: string) => encodeURIComponent(String(input[k] ?? '')));
}

/** Adds `examples` to the draft's capability; loosens the output schema where the spec's own example breaks it. */
export async function addExample(doc: AnyObj, draft: CapabilityDraft, operationLabel: string): Promise<void> {
  const cap = draft.capability;
  const input = exampleInput(doc, draft);
  const body = recordedBody(doc, draft.response.media);
  const response: AnyObj = { status: draft.response.status };
  if (body !== undefined) response.body = body;
  const parsed = body === undefined ? undefined : typeof body === 'string' ? tryJson(body) : body;
  let output = await compileExpression(cap.response).evaluate(parsed, { input, status: draft.response.status, headers: {} });
  if (output === undefined || output === null) output = {};
  if (!validFor(cap.output, output)) {
    for (const p of Object.values<AnyObj>(cap.output.properties ?? {})) {
      delete p.type;
      delete p.items;
    }
  }
  cap.examples = [
    {
      name: `${operationLabel} (from the spec's examples)`,
      input,
      request: { method: cap.request.method, path: renderedPath(cap.request.path, input) },
      response,
      output,
    },
  ];
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
