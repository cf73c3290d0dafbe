// Loading a provider's official OpenAPI document for the contract server, with the known fix-ups
// applied to an in-memory copy (the files themselves are never changed):
// - Swagger 2.0 is converted to OpenAPI 3 with swagger2openapi (keeping application/json bodies
//   the operation `consumes`, which the converter drops beside formData);
// - `pattern`s that do not compile as Unicode regular expressions (Ajv's mode) are removed;
// - `nullable: true` without a `type` (OAS 3.0 beside anyOf/oneOf/$ref) becomes a null alternative;
// - duplicate enum items are removed and empty enums dropped (Ajv refuses both);
// - a header parameter named `token` or `Authorization` on an operation that has a security
//   requirement is dropped: the credential is judged by the security scheme (Slack models its
//   Bearer token twice, once as a required header literally named `token`).
// Further files given after the first (recorded fragments for endpoints a spec lacks) are merged in.
// $refs to files beside a spec are resolved offline into it (./spec-refs.ts, nothing is fetched); a
// reference that cannot be resolved is a one-line error naming it, except a local one naming a
// missing entry of an existing section, which is stubbed (a schema: any value) or left as published
// (anything else) and reported as a fix-up line.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
// swagger2openapi ships no types; its shape is declared in ./swagger2openapi.d.ts.

import { PlugboardError } from '../../errors/plugboard-error.ts';
import { bundleFileRefs, checkLocalRefs } from './spec-refs.ts';

export type AnyObj = Record<string, any>; // spec documents are untyped JSON here

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
export const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

export interface LoadedSpec {
  /** OpenAPI 3 document, fixed up, not yet dereferenced. */
  document: AnyObj;
  /** One line per fix-up applied (for the command's header and test messages). */
  fixups: string[];
  files: string[];
}

const docCache = new Map<string, AnyObj>();

/** Parses a spec file (YAML with unlimited aliases, or JSON). The result is a fresh deep copy. */
export function readSpecFile(file: string): AnyObj {
  const abs = path.resolve(file);
  let doc = docCache.get(abs);
  if (!doc) {
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (err) {
      throw new PlugboardError('validation', `cannot read spec file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      doc = (/\.json$/i.test(abs) ? JSON.parse(text) : YAML.parse(text, { maxAliasCount: -1 })) as AnyObj;
    } catch (err) {
      throw new PlugboardError('validation', `spec file ${file} is not valid ${/\.json$/i.test(abs) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!doc || typeof doc !== 'object' || (!doc.openapi && !doc.swagger)) throw new PlugboardError('validation', `spec file ${file} is not an OpenAPI or Swagger document (no "openapi" or "swagger" key)`);
    docCache.set(abs, doc);
  }
  return structuredClone(doc);
}

/** Loads one or more spec files into one fixed-up OpenAPI 3 document (later files add paths and components). */
export async function loadSpec(files: string[]): Promise<LoadedSpec> {
  if (!files.length) throw new PlugboardError('validation', 'no spec file given');
  const fixups: string[] = [];
  const docs: AnyObj[] = [];
  for (const file of files) {
    let doc = readSpecFile(file);
    bundleFileRefs(doc, file);
    if (doc.swagger === '2.0') {
      doc = await convertSwagger2(doc);
      fixups.push(`${path.basename(file)}: Swagger 2.0 converted to OpenAPI 3 (swagger2openapi)`);
    }
    docs.push(doc);
  }
  const document = docs[0]!;
  for (let i = 1; i < docs.length; i++) {
    const rebased = rebaseOnOrigin(document, docs[i]!);
    if (rebased) fixups.push(`${path.basename(files[i]!)} has another base path (${rebased}): the paths of both made absolute`);
    const added = mergeSpec(document, docs[i]!);
    const shown = added.length > 6 ? `${added.slice(0, 5).join(', ')}, … (${added.length} operations)` : added.join(', ');
    fixups.push(`${path.basename(files[i]!)} merged: ${shown || 'nothing new'}`);
  }
  fixups.push(...danglingNote(document, checkLocalRefs(document, path.basename(files[0]!))));
  fixups.push(...applyFixups(document));
  return { document, fixups, files };
}

/** A spec document given as an object (tests): converted and fixed up like a file. */
export async function specFromDocument(doc: AnyObj, name = 'document'): Promise<LoadedSpec> {
  let document = structuredClone(doc);
  const fixups: string[] = [];
  if (document.swagger === '2.0') {
    document = await convertSwagger2(document);
    fixups.push(`${name}: Swagger 2.0 converted to OpenAPI 3 (swagger2openapi)`);
  }
  fixups.push(...danglingNote(document, checkLocalRefs(document, name)));
  fixups.push(...applyFixups(document));
  return { document, fixups, files: [] };
}

const listed = (refs: string[]) => `${refs.slice(0, 3).map((r) => JSON.stringify(r)).join(', ')}${refs.length > 3 ? ', …' : ''}`;

/**
 * A $ref to a missing schema (DocuSign's `#/definitions/offlineAttributes`) gets an empty stub schema
 * (any value), or Ajv cannot compile any operation whose body reaches it; other missing entries
 * (Zoho's parameter) are left unresolved, as published. One line each for the report.
 */
function danglingNote(doc: AnyObj, refs: string[]): string[] {
  const prefix = '#/components/schemas/';
  const stubbed = refs.filter((r) => r.startsWith(prefix) && !r.slice(prefix.length).includes('/'));
  for (const r of stubbed) doc.components.schemas[r.slice(prefix.length).replace(/~1/g, '/').replace(/~0/g, '~')] = { description: 'stub: the published spec references this schema without defining it' };
  const left = refs.filter((r) => !stubbed.includes(r));
  return [
    ...(stubbed.length ? [`${stubbed.length} $ref(s) to a missing schema stubbed as any value: ${listed(stubbed)}`] : []),
    ...(left.length ? [`${left.length} $ref(s) to a missing entry left unresolved (as published): ${listed(left)}`] : []),
  ];
}

/** The built-in fix-ups, in place; returns a line per kind applied. */
export function applyFixups(doc: AnyObj): string[] {
  const out: string[] = [];
  const patterns = stripBadPatterns(doc);
  if (patterns.length) out.push(`${patterns.length} pattern(s) Ajv cannot compile removed: ${patterns.slice(0, 3).map((p) => JSON.stringify(p)).join(', ')}${patterns.length > 3 ? ', …' : ''}`);
  const nullable = normaliseNullable(doc);
  if (nullable) out.push(`${nullable} typeless "nullable: true" rewritten as a null alternative`);
  const enums = fixEnums(doc);
  if (enums) out.push(`${enums} enum(s) with duplicate or no items fixed`);
  const dropped = dropCredentialHeaderParams(doc);
  if (dropped.size) out.push(`header parameter(s) ${[...dropped].map((n) => `"${n}"`).join(', ')} dropped where a security requirement judges the credential`);
  return out;
}

/**
 * Swagger 2.0 -> OpenAPI 3.0 with swagger2openapi. swagger2openapi turns formData parameters into
 * form/multipart bodies only, dropping `application/json` even when the operation `consumes` it;
 * we restore it (same schema) so that a JSON body the spec allows is judged, not refused.
 */
export async function convertSwagger2(doc: AnyObj): Promise<AnyObj> {
  const original = structuredClone(doc);
  // Loaded on use: contract runs need it, `serve` (which bundles this module) does not.
  const { default: swagger2openapi } = await import('swagger2openapi');
  const { openapi } = await swagger2openapi.convertObj(doc, { patch: true, warnOnly: true, resolveInternal: false });
  for (const [p, item] of Object.entries<AnyObj>(openapi.paths ?? {})) {
    for (const [method, op] of Object.entries<AnyObj>(item)) {
      const orig = original.paths?.[p]?.[method];
      if (!orig || !op?.requestBody?.content) continue;
      const consumes: string[] = orig.consumes ?? original.consumes ?? [];
      const content = op.requestBody.content as AnyObj;
      if (consumes.includes('application/json') && !content['application/json']) {
        const form = FORM_TYPES.map((t) => content[t]).find(Boolean);
        if (form) content['application/json'] = { schema: structuredClone(form.schema) };
      }
    }
  }
  return openapi as AnyObj;
}

function serverPath(doc: AnyObj): string | undefined {
  const url = doc.servers?.[0]?.url;
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url, 'http://x').pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

function prefixPaths(doc: AnyObj, prefix: string): void {
  if (prefix) doc.paths = Object.fromEntries(Object.entries<AnyObj>(doc.paths ?? {}).map(([p, item]) => [prefix + p, item]));
  for (const s of doc.servers ?? []) if (typeof s?.url === 'string') s.url = s.url.replace(/^(https?:\/\/[^/]+)?\/.*$/, '$1');
}

/**
 * A fragment whose server has another base path than the spec's (Google's upload endpoints,
 * /upload/drive/v3, beside /drive/v3): both documents' paths get their own base path and the
 * servers keep only their origin, so each operation is routed where the provider serves it.
 * Returns "<spec path> vs <fragment path>" when it rebased.
 */
function rebaseOnOrigin(doc: AnyObj, extra: AnyObj): string | undefined {
  const a = serverPath(doc);
  const b = serverPath(extra);
  if (a === undefined || b === undefined || a === b) return undefined;
  prefixPaths(doc, a);
  prefixPaths(extra, b);
  return `${b || '/'} vs ${a || '/'}`;
}

/** Adds the paths (operations) and components of `extra` that `doc` lacks. Returns what was added. */
function mergeSpec(doc: AnyObj, extra: AnyObj): string[] {
  const added: string[] = [];
  doc.paths ??= {};
  for (const [p, item] of Object.entries<AnyObj>(extra.paths ?? {})) {
    const target = (doc.paths[p] ??= {});
    for (const [k, v] of Object.entries<AnyObj>(item)) {
      if (target[k] !== undefined) continue;
      target[k] = v;
      if (HTTP_METHODS.includes(k)) added.push(`${k.toUpperCase()} ${p}`);
    }
  }
  for (const [section, entries] of Object.entries<AnyObj>(extra.components ?? {})) {
    const target = ((doc.components ??= {})[section] ??= {});
    for (const [name, v] of Object.entries<AnyObj>(entries)) target[name] ??= v;
  }
  return added;
}

export function resolveRef(doc: AnyObj, ref: string): AnyObj | undefined {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<AnyObj | undefined>((o, k) => o?.[k], doc);
}

function walk(node: unknown, visit: (o: AnyObj) => void, seen = new Set<unknown>()): void {
  if (!node || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const v of node) walk(v, visit, seen);
    return;
  }
  for (const v of Object.values(node as AnyObj)) walk(v, visit, seen);
  visit(node as AnyObj);
}

/** Removes string `pattern`s that do not compile with the `u` flag (how Ajv compiles them). */
export function stripBadPatterns(doc: AnyObj): string[] {
  const removed: string[] = [];
  walk(doc, (o) => {
    if (typeof o.pattern !== 'string') return;
    try {
      new RegExp(o.pattern, 'u');
    } catch {
      removed.push(o.pattern);
      delete o.pattern;
    }
  });
  return removed;
}

/**
 * OAS 3.0 allows `nullable: true` beside anyOf/oneOf/allOf/$ref without a `type` (Stripe does this
 * everywhere); Ajv refuses to compile that ("nullable" cannot be used without "type"). Rewrite it to
 * the same meaning Ajv understands: an extra `{type: 'null'}` alternative. In place; returns the count.
 */
export function normaliseNullable(doc: unknown): number {
  let n = 0;
  walk(doc, (o) => {
    if (o.nullable !== true || o.type !== undefined) return;
    n++;
    delete o.nullable;
    if (Array.isArray(o.anyOf)) o.anyOf.push({ type: 'null' });
    else if (Array.isArray(o.oneOf)) o.oneOf.push({ type: 'null' });
    else {
      const rest: AnyObj = {};
      for (const k of Object.keys(o)) {
        if (k === 'description' || k === 'title') continue;
        rest[k] = o[k];
        delete o[k];
      }
      o.anyOf = [rest, { type: 'null' }];
    }
  });
  return n;
}

function fixEnums(doc: AnyObj): number {
  let n = 0;
  walk(doc, (o) => {
    if (!Array.isArray(o.enum)) return;
    const unique = [...new Map(o.enum.map((v: unknown) => [JSON.stringify(v), v])).values()];
    if (unique.length === o.enum.length && unique.length > 0) return;
    n++;
    if (unique.length) o.enum = unique;
    else delete o.enum;
  });
  return n;
}

const CREDENTIAL_HEADERS = ['token', 'authorization'];

function dropCredentialHeaderParams(doc: AnyObj): Set<string> {
  const dropped = new Set<string>();
  const keep = (params: AnyObj[] | undefined) =>
    params?.filter((p) => {
      const r = p.$ref ? resolveRef(doc, p.$ref) : p;
      const hit = r?.in === 'header' && CREDENTIAL_HEADERS.includes(String(r?.name).toLowerCase());
      if (hit) dropped.add(String(r.name));
      return !hit;
    });
  for (const item of Object.values<AnyObj>(doc.paths ?? {})) {
    for (const [k, op] of Object.entries<AnyObj>(item)) {
      if (!HTTP_METHODS.includes(k) || !op) continue;
      const security = (op.security ?? doc.security ?? []) as AnyObj[];
      if (!security.length || security.some((req) => Object.keys(req).length === 0)) continue;
      if (op.parameters) op.parameters = keep(op.parameters);
      if (item.parameters) item.parameters = keep(item.parameters);
    }
  }
  return dropped;
}
