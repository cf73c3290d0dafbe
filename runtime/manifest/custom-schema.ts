// The input and output JSON Schemas a custom capability brings in its manifest (text a tenant may send
// to POST /manifests/validate) must be self-contained draft 2020-12: no "$id" (a schema resource of its
// own), no "$schema" of another dialect, no "$ref" that leaves the schema. They are compiled in the
// connector's own Ajv (connectorAjv), and these rules keep what they may refer to inside themselves.
import type { PathSegment } from './source-map.ts';

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** Keywords whose value is one subschema, a list of them, or a map of them (draft 2020-12, plus older spellings Ajv still reads). */
const ONE = ['additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'additionalItems', 'items'];
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies'];
const REFS = ['$ref', '$dynamicRef', '$recursiveRef'];

export interface CustomSchemaProblem {
  /** Path of the offending keyword below the schema. */
  at: PathSegment[];
  message: string;
  rule: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems of a custom capability's schema (`what`: "input" or "output"), each at the keyword that has it. */
export function customSchemaProblems(schema: unknown, what: string): CustomSchemaProblem[] {
  const out: CustomSchemaProblem[] = [];
  const seen = new Set<unknown>();
  // Iterative: a hostile text may nest deeply; a YAML alias may share (or repeat) a node.
  const stack: { node: unknown; at: PathSegment[] }[] = [{ node: schema, at: [] }];
  while (stack.length) {
    const { node, at } = stack.pop()!;
    if (!isObject(node) || seen.has(node)) continue;
    seen.add(node);
    if ('$id' in node) {
      out.push({ at: [...at, '$id'], rule: 'custom_schema_id', message: `"$id" is not allowed in the ${what} schema of a custom capability: the schema must be self-contained (refer to its own parts with "$ref": "#/$defs/<name>")` });
    }
    if ('$schema' in node && node.$schema !== DRAFT_2020_12 && node.$schema !== `${DRAFT_2020_12}#`) {
      out.push({ at: [...at, '$schema'], rule: 'custom_schema_dialect', message: `the ${what} schema of a custom capability is JSON Schema draft 2020-12: "$schema" may only be "${DRAFT_2020_12}" (or be left out)` });
    }
    for (const k of REFS) {
      const ref = node[k];
      if (k in node && !(typeof ref === 'string' && ref.startsWith('#'))) {
        out.push({ at: [...at, k], rule: 'custom_schema_ref', message: `"${k}": ${JSON.stringify(ref)} leaves the ${what} schema of a custom capability: only local references ("#/$defs/<name>") are allowed` });
      }
    }
    for (const k of ONE) if (isObject(node[k])) stack.push({ node: node[k], at: [...at, k] });
    for (const k of LIST) {
      const list = node[k];
      if (Array.isArray(list)) list.forEach((s, i) => stack.push({ node: s, at: [...at, k, i] }));
    }
    for (const k of MAP) {
      const map = node[k];
      if (isObject(map)) for (const [name, s] of Object.entries(map)) stack.push({ node: s, at: [...at, k, name] });
    }
  }
  return out.sort((a, b) => a.at.join('/').localeCompare(b.at.join('/')));
}
