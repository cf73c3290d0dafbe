// `plugboard scaffold`: a starter manifest from a provider's official OpenAPI document (OAS 3.0/3.1,
// or Swagger 2.0 converted by swagger2openapi): base URL and environments from `servers`, auth and
// credential_schema from `securitySchemes`, one custom capability per operation (request skeleton,
// input/output schemas, response mapping skeleton, one offline example), written as commented YAML.
import path from 'node:path';
import { Document, isMap, isScalar, type YAMLMap } from 'yaml';
import { PlugboardError } from '../../errors/plugboard-error.ts';
import { loadCapabilitySchemas } from '../../manifest/capability-schemas.ts';
import { loadSpec } from '../../testkit/contract/spec-document.ts';
import type { AnyObj } from './schema-tools.ts';
import { snake } from './schema-tools.ts';
import { findOperation, listOperations, type SpecOperation } from './operations.ts';
import { scaffoldAuth } from './auth.ts';
import { draftCapability, type CapabilityDraft } from './operation.ts';
import { addExample } from './example.ts';
import { standardHint } from './hints.ts';

export interface ScaffoldOptions {
  specs: string[];
  operations: string[];
  name?: string;
  category?: string;
}

export interface ScaffoldResult {
  name: string;
  yaml: string;
  manifest: AnyObj;
  /** Fix-ups applied to the in-memory spec (Swagger conversion, ...). */
  fixups: string[];
}

const CATEGORIES: Array<[string, RegExp]> = [
  ['esignature', /signature|envelope|docusign/i],
  ['calendar', /calendar|event/i],
  ['email', /mail/i],
  ['accounting', /accounting|invoice|xero|ledger/i],
  ['echeck', /ach\b|bank|plaid|dwolla/i],
  ['payment', /payment|checkout|order|charge|stripe|paypal/i],
  ['crm', /crm|contact|deal|lead/i],
  ['storage', /drive|file|storage/i],
  ['voice', /voice|call|assistant/i],
  ['communication', /.*/],
];

function nameFromTitle(title: string): string {
  const s = snake(title.replace(/\b(api|apis|openapi|rest|spec|v\d+(\.\d+)*)\b/gi, ' '));
  return s.slice(0, 64).replace(/_+$/, '') || 'provider';
}

/** base_url and environments from `servers` (variables at their defaults). */
function servers(doc: AnyObj): { base: string; environments?: AnyObj; note?: string } {
  const urls = ((doc.servers ?? []) as AnyObj[])
    .map((s) => ({ url: String(s.url ?? '').replace(/\{([^}]+)\}/g, (_m, v: string) => String(s.variables?.[v]?.default ?? v)).replace(/\/$/, ''), description: String(s.description ?? '') }))
    .filter((s) => /^https?:\/\//.test(s.url));
  if (!urls.length) return { base: 'https://api.example.com', note: 'TODO: the spec names no absolute server URL; set the provider\'s base URL' };
  if (urls.length === 1) return { base: urls[0]!.url };
  const environments: AnyObj = {};
  urls.forEach((s, i) => {
    const word = /sandbox|test|dev|staging|mock|live|prod/i.exec(`${s.description} ${s.url}`)?.[0]?.toLowerCase();
    const named: Record<string, string> = { test: 'sandbox', mock: 'sandbox', live: 'production', prod: 'production' };
    let env = word ? (named[word] ?? word) : i === 0 ? 'production' : snake(s.description || `server_${i + 1}`).slice(0, 30);
    while (environments[env]) env = `${env}_${i + 1}`;
    environments[env] = s.url;
  });
  return { base: urls[0]!.url, environments };
}

function capabilityName(o: SpecOperation, taken: Set<string>): string {
  let n = snake(o.operationId ?? `${o.method} ${o.path}`).slice(0, 60);
  if (loadCapabilitySchemas().has(n)) n = `${n}_op`; // a standard name would demand the standard schema
  const base = n;
  for (let i = 2; taken.has(n); i++) n = `${base}_${i}`;
  taken.add(n);
  return n;
}

export async function scaffold(opts: ScaffoldOptions): Promise<ScaffoldResult> {
  if (!opts.operations.length) throw new PlugboardError('validation', 'no operation given (--operation <operationId|"METHOD /path">)');
  const spec = await loadSpec(opts.specs);
  const doc = spec.document;
  const specName = opts.specs.map((s) => path.basename(s)).join(', ');
  const all = listOperations(doc);
  const ops = opts.operations.map((w) => findOperation(all, w, specName));
  const title = String(doc.info?.title ?? 'Provider');
  const name = opts.name ?? nameFromTitle(title);
  if (!/^[a-z0-9_]+$/.test(name) || name.length > 64) throw new PlugboardError('validation', `--name "${name}" must be [a-z0-9_]+ (at most 64 characters)`);
  const srv = servers(doc);
  const auth = scaffoldAuth(doc, ops, srv.base);
  const text = `${title} ${doc.info?.description ?? ''} ${ops.map((o) => `${o.path} ${o.operationId ?? ''}`).join(' ')}`;
  const category = opts.category ?? CATEGORIES.find(([, re]) => re.test(text))![0];
  const taken = new Set<string>();
  const drafts: CapabilityDraft[] = [];
  for (const o of ops) {
    const draft = draftCapability(doc, o, capabilityName(o, taken), auth);
    await addExample(doc, draft, o.operationId ?? `${o.method} ${o.path}`);
    drafts.push(draft);
  }
  const manifest: AnyObj = {
    schema_version: 1,
    name,
    display_name: title.replace(/\s*[-\u2013]?\s*\b(api|openapi)\b\s*$/i, '').trim() || title,
    category,
    base_url: srv.base,
    ...(srv.environments ? { environments: srv.environments } : {}),
    auth: auth.auth,
    credential_schema: auth.credentials,
    capabilities: Object.fromEntries(drafts.map((d) => [d.name, d.capability])),
  };
  const yaml = render(manifest, { drafts, ops, auth: auth.note, server: srv.note, specName, category: !opts.category });
  return { name, yaml, manifest, fixups: spec.fixups };
}

interface Notes {
  drafts: CapabilityDraft[];
  ops: SpecOperation[];
  auth: string;
  server?: string;
  specName: string;
  category: boolean;
}

function keyNode(doc: Document, parent: unknown[], key: string) {
  const map = doc.getIn(parent, true) ?? (parent.length ? undefined : doc.contents);
  if (!isMap(map)) return undefined;
  const pair = (map as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

function comment(doc: Document, parent: unknown[], key: string, text: string): void {
  const node = keyNode(doc, parent, key);
  if (node) node.commentBefore = text.split('\n').map((l) => ` ${l}`).join('\n');
}

function render(manifest: AnyObj, notes: Notes): string {
  const doc = new Document(manifest);
  doc.commentBefore = [
    ' yaml-language-server: $schema=../schemas/manifest.schema.json',
    ` Scaffolded by \`plugboard scaffold\` from ${notes.specName}. Review every TODO, then:`,
    '   plugboard validate <this file> && plugboard test <this file> && plugboard contract <this file> --spec <spec>',
  ].join('\n');
  if (notes.category) comment(doc, [], 'category', 'TODO: check the category (guessed from the spec)');
  if (notes.server) comment(doc, [], 'base_url', notes.server);
  comment(doc, [], 'auth', notes.auth);
  if (!Object.keys(manifest.credential_schema).length) comment(doc, [], 'credential_schema', 'nothing for the tenant to type (OAuth tokens come from the connect flow)');
  comment(doc, [], 'capabilities', 'Custom capabilities named after the operationIds, with their own input/output schemas.\nTODO: rename one to a standard capability (schemas/capabilities/) when it is one, and map to its schemas.');
  notes.drafts.forEach((d, i) => {
    const o = notes.ops[i]!;
    const hint = standardHint(o);
    comment(doc, ['capabilities'], d.name, `${o.method} ${o.path}${o.operationId ? ` (${o.operationId})` : ''}${hint ? `\nlooks like the standard capability "${hint}": TODO consider renaming it and mapping input/output to schemas/capabilities/${hint}.json` : ''}`);
    const at = ['capabilities', d.name];
    comment(doc, at, 'input', 'TODO: the input callers give; path parameters, required query/header parameters and the required body fields');
    const left = [...(d.optionalBody.length ? [`optional body fields not mapped: ${d.optionalBody.slice(0, 12).join(', ')}${d.optionalBody.length > 12 ? `, ... (${d.optionalBody.length})` : ''}`] : []), ...(d.skippedParams.length ? [`parameters not mapped: ${d.skippedParams.slice(0, 8).join(', ')}${d.skippedParams.length > 8 ? ', ...' : ''}`] : [])];
    if (left.length) comment(doc, [...at, 'request'], 'body' in d.capability.request ? 'body' : 'path', `TODO: ${left.join('; ')}`);
    comment(doc, at, 'response', 'TODO: fill mapping: JSONata over the response body ($input, $status, $headers bound); update output and the example');
    comment(doc, at, 'examples', 'Offline example (plugboard test) from the spec\'s own examples; the output is what the mapping gives for the response');
  });
  return doc.toString({ lineWidth: 0 });
}
