// Load a manifest: YAML with source positions -> Ajv validation -> semantic checks -> compiled Connector.
// Every problem of a file is reported at once, each with file, line, column, JSON path and rule.
import fs from 'node:fs';
import path from 'node:path';
import { visit } from 'yaml';
import { createAjv, type ErrorObject, type ValidateFunction } from './ajv.ts';
import { didYouMean } from './suggest.ts';
import { MANIFEST_SCHEMA_FILE } from '../config/paths.ts';
import type { Manifest } from './types.ts';
import { SourceMap, parseManifestYaml, type ManifestIssue } from './source-map.ts';
import { manifestCache, type ManifestCache } from './manifest-cache.ts';
export { formatIssue, type ManifestIssue } from './source-map.ts';
import { compileConnector, type Connector } from './connector.ts';

let manifestValidator: ValidateFunction | undefined;
/** The manifest schema's validator, compiled on the first manifest loaded (commands that load none, such as `tenants` or `--help`, skip the compile). */
const manifestSchemaValidator = (): ValidateFunction => (manifestValidator ??= createAjv({ verbose: true }).compile(JSON.parse(fs.readFileSync(MANIFEST_SCHEMA_FILE, 'utf8'))));

function pointerToSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Schema problems listed at most (with their positions). */
const MAX_SCHEMA_ISSUES = 200;

function schemaIssues(errors: ErrorObject[], file: string, map: SourceMap): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  const seen = new Set<string>();
  // A failed if/then or oneOf repeats what its branches said in detail; keep the detail.
  // api_key's oneOf gets one custom message below; the branch errors it replaces are noise.
  const apiKeyOneOf = errors.some((e) => e.keyword === 'oneOf' && e.instancePath === '/auth');
  // An anyOf of plain "required" branches reads better as one "needs one of" message.
  const anyOfRequired = new Map<string, string[]>();
  for (const e of errors) {
    if (e.keyword === 'required' && /\/anyOf\/\d+\/required$/.test(e.schemaPath)) {
      const list = anyOfRequired.get(e.instancePath) ?? [];
      list.push((e.params as { missingProperty: string }).missingProperty);
      anyOfRequired.set(e.instancePath, list);
    }
  }
  const detailed = errors.filter(
    (e) => e.keyword !== 'if' && !(e.keyword === 'required' && /\/anyOf\/\d+\/required$/.test(e.schemaPath)) && !(apiKeyOneOf && e.instancePath === '/auth' && e.schemaPath.includes('auth_api_key/oneOf/')) &&
      // propertyNames reports the inner rule too (marked with propertyName); keep the outer one
      !(e.keyword !== 'propertyNames' && (e as ErrorObject & { propertyName?: string }).propertyName !== undefined),
  );
  for (const e of detailed) {
    const segs = pointerToSegments(e.instancePath);
    let message = e.message ?? 'is invalid';
    let pathSegs = segs;
    let key = false;
    if (e.keyword === 'additionalProperties') {
      const prop = (e.params as { additionalProperty: string }).additionalProperty;
      pathSegs = [...segs, prop];
      const known = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      message = `unknown key "${prop}"${didYouMean(prop, known)}`;
      key = true;
    } else if (e.keyword === 'required') {
      message = `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
      const kind = segs[segs.length - 1] === 'pagination' ? (e.parentSchema as { properties?: { type?: { const?: string } } } | undefined)?.properties?.type?.const : undefined;
      if (kind) message += ` (pagination type "${kind}")`;
    } else if (e.keyword === 'enum') {
      message = `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    } else if (e.keyword === 'anyOf' && anyOfRequired.has(e.instancePath)) {
      message = `needs at least one of: ${anyOfRequired.get(e.instancePath)!.join(', ')}`;
    } else if (e.keyword === 'propertyNames') {
      const name = (e.params as { propertyName: string }).propertyName;
      const inner = errors.find((x) => (x as ErrorObject & { propertyName?: string }).propertyName === name && x.instancePath === e.instancePath);
      pathSegs = [...segs, name];
      key = true;
      message = `key "${name}" ${inner?.message ?? 'is not a valid name'}`;
    } else if (e.keyword === 'oneOf' && e.instancePath === '/auth') {
      message = 'api_key auth takes either "name" and "value" (with optional "in") or "headers"/"query" maps, not both';
    } else if (e.keyword === 'not' && segs[segs.length - 1] === 'request') {
      message = 'a GET or DELETE request cannot have a body';
    } else if (e.keyword === 'oneOf' && segs.includes('examples')) {
      message = 'an example needs exactly one of "output" or "error"';
    }
    if (segs[0] === 'capabilities' && segs[2] === 'input' && (segs.length === 3 ? e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === 'type' : segs.length === 4 && segs[3] === 'type' && e.keyword === 'const')) {
      message = 'the input schema of a custom capability must have "type: object" at its root (an input is an object of named fields)';
    }
    const id = `${pathSegs.join('/')}|${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    // Enough to act on: a text with thousands of problems (not a manifest at all) must not cost a
    // position lookup per problem (the studio's validate endpoint shares this code).
    if (out.length >= MAX_SCHEMA_ISSUES) {
      out.push({ file, line: 1, column: 1, path: '', message: `more than ${MAX_SCHEMA_ISSUES} problems: the rest are not listed`, rule: 'too_many_problems' });
      break;
    }
    const pos = map.position(pathSegs, { key });
    out.push({ file, ...pos, path: pathSegs.join('/'), message, rule: e.keyword });
  }
  return out;
}

/**
 * yaml reports an over-indented line as a problem of the value on the line above ("Nested mappings
 * are not allowed in compact mappings", "Implicit keys need to be on a single line"); the line to fix
 * is the next non-blank one, when it is indented deeper than the line the error names.
 */
function overIndentedLine(text: string, e: { code: string; pos: [number, number] }): { line: number; column: number } | undefined {
  if (e.code !== 'BLOCK_AS_IMPLICIT_KEY' && e.code !== 'MULTILINE_IMPLICIT_KEY') return undefined;
  const all = text.split('\n');
  const errLine = text.slice(0, e.pos[0]).split('\n').length; // 1-based
  const indent = (l: string) => l.search(/\S|$/);
  for (let n = errLine + 1; n <= all.length; n++) {
    const l = all[n - 1];
    if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
    return indent(l) > indent(all[errLine - 1]) ? { line: n, column: indent(l) + 1 } : undefined;
  }
  return undefined;
}

export interface LoadResult {
  connector?: Connector;
  manifest?: Manifest;
  issues: ManifestIssue[];
  /** Positions in the file (with a connector: the registry places problems across files by it). */
  map?: SourceMap;
}

/** The data of a manifest text, or its YAML problems (each at its line). */
function parseManifest(text: string, file: string): { data: unknown; map: SourceMap } | { issues: ManifestIssue[] } {
  const { doc, lines } = parseManifestYaml(text);
  if (doc.errors.length) {
    const issues: ManifestIssue[] = [];
    for (const e of doc.errors) {
      const over = overIndentedLine(text, e);
      const pos = over ?? (() => { const p = e.linePos?.[0] ?? lines.linePos(e.pos[0]); return { line: p.line, column: p.col }; })();
      const message = over ? `YAML: this line is indented deeper than the line above allows (${e.message.split('\n')[0]})` : `YAML: ${e.message.split('\n')[0]}`;
      // An over-indented line makes yaml report two errors about the line above; keep one, at the line itself.
      if (over && issues.some((i) => i.line === pos.line && i.message.startsWith('YAML: this line is indented'))) continue;
      issues.push({ file, ...pos, path: '', message, rule: 'yaml' });
    }
    return { issues };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }), map: new SourceMap(text, { doc, lines }) };
  } catch (err) {
    // Unresolved aliases and alias bombs surface here, not in doc.errors.
    let pos = { line: 1, column: 1 };
    visit(doc, { Alias: (_k, n) => { if (n.range && pos.line === 1) { const lp = lines.linePos(n.range[0]); pos = { line: lp.line, column: lp.col }; } } });
    return { issues: [{ file, ...pos, path: '', message: `YAML: ${(err as Error).message}`, rule: 'yaml' }] };
  }
}

/**
 * `cache`: the cache of manifests that loaded without a problem (loadManifestFile passes it): on a hit
 * the YAML parse, the manifest schema and the examples' checks are skipped (compileConnector's
 * `checked`); the other semantic checks and the name check still run.
 */
export function loadManifestText(text: string, file: string, opts: { expectedName?: string; cache?: ManifestCache } = {}): LoadResult {
  const cached = opts.cache?.get(text);
  if (cached) {
    // The source map parses the text only if a check has a problem to place. A hit with a problem
    // (a renamed file) or one that does not compile at all (an entry not written by this code) is
    // loaded in full instead: its problems then come with their positions.
    try {
      const hit = compiled(cached, new SourceMap(text), file, opts.expectedName, true);
      if (!hit.issues.length) return hit;
    } catch {
      /* loaded in full below */
    }
  }
  const parsed = parseManifest(text, file);
  if ('issues' in parsed) return parsed;
  const { data, map } = parsed;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return { issues: [{ file, line: 1, column: 1, path: '', message: 'a manifest must be a YAML mapping', rule: 'type' }] };
  }
  const validateManifestSchema = manifestSchemaValidator();
  if (!validateManifestSchema(data)) {
    // Report the semantic problems of the parts that are well-formed too ("every error at once");
    // a part too broken to check simply contributes nothing beyond its schema errors.
    const issues = schemaIssues(validateManifestSchema.errors ?? [], file, map);
    try {
      const semantic = compileConnector(data as Manifest, { file, map }).issues;
      const seen = new Set(issues.map((i) => i.path));
      issues.push(...semantic.filter((i) => ![...seen].some((p) => i.path === p || i.path.startsWith(`${p}/`) || p.startsWith(`${i.path}/`))));
    } catch {
      /* shapes the schema already rejected */
    }
    return { issues };
  }
  // Cached before compiling: the data as parsed, whatever the compile does with it.
  const pristine = opts.cache ? structuredClone(data) : undefined;
  const result = compiled(data, map, file, opts.expectedName, false);
  if (pristine && !result.issues.length) opts.cache!.put(text, pristine);
  return result;
}

/** The semantic checks and the compile into a Connector (`checked`: see compileConnector), and the file-name rule. */
function compiled(data: unknown, map: SourceMap, file: string, expectedName: string | undefined, checked: boolean): LoadResult {
  const manifest = data as Manifest;
  const { connector, issues } = compileConnector(manifest, { file, map, checked });
  if (expectedName && manifest.name !== expectedName) {
    issues.push({ file, ...map.position(['name']), path: 'name', message: `name "${manifest.name}" must match the file name "${expectedName}"`, rule: 'file_name' });
  }
  return issues.length ? { manifest, issues } : { manifest, connector, issues, map };
}

export function loadManifestFile(file: string): LoadResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return { issues: [{ file, line: 1, column: 1, path: '', message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, rule: 'io' }] };
  }
  const base = path.basename(file).replace(/\.ya?ml$/, '');
  return loadManifestText(text, file, { expectedName: base, cache: manifestCache() });
}
