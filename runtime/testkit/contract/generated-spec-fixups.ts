// Fix-ups for specs generated from other descriptions (Google's Discovery documents converted by
// APIs.guru; Microsoft Graph's per-module documents generated from its CSDL), each applied only where
// its shape occurs, in place, on the in-memory copy. Without them a request the real API accepts
// (and its documentation shows) is refused:
// - Discovery media bodies: a request body typed only `message/*` (Gmail send, drafts, import) gets
//   `application/json` with the same schema: the API takes the JSON `{raw}` resource too; likewise one
//   typed only `application/octet-stream` whose schema is an object resource (Drive files.create);
// - a string `format: byte` whose description says base64url (Gmail `Message.raw`): Ajv's byte is
//   standard base64 with padding, so `-`, `_` or no padding would fail, while Google's JSON mapping of
//   bytes accepts standard and URL-safe base64, padded or not: that alphabet becomes a `pattern`;
// - Graph open types: `additionalProperties: {type: object}` (under `allOf` it makes every
//   non-object property fail, e.g. "subject must be object") is removed;
// - Graph action parameters (requestBodies "Action parameters"): the CSDL names them in PascalCase
//   (`Message`, `SaveToSentItems`), Graph matches them case-insensitively and its docs write
//   camelCase: both spellings are accepted, nothing else;
// - Graph namespace-qualified actions (`/users/{user-id}/microsoft.graph.sendMail`) are also reachable
//   unqualified (`…/sendMail`, as documented), and `/users/{user-id}/…` also as `/me/…`;
// - `explode: false` on a scalar query parameter ($top=10) is dropped (it made the value an array).
import { HTTP_METHODS, resolveRef, type AnyObj } from './spec-document.ts';

function walk(node: unknown, visit: (o: AnyObj) => void, seen = new Set<unknown>()): void {
  if (!node || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  for (const v of Object.values(node as AnyObj)) walk(v, visit, seen);
  if (!Array.isArray(node)) visit(node as AnyObj);
}

function operations(doc: AnyObj): Array<[string, string, AnyObj]> {
  const out: Array<[string, string, AnyObj]> = [];
  for (const [p, item] of Object.entries<AnyObj>(doc.paths ?? {})) for (const [m, op] of Object.entries<AnyObj>(item ?? {})) if (HTTP_METHODS.includes(m) && op) out.push([p, m, op]);
  return out;
}

const bodyOf = (doc: AnyObj, op: AnyObj): AnyObj | undefined => (op.requestBody?.$ref ? resolveRef(doc, op.requestBody.$ref) : op.requestBody);

/** Request bodies declared only as message/* with a JSON schema: add application/json. */
function jsonBesideMessageTypes(doc: AnyObj): number {
  let n = 0;
  for (const [, , op] of operations(doc)) {
    const content = bodyOf(doc, op)?.content as AnyObj | undefined;
    if (!content || content['application/json']) continue;
    const types = Object.keys(content);
    if (!types.length || !types.every((t) => t.toLowerCase().startsWith('message/'))) continue;
    const schema = content[types[0]!]?.schema;
    if (!schema) continue;
    content['application/json'] = { schema: structuredClone(schema) };
    n++;
  }
  return n;
}

/**
 * Discovery methods that support media upload (Drive files.create / files.update) are converted with
 * a request body typed only application/octet-stream, though its schema is the JSON resource (File):
 * on these paths the API takes the metadata as JSON (the media goes to the /upload/… URL), so
 * application/json gets the same schema.
 */
function jsonBesideOctetStreamResource(doc: AnyObj): number {
  let n = 0;
  for (const [, , op] of operations(doc)) {
    const content = bodyOf(doc, op)?.content as AnyObj | undefined;
    if (!content || content['application/json']) continue;
    const types = Object.keys(content);
    const schema = content['application/octet-stream']?.schema as AnyObj | undefined;
    if (types.length !== 1 || !schema) continue;
    const resolved = schema.$ref ? resolveRef(doc, schema.$ref) : schema;
    if (resolved?.type !== 'object') continue;
    content['application/json'] = { schema: structuredClone(schema) };
    n++;
  }
  return n;
}

/** Standard or URL-safe base64, padded or not (https://protobuf.dev/programming-guides/json/: bytes). */
export const ANY_BASE64 = '^[A-Za-z0-9+/_-]*={0,2}$';

function base64urlByteFormat(doc: AnyObj): number {
  let n = 0;
  walk(doc.components?.schemas, (o) => {
    if (o.type === 'string' && o.format === 'byte' && /base64url/i.test(String(o.description ?? ''))) {
      delete o.format;
      o.pattern = ANY_BASE64;
      n++;
    }
  });
  return n;
}

function dropOpenTypeMarkers(doc: AnyObj): number {
  let n = 0;
  walk(doc.components?.schemas, (o) => {
    const ap = o.additionalProperties;
    if (ap && typeof ap === 'object' && ap.type === 'object' && Object.keys(ap).length === 1) {
      delete o.additionalProperties;
      n++;
    }
  });
  return n;
}

/** Action parameter bodies: camelCase beside the CSDL's PascalCase names; other keys refused. */
function actionParameterCasing(doc: AnyObj): number {
  let n = 0;
  for (const body of Object.values<AnyObj>(doc.components?.requestBodies ?? {})) {
    if (body?.description !== 'Action parameters') continue;
    const schema = body.content?.['application/json']?.schema as AnyObj | undefined;
    const props = schema?.properties as AnyObj | undefined;
    if (!props) continue;
    for (const [name, s] of Object.entries(props)) {
      const camel = name[0]!.toLowerCase() + name.slice(1);
      if (camel !== name && !props[camel]) props[camel] = structuredClone(s);
    }
    schema!.additionalProperties = false;
    n++;
  }
  return n;
}

const withoutParam = (params: AnyObj[] | undefined, doc: AnyObj, name: string) => params?.filter((p) => (p.$ref ? resolveRef(doc, p.$ref) : p)?.name !== name);

/** Unqualified aliases of namespace-qualified action paths, then /me aliases of /users/{user-id} paths. */
function graphPathAliases(doc: AnyObj): { unqualified: number; me: number } {
  const paths = (doc.paths ?? {}) as AnyObj;
  let unqualified = 0;
  let me = 0;
  for (const [p, item] of Object.entries<AnyObj>({ ...paths })) {
    const plain = p.replace(/\/microsoft\.graph\.([A-Za-z]+)$/, '/$1');
    if (plain !== p && !paths[plain]) {
      paths[plain] = structuredClone(item); // same operation, same operationId: validated alike
      unqualified++;
    }
  }
  if (Object.keys(paths).some((p) => p === '/me' || p.startsWith('/me/'))) return { unqualified, me };
  for (const [p, item] of Object.entries<AnyObj>({ ...paths })) {
    const m = /^\/users\/\{user-id\}(\/.*)?$/.exec(p);
    if (!m) continue;
    const alias = `/me${m[1] ?? ''}`;
    if (paths[alias]) continue;
    const copy = structuredClone(item) as AnyObj;
    if (copy.parameters) copy.parameters = withoutParam(copy.parameters, doc, 'user-id');
    for (const [k, op] of Object.entries<AnyObj>(copy)) {
      if (!HTTP_METHODS.includes(k) || !op) continue;
      if (op.parameters) op.parameters = withoutParam(op.parameters, doc, 'user-id');
      if (op.operationId) op.operationId = /^users([._])/.test(op.operationId) ? op.operationId.replace(/^users([._])/, 'me$1') : `me.${op.operationId}`;
    }
    paths[alias] = copy;
    me++;
  }
  return { unqualified, me };
}

function dropScalarExplodeFalse(doc: AnyObj): number {
  let n = 0;
  walk(doc, (o) => {
    if (o.in !== 'query' || o.explode !== false) return;
    const schema = o.schema?.$ref ? resolveRef(doc, o.schema.$ref) : o.schema;
    if (schema?.type === 'array' || schema?.type === 'object') return;
    delete o.explode;
    n++;
  });
  return n;
}

/** Applies each fix-up where its shape occurs; a line per kind applied. */
export function applyGeneratedSpecFixups(doc: AnyObj): string[] {
  const out: string[] = [];
  const json = jsonBesideMessageTypes(doc);
  if (json) out.push(`${json} request bod(ies) typed only message/* also accept application/json (same schema)`);
  const octet = jsonBesideOctetStreamResource(doc);
  if (octet) out.push(`${octet} request bod(ies) typed only application/octet-stream with a JSON resource schema also accept application/json (same schema)`);
  const byteFormats = base64urlByteFormat(doc);
  if (byteFormats) out.push(`${byteFormats} base64url string(s) checked as standard or URL-safe base64 instead of format byte (standard only)`);
  const open = dropOpenTypeMarkers(doc);
  if (open) out.push(`${open} open-type "additionalProperties: {type: object}" removed`);
  const casing = actionParameterCasing(doc);
  if (casing) out.push(`${casing} action parameter bod(ies) accept camelCase names beside PascalCase`);
  const explode = dropScalarExplodeFalse(doc);
  if (explode) out.push(`${explode} "explode: false" dropped from scalar query parameters`);
  const aliases = graphPathAliases(doc);
  if (aliases.unqualified) out.push(`${aliases.unqualified} namespace-qualified action path(s) also reachable unqualified`);
  if (aliases.me) out.push(`${aliases.me} /users/{user-id} path(s) also reachable as /me`);
  return out;
}
