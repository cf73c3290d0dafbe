// Differential tests of the fast path (runtime/lang/fast-expressions.ts: the JSONata subset compiled
// to a JavaScript function) against JSONata itself: wherever the compiled function answers, its
// answer must equal JSONata's after toPlain, deeply (undefined, -0 and key order included), and be
// plain already (no further toPlain needed, nothing shared with the input). It may decline (BAIL),
// never differ. Every expression of connectors/*.yaml is covered: capabilities, errors, verify,
// webhooks, streams (records, mapping, pagination), write-backs, OAuth connections, SMTP messages.
import { describe, it, expect } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import jsonata from 'jsonata';
import { compileExpression, toPlain, type CompiledExpression } from '../../runtime/lang/expressions.ts';
import { tryCompileFast, fastSource, BAIL, type FastFunction } from '../../runtime/lang/fast-expressions.ts';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';
import { DEFAULT_CONNECTORS_DIR } from '../../runtime/config/paths.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';

type Bindings = Record<string, unknown> | undefined;
type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

/** Compiled once per source (JSONata, the compiled function, the public interface): `new Function` per comparison would dominate the run. */
const compiled = new Map<string, { ref: jsonata.Expression; fast: FastFunction | undefined; iface: CompiledExpression }>();
function compiledOf(src: string) {
  let c = compiled.get(src);
  if (!c) {
    const ref = jsonata(src);
    c = { ref, fast: tryCompileFast(ref.ast()), iface: compileExpression(src) };
    compiled.set(src, c);
  }
  return c;
}

async function reference(src: string, data: unknown, bindings: Bindings): Promise<Outcome> {
  try {
    return { ok: true, value: toPlain(await compiledOf(src).ref.evaluate(data, bindings)) };
  } catch (err) {
    return { ok: false, code: String((err as { code?: string }).code ?? (err as Error).message) };
  }
}

async function viaInterface(expr: CompiledExpression, data: unknown, bindings: Bindings): Promise<Outcome> {
  try {
    return { ok: true, value: await expr.evaluate(data, bindings) };
  } catch (err) {
    return { ok: false, code: String((err as { code?: string }).code ?? (err as Error).message) };
  }
}

/** Deep equality that also tells undefined from missing, -0 from 0, and key order apart (form bodies keep it). */
function same(a: Outcome, b: Outcome): boolean {
  if (a.ok !== b.ok) return false;
  if (!a.ok || !b.ok) return (a as { code: string }).code === (b as { code: string }).code;
  return isDeepStrictEqual(a.value, b.value) && JSON.stringify(a.value) === JSON.stringify(b.value);
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x === undefined ? '<undefined>' : typeof x === 'number' && Object.is(x, -0) ? '<-0>' : x));
}

/** An object or array of `result` that is also one of `inputs` (the caller could then change the input through the result). */
function sharedObject(result: unknown, inputs: unknown[]): object | undefined {
  const seen = new Set<object>();
  const mark = (v: unknown): void => {
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    for (const x of Object.values(v)) mark(x);
  };
  inputs.forEach(mark);
  const find = (v: unknown): object | undefined => {
    if (!v || typeof v !== 'object') return undefined;
    if (seen.has(v)) return v;
    for (const x of Object.values(v)) {
      const f = find(x);
      if (f) return f;
    }
    return undefined;
  };
  return find(result);
}

interface Tally {
  compared: number;
  answered: number;
  bailed: number;
  mismatches: string[];
}

const newTally = (): Tally => ({ compared: 0, answered: 0, bailed: 0, mismatches: [] });

/**
 * One differential comparison: the raw fast function against JSONata, and the public interface
 * (fast path with JSONata fallback) against JSONata. Returns whether the fast path answered.
 */
async function compare(src: string, data: unknown, bindings: Bindings, tally: Tally, label = src): Promise<'answered' | 'bailed'> {
  const { fast, iface: expr } = compiledOf(src);
  if (!fast) throw new Error(`not a fast expression: ${src}`);
  const ref = await reference(src, data, bindings);
  const before = structuredClone({ data, bindings });
  const raw = fast(data, bindings);
  // Both sides cloned: structuredClone drops prototypes, which the comparison would otherwise count.
  if (!isDeepStrictEqual(structuredClone({ data, bindings }), before)) tally.mismatches.push(`${label}: the fast path mutated its input ${show(before)}`);
  tally.compared++;
  let result: 'answered' | 'bailed';
  if (raw === BAIL) {
    tally.bailed++;
    result = 'bailed';
  } else {
    tally.answered++;
    result = 'answered';
    const got: Outcome = { ok: true, value: raw };
    if (!same(got, ref)) tally.mismatches.push(`${label}\n    data ${show(data)} bindings ${show(bindings)}\n    fast ${show(got)}\n    jsonata ${show(ref)}`);
    if (!same(got, { ok: true, value: toPlain(raw) })) tally.mismatches.push(`${label}: the compiled result is not plain ${show(raw)} on ${show(data)}`);
    const shared = sharedObject(raw, [data, bindings]);
    if (shared) tally.mismatches.push(`${label}: the compiled result shares ${show(shared)} with its input ${show(data)}`);
  }
  const iface = await viaInterface(expr, data, bindings);
  if (!same(iface, ref)) tally.mismatches.push(`${label} (interface)\n    data ${show(data)} bindings ${show(bindings)}\n    got ${show(iface)}\n    jsonata ${show(ref)}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// (a) every expression of connectors/*.yaml, on the manifests' examples and generated variants
// ---------------------------------------------------------------------------------------------

interface ManifestExpression {
  id: string;
  expr: CompiledExpression;
  kind: 'body' | 'response' | 'errors' | 'verify' | 'webhook' | 'writeback' | 'connection' | 'records' | 'record' | 'next';
  capability?: string;
  stream?: string;
}

function manifestExpressions(c: Connector): ManifestExpression[] {
  const out: ManifestExpression[] = [];
  const add = (id: string, expr: CompiledExpression | undefined, kind: ManifestExpression['kind'], capability?: string, stream?: string) => {
    if (expr) out.push({ id: `${c.name}.${id}`, expr, kind, capability, stream });
  };
  for (const [name, cap] of c.capabilities) {
    add(`${name}.request.body`, cap.request?.bodyExpression, 'body', name);
    add(`${name}.smtp.message`, cap.smtp?.message, 'body', name);
    add(`${name}.response`, cap.response, 'response', name);
    for (const [k, e] of Object.entries(cap.errors)) add(`${name}.errors.${k}`, e, 'errors', name);
    add(`${name}.record.mapping`, cap.record?.mapping, 'writeback', name);
  }
  add('auth.connection', c.auth.connection, 'connection');
  for (const [name, st] of c.streams) {
    add(`streams.${name}.request.body`, st.request.bodyExpression, 'body');
    add(`streams.${name}.records`, st.records, 'records', undefined, name);
    add(`streams.${name}.mapping`, st.mapping, 'record', undefined, name);
    add(`streams.${name}.pagination.next`, st.pagination.next, 'next', undefined, name);
  }
  for (const [k, e] of Object.entries(c.errors)) add(`errors.${k}`, e, 'errors');
  if (c.verify) {
    add('verify.request.body', c.verify.request?.bodyExpression, 'body');
    add('verify.success', c.verify.success, 'verify');
  }
  const w = c.webhooks;
  if (w) {
    add('webhooks.handshake.when', w.handshake?.when, 'webhook');
    add('webhooks.handshake.response', w.handshake?.response, 'webhook');
    add('webhooks.event_id', w.eventId, 'webhook');
    add('webhooks.event_type', w.eventType, 'webhook');
    for (const [ev, def] of w.events) add(`webhooks.events.${ev}.data`, def.data, 'webhook');
  }
  return out;
}

type Root = 'data' | 'input' | 'status' | 'headers';
interface Ref {
  root: Root;
  names: string[];
}

/** The name paths an expression reads (from the document or from the bindings), and its literals. */
function analyse(ast: unknown): { refs: Ref[]; literals: unknown[] } {
  const refs: Ref[] = [];
  const literals: unknown[] = [];
  const seen = new Set<string>();
  const addRef = (root: Root, names: string[]) => {
    const key = `${root}:${names.join('\u0000')}`;
    if (!seen.has(key)) {
      seen.add(key);
      refs.push({ root, names });
    }
  };
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const node = n as { type?: string; value?: unknown; steps?: Array<{ type: string; value: unknown }> };
    if ((node.type === 'string' || node.type === 'number') && !literals.includes(node.value)) literals.push(node.value);
    if (node.type === 'variable' && ['input', 'status', 'headers'].includes(String(node.value))) addRef(node.value as Root, []);
    if (node.type === 'path' && node.steps?.length) {
      // The leading run of name steps (after a `$`, `$$`, `$input`, `$status` or `$headers` root).
      const steps = node.steps;
      let root: Root | undefined = 'data';
      let i = 0;
      if (steps[0].type === 'variable') {
        const v = String(steps[0].value);
        root = v === '' || v === '$' ? 'data' : ['input', 'status', 'headers'].includes(v) ? (v as Root) : undefined;
        i = 1;
      }
      const names: string[] = [];
      for (; i < steps.length && steps[i].type === 'name'; i++) names.push(String(steps[i].value));
      if (root && (names.length || root !== 'data')) addRef(root, names);
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'position') walk(v);
  };
  walk(ast);
  return { refs, literals };
}

const MISSING = Symbol('missing');

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Sets (or deletes, for MISSING) the value at `names` under `obj`, creating objects on the way; arrays on the way get it in every object member. */
function setAt(obj: unknown, names: string[], value: unknown): unknown {
  if (names.length === 0) return value === MISSING ? undefined : clone(value);
  if (Array.isArray(obj)) return obj.map((m) => (m && typeof m === 'object' ? setAt(m, names, value) : m));
  const base: Record<string, unknown> = obj && typeof obj === 'object' ? { ...(obj as Record<string, unknown>) } : {};
  const [head, ...rest] = names;
  if (rest.length === 0 && value === MISSING) delete base[head];
  else base[head] = setAt(base[head], rest, value);
  return base;
}

function getAt(obj: unknown, names: string[]): unknown {
  let cur = obj;
  for (const n of names) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[n];
  }
  return cur;
}

interface Case {
  data: unknown;
  bindings: Bindings;
}

/** The values a read field takes in the variants: absence, falsy values, type confusions, arrays and objects where scalars are expected. */
function leafVariants(literals: unknown[], orig: unknown): unknown[] {
  const vs: unknown[] = [
    MISSING, null, '', 0, -0, 1, 2000, -1.5, 0.1 + 0.2, 1e21, 1e-7, false, true, '0', '12', 'false', 'abc', ' ',
    '-0', '1.50', '1E3', '-2.5e-3', '1e400', '0x1F', '+1', ' 7', '.5',
    1700000000, 1700000000123, -86400, 253402300800, 9007199254740993, 1e300, -1e300, 0.5,
    [], [0], [''], [false, 0], ['a', 'b'], [[]], [null], [{}], {}, { a: 1 }, { _jsonata_lambda: true }, { then: 1 },
    ...literals,
    ...literals.filter((l) => typeof l === 'string').map((l) => [l]),
  ];
  if (orig !== undefined) vs.push([orig], [orig, orig], { value: orig });
  return vs;
}

function prefixVariants(orig: unknown): unknown[] {
  const vs: unknown[] = [MISSING, null, 'text', 3, 0, true, false, [], {}];
  if (orig !== undefined) vs.push([orig], [orig, orig], [null, orig]);
  return vs;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = { root: Root; names: string[]; value: unknown };

function applyMutation(c: Case, m: Mutation): Case {
  if (m.root === 'data') return { data: setAt(c.data, m.names, m.value), bindings: c.bindings };
  return { data: c.data, bindings: setAt(c.bindings ?? {}, [m.root, ...m.names], m.value) as Bindings };
}

function readAt(c: Case, root: Root, names: string[]): unknown {
  return root === 'data' ? getAt(c.data, names) : getAt(c.bindings, [root, ...names]);
}

/** Base inputs plus single and combined mutations of every path the expression reads. */
function generateCases(bases: Case[], ast: unknown, seed: number): Case[] {
  const { refs, literals } = analyse(ast);
  const out: Case[] = [];
  const keys = new Set<string>();
  const push = (c: Case) => {
    const key = show([c.data, c.bindings]);
    if (keys.has(key)) return;
    keys.add(key);
    out.push(c);
  };
  const rnd = mulberry32(seed);
  for (const base of bases) {
    push(base);
    // The document as a whole: absent, scalars, arrays (JSONata wraps an array document).
    for (const d of [undefined, null, 'text', 5, [], [base.data], {}]) push({ data: clone(d), bindings: base.bindings });
    const single: Mutation[] = [];
    for (const ref of refs) {
      const orig = readAt(base, ref.root, ref.names);
      for (const v of leafVariants(literals, orig)) single.push({ ...ref, value: v });
      for (let i = ref.root === 'data' ? 1 : 0; i < ref.names.length; i++) {
        const prefix = ref.names.slice(0, i);
        for (const v of prefixVariants(readAt(base, ref.root, prefix))) single.push({ root: ref.root, names: prefix, value: v });
      }
    }
    for (const m of single) push(applyMutation(base, m));
    // Combinations: several fields changed at once (e.g. status missing and amount a string).
    for (let k = 0; k < 60 && single.length > 1; k++) {
      let c = base;
      const n = 2 + Math.floor(rnd() * 3);
      for (let j = 0; j < n; j++) c = applyMutation(c, single[Math.floor(rnd() * single.length)]);
      push(c);
    }
  }
  return out;
}

/** Example-based inputs for one manifest expression. */
async function baseCases(c: Connector, me: ManifestExpression): Promise<Case[]> {
  const stream = me.stream ? c.streams.get(me.stream)! : undefined!;
  const bases: Case[] = [];
  const caps = [...c.capabilities.values()];
  const fakeCredentials = Object.fromEntries(Object.keys(c.credentialSchema).map((k) => [k, `${k}_value`]));
  const { refs } = analyse(jsonata(me.expr.source).ast());
  // A payload where every path the expression reads holds a string: the webhook case (no recorded payloads).
  let synthetic: unknown = {};
  for (const r of refs) if (r.root === 'data' && r.names.length) synthetic = setAt(synthetic, r.names, `${r.names[r.names.length - 1]}_value`);
  switch (me.kind) {
    case 'body':
      for (const cap of me.capability ? caps.filter((x) => x.name === me.capability) : []) {
        for (const ex of cap.examples) bases.push({ data: { input: ex.input, credentials: ex.credentials ?? fakeCredentials, integration: { id: 'int_1' } }, bindings: undefined });
      }
      if (!bases.length) bases.push({ data: { input: {}, credentials: fakeCredentials, integration: { id: 'int_1' } }, bindings: undefined });
      break;
    case 'response':
      for (const cap of caps.filter((x) => x.name === me.capability)) {
        for (const ex of cap.examples) bases.push({ data: ex.response.body, bindings: { input: ex.input, status: ex.response.status, headers: ex.response.headers ?? {} } });
      }
      break;
    case 'errors':
    case 'verify':
      for (const cap of caps) for (const ex of cap.examples) bases.push({ data: ex.response.body, bindings: me.kind === 'verify' ? { status: ex.response.status, headers: ex.response.headers ?? {} } : undefined });
      break;
    case 'writeback':
      for (const cap of caps.filter((x) => x.name === me.capability)) for (const ex of cap.examples) bases.push({ data: { input: ex.input, output: ex.output }, bindings: undefined });
      break;
    case 'records':
    case 'next':
      for (const ex of c.streams.get(me.stream!)!.examples) {
        const bindings = { status: ex.response.status, headers: ex.response.headers ?? {}, ...(me.kind === 'next' ? { url: 'https://api.example.com/list?page=2' } : {}) };
        bases.push({ data: ex.response.body, bindings });
      }
      break;
    case 'record':
      // The records the stream's own records expression finds in its recorded pages (JSONata's answer).
      for (const ex of stream.examples) {
        const found = toPlain(await jsonata(stream.records.source).evaluate(ex.response.body, { status: ex.response.status, headers: ex.response.headers ?? {} }));
        for (const r of (Array.isArray(found) ? found : found === undefined ? [] : [found]).slice(0, 3)) bases.push({ data: r, bindings: undefined });
      }
      break;
    case 'connection':
    case 'webhook':
      break;
  }
  const syntheticBindings: Record<ManifestExpression['kind'], Bindings> = {
    response: { input: {}, status: 200, headers: {} }, verify: { status: 200, headers: {} }, records: { status: 200, headers: {} }, next: { status: 200, headers: {}, url: 'https://api.example.com/x' },
    body: undefined, errors: undefined, webhook: undefined, writeback: undefined, connection: undefined, record: undefined,
  };
  bases.push({ data: synthetic, bindings: syntheticBindings[me.kind] });
  return bases;
}

describe('fast expressions: differential against JSONata', () => {
  const reg = loadConnectorDir(DEFAULT_CONNECTORS_DIR);
  const all = [...reg.connectors.values()].flatMap((c) => manifestExpressions(c).map((me) => ({ c, me })));

  it('loads the manifests and finds their expressions, every one of them', () => {
    expect(reg.issues).toEqual([]);
    expect(all.length).toBeGreaterThan(30);
    // Every compiled expression reachable from a connector is in the list above (a new place for
    // JSONata in manifests must be added there, with inputs of its own).
    const listed = new Set(all.map(({ me }) => me.expr));
    const missed: string[] = [];
    const seen = new Set<unknown>();
    const walk = (v: unknown, path: string): void => {
      if (!v || typeof v !== 'object' || seen.has(v)) return;
      seen.add(v);
      const e = v as Partial<CompiledExpression>;
      if (typeof e.source === 'string' && typeof e.evaluate === 'function' && typeof e.fast === 'boolean') {
        if (!listed.has(e as CompiledExpression)) missed.push(`${path}: ${e.source}`);
        return;
      }
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
      for (const [k, x] of entries) walk(x, `${path}.${String(k)}`);
    };
    for (const c of reg.connectors.values()) walk({ ...c, manifest: undefined }, c.name);
    expect(missed).toEqual([]);
  });

  it('(a) every manifest expression the fast path handles equals JSONata on examples and generated variants', async () => {
    const tally = newTally();
    const perExpression: string[] = [];
    const jsonataOnly: string[] = [];
    let seed = 1;
    for (const { c, me } of all) {
      const ast = jsonata(me.expr.source).ast();
      const fast = tryCompileFast(ast);
      expect(me.expr.fast, me.id).toBe(fast !== undefined);
      if (!fast) {
        jsonataOnly.push(me.id);
        continue;
      }
      const cases = generateCases(await baseCases(c, me), ast, seed++);
      const t = newTally();
      for (const k of cases) await compare(me.expr.source, k.data, k.bindings, t, me.id);
      // The examples themselves must be answered by the fast path, not merely survived by bailing.
      expect(t.answered, `${me.id}: the fast path never answered`).toBeGreaterThan(0);
      perExpression.push(`${me.id.padEnd(52)} ${String(t.compared).padStart(5)} inputs, ${String(t.answered).padStart(5)} answered fast, ${String(t.bailed).padStart(4)} bailed`);
      tally.compared += t.compared;
      tally.answered += t.answered;
      tally.bailed += t.bailed;
      tally.mismatches.push(...t.mismatches);
    }
    console.log(
      `manifest expressions: ${all.length}, fast: ${perExpression.length}, JSONata only: ${jsonataOnly.length}\n` +
        `  ${perExpression.join('\n  ')}\n` +
        `  total ${tally.compared} comparisons: ${tally.answered} answered by the fast path, ${tally.bailed} bailed to JSONata\n` +
        `  JSONata only: ${jsonataOnly.join(', ')}`,
    );
    expect(tally.mismatches.slice(0, 20)).toEqual([]);
    expect(tally.compared).toBeGreaterThan(5000);
  }, 300_000);

  // -------------------------------------------------------------------------------------------
  // (b) hand-written table: each construct's edge cases, with the value JSONata gives
  // -------------------------------------------------------------------------------------------

  /** ERROR: JSONata throws (the fast path must decline). `bails`: the fast path must decline this input. */
  const ERROR = Symbol('error');
  type Row = [data: unknown, expected: unknown, opts?: { bindings?: Bindings; bails?: true }];
  const table: Array<[expr: string, rows: Row[]]> = [
    // literals
    ['"abc"', [[{}, 'abc'], [undefined, 'abc']]],
    ['42', [[{}, 42]]],
    ['-1.5', [[{}, -1.5]]],
    ['true', [[{}, true]]],
    ['false', [[{}, false]]],
    ['null', [[{}, null]]],
    // paths
    ['a', [[{ a: 1 }, 1], [{}, undefined], [{ a: null }, null], [{ a: [1, 2] }, [1, 2]], [{ a: [] }, []], [{ a: { b: 1 } }, { b: 1 }], [undefined, undefined], ['text', undefined], [7, undefined], [[{ a: 1 }], 1, { bails: true }], [{ a: [1, [2, 3]] }, [1, [2, 3]]]]],
    ['a.b.c', [[{ a: { b: { c: 'x' } } }, 'x'], [{ a: { b: null } }, undefined], [{ a: 's' }, undefined], [{ a: { b: 0 } }, undefined], [{ a: [{ b: { c: 1 } }] }, 1, { bails: true }], [{ a: { b: [{ c: 1 }, { c: 2 }] } }, [1, 2], { bails: true }], [{ a: { b: { c: [] } } }, []], [{ a: { b: { c: [7] } } }, [7]]]],
    ['`x-y`.`a b`', [[{ 'x-y': { 'a b': 3 } }, 3], [{ 'x-y': {} }, undefined]]],
    // A plain document is read directly; others (a prototype of their own) by own properties only.
    ['a', [[Object.create({ a: 1 }), undefined], [Object.assign(Object.create({ a: 1 }), { a: 3 }), 3], [Object.assign(Object.create(null), { a: 2 }), 2]]],
    ['constructor', [[{}, undefined], [{ constructor: 'own' }, 'own'], [Object.create(null), undefined]]],
    ['__proto__', [[{}, undefined], [JSON.parse('{"__proto__": "own"}'), 'own']]],
    ['a.toString', [[{ a: {} }, undefined], [{ a: { toString: 'own' } }, 'own']]],
    ['$.a', [[{ a: 2 }, 2], [{}, undefined]]],
    ['$$.a.b', [[{ a: { b: true } }, true], [{ a: null }, undefined]]],
    ['$', [[{ a: 1 }, { a: 1 }], [undefined, undefined], ['s', 's'], [[1, 2], [1, 2], { bails: true }]]],
    ['$$', [[{ a: 1 }, { a: 1 }], [0, 0]]],
    ['$input.to', [[{}, 'x', { bindings: { input: { to: 'x' } } }], [{}, undefined], [{}, undefined, { bindings: { input: null } }], [{}, [1, 2], { bindings: { input: [{ to: 1 }, { to: 2 }] }, bails: true }]]],
    ['$input', [[{}, { a: 1 }, { bindings: { input: { a: 1 } } }], [{}, [1], { bindings: { input: [1] } }], [{}, undefined, { bindings: {} }]]],
    ['$status', [[{}, 200, { bindings: { status: 200 } }], [{}, undefined]]],
    ['$headers.`x-message-id`', [[{}, 'm1', { bindings: { headers: { 'x-message-id': 'm1' } } }], [{}, ['a', 'b'], { bindings: { headers: { 'x-message-id': ['a', 'b'] } } }], [{}, undefined, { bindings: { headers: {} } }]]],
    // object constructors
    ['{"a": a, "b": b}', [[{ a: 1 }, { a: 1 }], [{}, {}], [{ a: null, b: false }, { a: null, b: false }], [undefined, {}], ['text', {}], [{ a: [], b: {} }, { a: [], b: {} }], [[{ a: 1 }], { a: 1 }, { bails: true }]]],
    ['{"nested": {"x": a}, "lit": "v"}', [[{}, { nested: {}, lit: 'v' }], [{ a: 0 }, { nested: { x: 0 }, lit: 'v' }]]],
    ['{"2": a, "b": b, "1": c}', [[{ a: 'A', b: 'B', c: 'C' }, { 1: 'C', 2: 'A', b: 'B' }]]],
    ['{"k": a.b}', [[{ a: { b: [1, 2] } }, { k: [1, 2] }], [{ a: [{ b: 1 }] }, { k: 1 }, { bails: true }]]],
    ['{}', [[{}, {}]]],
    // array constructors
    ['[a, b]', [[{ a: 1, b: 2 }, [1, 2]], [{ a: 1 }, [1]], [{}, []], [{ a: [1, 2], b: 3 }, [1, 2, 3]], [{ a: [[1]], b: [] }, [[1]]], [{ a: { x: 1 } }, [{ x: 1 }]], [{ a: null }, [null]]]],
    ['[[a], b]', [[{ a: 1, b: [2, 3] }, [[1], 2, 3]], [{}, [[]]]]],
    ['[a ? [b]]', [[{ a: true, b: 1 }, [1]], [{ a: false, b: 1 }, []], [{ a: true, b: [1, 2] }, [1, 2]]]],
    ['["[", a]', [[{ a: [1, 2] }, ['[', 1, 2]]]],
    ['[]', [[{}, []]]],
    ['[null, false, ""]', [[{}, [null, false, '']]]],
    // = and !=
    ['a = 1', [[{ a: 1 }, true], [{ a: '1' }, false], [{}, false], [{ a: null }, false], [{ a: true }, false], [{ a: [1] }, false], [{ a: 1.0 }, true], [{ a: -0 }, false]]],
    ['a != 1', [[{}, false], [{ a: 2 }, true], [{ a: '1' }, true], [{ a: 1 }, false], [{ a: null }, true]]],
    ['a = b', [[{ a: null, b: null }, true], [{ a: 'x', b: 'x' }, true], [{ a: 0, b: false }, false], [{ a: 0, b: -0 }, true], [{}, false], [{ a: 1 }, false], [{ a: { x: 1 }, b: { x: 1 } }, true, { bails: true }], [{ a: [1], b: [1] }, true, { bails: true }], [{ a: { x: 1 }, b: 'x' }, false]]],
    ['a = null', [[{ a: null }, true], [{}, false], [{ a: 0 }, false]]],
    ['a != null', [[{ a: null }, false], [{}, false], [{ a: '' }, true]]],
    ['$status = 200', [[{}, true, { bindings: { status: 200 } }], [{}, false, { bindings: { status: '200' } }], [{}, false]]],
    // and / or
    ['a and b', [[{ a: 1, b: 'x' }, true], [{ a: 0, b: 1 }, false], [{ a: '', b: 1 }, false], [{ a: [0], b: 1 }, false], [{ a: [0, 1], b: 1 }, true], [{ a: {}, b: 1 }, false], [{ a: { x: 1 }, b: true }, true], [{}, false], [{ a: [], b: 1 }, false], [{ a: null, b: 1 }, false], [{ a: [[]], b: 1 }, false], [{ a: [null, ''], b: 1 }, false], [{ a: ['', 'x'], b: 1 }, true], [{ a: 'false', b: 'a' }, true], [{ a: true }, false]]],
    ['a or b', [[{}, false], [{ a: 0, b: '' }, false], [{ a: 0, b: ' ' }, true], [{ a: [0, 0], b: [[0]] }, false], [{ a: { k: null } }, true], [{ a: -0 }, false], [{ a: 1e-7 }, true]]],
    ['a and b or c', [[{ c: 1 }, true], [{ a: 1, b: 1 }, true], [{ a: 1 }, false]]],
    // conditionals
    ['a ? "y" : "n"', [[{ a: '' }, 'n'], [{ a: '0' }, 'y'], [{ a: 0 }, 'n'], [{ a: 0.5 }, 'y'], [{ a: [] }, 'n'], [{ a: {} }, 'n'], [{ a: [false] }, 'n'], [{ a: [0, 0] }, 'n'], [{ a: [0, 1] }, 'y'], [{ a: true }, 'y'], [{ a: false }, 'n'], [{ a: null }, 'n'], [{}, 'n'], [{ a: { b: 0 } }, 'y'], [{ a: [{}] }, 'n'], [{ a: [[1]] }, 'y']]],
    ['a ? b', [[{ a: false, b: 1 }, undefined], [{ a: true, b: 1 }, 1], [{ a: true }, undefined]]],
    ['{"k": a ? b, "j": 1}', [[{ a: false, b: 1 }, { j: 1 }], [{ a: 1, b: [1, 2] }, { k: [1, 2], j: 1 }]]],
    ['a ? b : c ? d : e', [[{ c: 1, d: 'D', e: 'E' }, 'D'], [{ e: 'E' }, 'E'], [{ a: 1, b: 'B' }, 'B']]],
    ['($exists(a) ? a : b)', [[{ a: null, b: 1 }, null], [{ b: 1 }, 1]]],
    // in
    ['a in ["x", "y"]', [[{ a: 'x' }, true], [{ a: 'z' }, false], [{}, false], [{ a: ['x'] }, false], [{ a: null }, false], [{ a: { x: 1 } }, false]]],
    ['a in [1, null, true]', [[{ a: 1 }, true], [{ a: '1' }, false], [{ a: null }, true], [{ a: true }, true], [{ a: 1.0 }, true], [{ a: false }, false]]],
    ['a in []', [[{ a: 1 }, false], [{}, false]]],
    ['status in ["queued", "sent"] ? status : "unknown"', [[{ status: 'sent' }, 'sent'], [{ status: 'SENT' }, 'unknown'], [{}, 'unknown'], [{ status: 0 }, 'unknown']]],
    // & (string concatenation)
    ['a & b', [[{ a: 'x', b: 'y' }, 'xy'], [{ a: 'x' }, 'x'], [{}, ''], [{ a: 1, b: 2 }, '12'], [{ a: 1.5 }, '1.5'], [{ a: 0.1 + 0.2 }, '0.3'], [{ a: 1e21 }, '1e+21'], [{ a: -0 }, '0'], [{ a: 1e-7 }, '1e-7'], [{ a: 123456789.12345678 }, '123456789.123457'], [{ a: true, b: false }, 'truefalse'], [{ a: null }, 'null'], [{ a: { x: 1 } }, '{"x":1}', { bails: true }], [{ a: [1, 2] }, '[1,2]', { bails: true }], [{ a: [] }, '[]', { bails: true }]]],
    ['"n:" & a & ":" & b', [[{ a: 'A', b: 7 }, 'n:A:7'], [{}, 'n::']]],
    ['$status & ""', [[{}, '200', { bindings: { status: 200 } }], [{}, '']]],
    ['"whatsapp:" & ($exists(x) ? x : y)', [[{ x: '+1' }, 'whatsapp:+1'], [{ y: '+2' }, 'whatsapp:+2'], [{}, 'whatsapp:']]],
    // $exists
    ['$exists(a)', [[{ a: null }, true], [{}, false], [{ a: false }, true], [{ a: [] }, true], [{ a: '' }, true], [{ a: {} }, true], [undefined, false]]],
    ['$exists(a.b)', [[{ a: null }, false], [{ a: { b: null } }, true], [{ a: [{ b: 1 }] }, true, { bails: true }], [{ a: [{ c: 1 }] }, false, { bails: true }]]],
    ['$exists(a) and a != null', [[{ a: null }, false], [{}, false], [{ a: '1' }, true]]],
    ['$exists($input.x)', [[{}, true, { bindings: { input: { x: 0 } } }], [{}, false, { bindings: { input: {} } }], [{}, false]]],
    ['$exists(a)', [[{ a: 1 }, ERROR, { bindings: { exists: 1 }, bails: true }]]],
    // $lookup
    ['$lookup({"a": "A", "b": "B"}, k)', [[{ k: 'a' }, 'A'], [{ k: 'z' }, undefined], [{ k: 'toString' }, undefined], [{ k: '__proto__' }, undefined], [{ k: 1 }, ERROR, { bails: true }]]],
    ['$lookup(o, "x")', [[{ o: { x: 1 } }, 1], [{ o: {} }, undefined], [{ o: { x: [1, 2] } }, [1, 2]], [{ o: [{ x: 1 }, { x: 2 }] }, [1, 2], { bails: true }], [{ o: { x: null } }, null]]],
    ['{"s": $lookup({"ok": "done", "wait": "pending"}, status), "p": status}', [[{ status: 'ok' }, { s: 'done', p: 'ok' }], [{ status: 'other' }, { p: 'other' }]]],
    // $number: what JSONata converts is answered; what it throws on (D3030, T0410) or converts otherwise (hex, octal, binary) bails
    ['$number(a)', [
      [{}, undefined], [undefined, undefined], [{ a: '12' }, 12], [{ a: '-0' }, -0], [{ a: -0 }, -0], [{ a: 0.5 }, 0.5], [{ a: '00012.50' }, 12.5], [{ a: '1E3' }, 1000],
      [{ a: '-2.5e-3' }, -0.0025], [{ a: '12345678901234567890' }, 12345678901234567000], [{ a: true }, 1], [{ a: false }, 0], [{ a: 1e21 }, 1e21],
      [{ a: null }, ERROR, { bails: true }], [{ a: 'abc' }, ERROR, { bails: true }], [{ a: '' }, ERROR, { bails: true }], [{ a: ' 12' }, ERROR, { bails: true }],
      [{ a: '12 ' }, ERROR, { bails: true }], [{ a: '1e400' }, ERROR, { bails: true }], [{ a: '+1' }, ERROR, { bails: true }], [{ a: '.5' }, ERROR, { bails: true }],
      [{ a: '1.' }, ERROR, { bails: true }], [{ a: 'Infinity' }, ERROR, { bails: true }], [{ a: 'NaN' }, ERROR, { bails: true }], [{ a: '0x1F' }, 31, { bails: true }],
      [{ a: '0b101' }, 5, { bails: true }], [{ a: '0x1g' }, NaN, { bails: true }], [{ a: [5] }, ERROR, { bails: true }], [{ a: ['5'] }, ERROR, { bails: true }],
      [{ a: [] }, ERROR, { bails: true }], [{ a: {} }, ERROR, { bails: true }], [{ a: { x: '1' } }, ERROR, { bails: true }], [{ a: '1' }, ERROR, { bindings: { number: 1 }, bails: true }],
    ]],
    ['$number("42")', [[{}, 42]]],
    ['$number(a.b)', [[{ a: { b: '7' } }, 7], [{ a: null }, undefined], [{ a: [{ b: '1' }] }, 1, { bails: true }]]],
    ['$number($input.n)', [[{}, 3, { bindings: { input: { n: '3' } } }], [{}, undefined, { bindings: { input: {} } }], [{}, ERROR, { bindings: { input: { n: 'x' } }, bails: true }]]],
    ['{"n": $number(a), "k": 1}', [[{}, { k: 1 }], [{ a: '3' }, { n: 3, k: 1 }], [{ a: 'three' }, ERROR, { bails: true }]]],
    ['$exists(n) and n != null ? $number(n) : null', [
      [{}, null], [{ n: null }, null], [{ n: '2' }, 2], [{ n: 3 }, 3], [{ n: true }, 1], [{ n: false }, 0], [{ n: '0' }, 0], [{ n: 'x' }, ERROR, { bails: true }],
      [{ n: [1] }, ERROR, { bails: true }], [{ n: [] }, ERROR, { bails: true }], [{ n: {} }, ERROR, { bails: true }], [{ n: '' }, ERROR, { bails: true }], ['text', null],
    ]],
    ['false and $number(a)', [[{ a: 'x' }, false], [{ a: '1' }, false]]],
    ['a ? $number(a) : "none"', [[{ a: '' }, 'none'], [{ a: 'x' }, ERROR, { bails: true }], [{ a: '5' }, 5]]],
    // $type: every JSON type answered; function-like values and paths through arrays bail
    ['$type(a)', [
      [{}, undefined], [undefined, undefined], ['text', undefined], [{ a: null }, 'null'], [{ a: '-0' }, 'string'], [{ a: -0 }, 'number'], [{ a: 1.5 }, 'number'], [{ a: -2e21 }, 'number'],
      [{ a: '' }, 'string'], [{ a: '12' }, 'string'], [{ a: true }, 'boolean'], [{ a: false }, 'boolean'], [{ a: [] }, 'array'], [{ a: [1] }, 'array'], [{ a: [[1]] }, 'array'],
      [{ a: [{ x: 1 }] }, 'array'], [{ a: {} }, 'object'], [{ a: { x: [1] } }, 'object'], [{ a: { _jsonata_lambda: true } }, ERROR, { bails: true }], [{ a: 's' }, ERROR, { bindings: { type: 1 }, bails: true }],
    ]],
    ['$type(a.b)', [[{ a: { b: 0 } }, 'number'], [{ a: 1 }, undefined], [{ a: [{ b: 1 }] }, 'number', { bails: true }], [{ a: { b: [1, 2] } }, 'array']]],
    ['$type($input.n)', [[{}, 'string', { bindings: { input: { n: 'x' } } }], [{}, undefined, { bindings: { input: {} } }], [{}, 'object', { bindings: { input: { n: {} } } }]]],
    ['[$type("s"), $type(1), $type(true), $type(null), $type({"k": 1}), $type([]), $type(a)]', [[{}, ['string', 'number', 'boolean', 'null', 'object', 'array']]]],
    ['$type(c) = "object" ? c.id : c', [[{ c: 'cus_1' }, 'cus_1'], [{ c: { id: 'cus_2' } }, 'cus_2'], [{ c: null }, null], [{}, undefined], [{ c: [] }, []], [{ c: {} }, undefined]]],
    // arithmetic: finite numbers only; undefined gives undefined; non-numbers are errors and non-finite results bail
    ['a * b', [
      [{ a: 2, b: 3 }, 6], [{ a: -1.5, b: 2 }, -3], [{ a: 0.1, b: 3 }, 0.1 * 3], [{ a: 0, b: -1 }, -0], [{ a: 2 }, undefined], [{ b: 2 }, undefined], [{}, undefined],
      [{ a: 9007199254740991, b: 2 }, 18014398509481982], [{ a: 1e300, b: 1e300 }, Infinity, { bails: true }], [{ a: '2', b: 1 }, ERROR, { bails: true }], [{ a: 2, b: '1' }, ERROR, { bails: true }],
      [{ a: null, b: 1 }, ERROR, { bails: true }], [{ a: true, b: 1 }, ERROR, { bails: true }], [{ a: [2], b: 1 }, ERROR, { bails: true }], [{ a: {}, b: 1 }, ERROR, { bails: true }],
      [{ a: '2' }, ERROR, { bails: true }], [{ b: null }, ERROR, { bails: true }], [{ a: [], b: 1 }, ERROR, { bails: true }],
    ]],
    ['a + b', [[{ a: 0.1, b: 0.2 }, 0.1 + 0.2], [{ a: -1, b: 1 }, 0], [{ a: 1e308, b: 1e308 }, Infinity, { bails: true }], [{ a: 'x', b: 'y' }, ERROR, { bails: true }], [{ a: 1 }, undefined]]],
    ['a - b', [[{ a: 1, b: 3 }, -2], [{ a: -0, b: 0 }, -0], [{ a: 0, b: 0 }, 0], [{ a: false, b: 0 }, ERROR, { bails: true }]]],
    ['a / b', [[{ a: 1, b: 4 }, 0.25], [{ a: -1, b: 3 }, -1 / 3], [{ a: 1, b: 0 }, Infinity, { bails: true }], [{ a: 0, b: 0 }, NaN, { bails: true }], [{ a: 0, b: -5 }, -0]]],
    ['a % b', [[{ a: 7, b: 3 }, 1], [{ a: -7, b: 3 }, -1], [{ a: 5.5, b: 2 }, 1.5], [{ a: 1, b: 0 }, NaN, { bails: true }]]],
    ['a * -1 + 100 / 4', [[{ a: 2 }, 23], [{}, undefined], [{ a: 'x' }, ERROR, { bails: true }]]],
    ['{"t": a * 1000, "k": 1}', [[{ a: 1.5 }, { t: 1500, k: 1 }], [{}, { k: 1 }], [{ a: '1' }, ERROR, { bails: true }]]],
    ['"n=" & (a + 1)', [[{ a: 1 }, 'n=2'], [{}, 'n='], [{ a: 0.1 }, 'n=1.1']]],
    // $fromMillis with one argument: UTC ISO 8601 with milliseconds for 1970..9999; other instants and non-numbers bail
    ['$fromMillis(a)', [
      [{}, undefined], [{ a: 0 }, '1970-01-01T00:00:00.000Z'], [{ a: -0 }, '1970-01-01T00:00:00.000Z'], [{ a: 1700000000123 }, '2023-11-14T22:13:20.123Z'], [{ a: 1.5 }, '1970-01-01T00:00:00.001Z'],
      [{ a: 951782400000 }, '2000-02-29T00:00:00.000Z'], [{ a: 253402300799999 }, '9999-12-31T23:59:59.999Z'], [{ a: 253402300800000 }, '0000-01-01T00:00:00.000Z', { bails: true }],
      [{ a: -1 }, '1969-12-31T23:59:59.999Z', { bails: true }], [{ a: 1e21 }, '0NaN-NaN-NaNTNaN:NaN:NaN.NaNZ', { bails: true }], [{ a: '1700000000000' }, ERROR, { bails: true }],
      [{ a: null }, ERROR, { bails: true }], [{ a: true }, ERROR, { bails: true }], [{ a: [0] }, ERROR, { bails: true }], [{ a: [] }, ERROR, { bails: true }], [{ a: {} }, ERROR, { bails: true }],
      [{ a: 0 }, ERROR, { bindings: { fromMillis: 1 }, bails: true }],
    ]],
    // $string with one argument: strings, finite numbers (15 significant digits, JSON exponents), booleans, null; arrays and objects bail
    ['$string(a)', [
      [{}, undefined], [undefined, undefined], [{ a: null }, 'null'], [{ a: 'x' }, 'x'], [{ a: '' }, ''], [{ a: -0 }, '0'], [{ a: 1.5 }, '1.5'], [{ a: 0.1 + 0.2 }, '0.3'], [{ a: 1e21 }, '1e+21'],
      [{ a: -1e-7 }, '-1e-7'], [{ a: 12345678901234567890 }, '12345678901234567000'], [{ a: 123.456789012345678 }, '123.456789012346'], [{ a: -42 }, '-42'], [{ a: true }, 'true'], [{ a: false }, 'false'],
      [{ a: [] }, '[]', { bails: true }], [{ a: [1] }, '[1]', { bails: true }], [{ a: {} }, '{}', { bails: true }], [{ a: { b: 0.1 + 0.2 } }, '{"b":0.3}', { bails: true }], [{ a: 1 }, ERROR, { bindings: { string: 1 }, bails: true }],
    ]],
    ['{"id": $string(id), "n": $string(n) & "!"}', [[{ id: 12, n: 0.5 }, { id: '12', n: '0.5!' }], [{}, { n: '!' }], [{ id: 'x', n: null }, { id: 'x', n: 'null!' }]]],
    // $uppercase / $lowercase: JavaScript's case mapping, as JSONata's; non-strings are errors and bail
    ['$uppercase(a)', [
      [{}, undefined], [{ a: 'abc' }, 'ABC'], [{ a: 'straße' }, 'STRASSE'], [{ a: 'ǆ' }, 'Ǆ'], [{ a: '' }, ''], [{ a: null }, ERROR, { bails: true }], [{ a: 1 }, ERROR, { bails: true }],
      [{ a: true }, ERROR, { bails: true }], [{ a: ['a'] }, ERROR, { bails: true }], [{ a: [] }, ERROR, { bails: true }], [{ a: {} }, ERROR, { bails: true }],
    ]],
    ['$lowercase(a)', [[{ a: 'ÀB İ' }, 'àb i̇'], [{ a: 'ΑΣ' }, 'ας'], [{}, undefined], [{ a: 7 }, ERROR, { bails: true }], [{ a: 'X' }, ERROR, { bindings: { lowercase: 1 }, bails: true }]]],
    ['$lowercase($string(a))', [[{ a: true }, 'true'], [{ a: 'AbC' }, 'abc'], [{}, undefined], [{ a: [1] }, '[1]', { bails: true }]]],
    ['$fromMillis(created * 1000)', [[{ created: 1700000000 }, '2023-11-14T22:13:20.000Z'], [{}, undefined], [{ created: '1700000000' }, ERROR, { bails: true }], [{ created: 1e12 }, '3658-09-27T01:46:40.000Z', { bails: true }], [{ created: 1e13 }, '0NaN-NaN-NaNTNaN:NaN:NaN.NaNZ', { bails: true }]]],
  ];

  it('(b) hand-written table: fast path equals JSONata, and both give the expected value', async () => {
    const tally = newTally();
    const wrong: string[] = [];
    for (const [src, rows] of table) {
      expect(tryCompileFast(jsonata(src).ast()), `${src} should be supported`).toBeDefined();
      expect(compileExpression(src).fast, src).toBe(true);
      for (const [data, expected, opts] of rows) {
        const bindings = opts?.bindings;
        const ref = await reference(src, data, bindings);
        const want: Outcome = expected === ERROR ? { ok: false, code: ref.ok ? 'expected an error' : ref.code } : { ok: true, value: expected };
        if (!same(ref, want)) wrong.push(`${src} on ${show(data)}: JSONata gives ${show(ref)}, the table says ${show(want)}`);
        const r = await compare(src, data, bindings, tally);
        const shouldBail = opts?.bails === true;
        if ((r === 'bailed') !== shouldBail) wrong.push(`${src} on ${show(data)} ${show(bindings)}: the fast path ${r}, expected it to ${shouldBail ? 'bail' : 'answer'}`);
      }
    }
    console.log(`hand-written table: ${table.length} expressions, ${tally.compared} comparisons, ${tally.answered} answered fast, ${tally.bailed} bailed`);
    expect(wrong).toEqual([]);
    expect(tally.mismatches).toEqual([]);
    expect(table.length).toBeGreaterThanOrEqual(55);
  });

  // -------------------------------------------------------------------------------------------
  // (b2) manifest text never becomes code: keys, names and strings that would break out of a
  // JavaScript string literal or property access are printed escaped (JSON.stringify)
  // -------------------------------------------------------------------------------------------

  const BREAK = '"); globalThis.__plugboardPwned = 1; ("';
  const BREAK_SINGLE = "'); globalThis.__plugboardPwned = 1; ('";
  const nasty = [BREAK, BREAK_SINGLE, '`${globalThis.__plugboardPwned = 1}`', '\\', '\u2028\u2029', '</script>', '] = 1; globalThis.__plugboardPwned = 1; //', 'constructor', 'hasOwnProperty', 'toString', '0', '-1', ''];
  /** A JSONata string literal for `s` (JSONata strings take JSON escapes). */
  const jstr = (s: string) => JSON.stringify(s);

  it('(b) a polluted Object.prototype does not leak into a compiled read (JSONata reads own keys only)', async () => {
    const e = compileExpression('{ "v": polluted, "id": id }');
    expect(e.fast).toBe(true);
    (Object.prototype as Record<string, unknown>).polluted = 'from the prototype';
    try {
      expect(await e.evaluate({ id: 1 })).toEqual({ id: 1 });
      expect(await e.evaluate({ id: 2, polluted: 'own' })).toEqual({ v: 'own', id: 2 });
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(await e.evaluate({ id: 3 })).toEqual({ id: 3 });
  });

  it('(b2) keys, names and string literals from the manifest are data, never code', async () => {
    const tally = newTally();
    const sources: string[] = [];
    for (const k of nasty) {
      const name = k.includes('`') ? undefined : '`' + k + '`';
      sources.push(`{${jstr(k)}: a, "lit": ${jstr(k)}}`, `${jstr(k)} & a`, `a = ${jstr(k)}`, `a in [${jstr(k)}, "x"]`, `$lookup({${jstr(k)}: ${jstr(k)}, "b": 1}, a)`, `$lookup(o, ${jstr(k)})`);
      if (name) sources.push(name, `o.${name}`, `{"v": o.${name}.x}`, `$exists(${name})`);
    }
    for (const src of sources) {
      expect(fastSource(jsonata(src).ast()), src).toBeDefined();
      for (const k of nasty) {
        for (const data of [{ a: k, o: { [k]: k } }, { [k]: { x: k }, o: { [k]: { x: [k] } }, a: 'x' }, { a: 1 }, {}]) await compare(src, data, undefined, tally);
      }
    }
    expect(tally.mismatches.slice(0, 10)).toEqual([]);
    expect(tally.answered).toBeGreaterThan(sources.length);
    expect((globalThis as { __plugboardPwned?: unknown }).__plugboardPwned).toBeUndefined();
  });

  it('(b2) the generated source is one function over constants and escaped literals', () => {
    const src = fastSource(jsonata(`{${jstr(BREAK)}: \`${BREAK}\`, "s": $lookup({"a": "b"}, k)}`).ast())!;
    expect(src).toContain(JSON.stringify(BREAK));
    // The payload appears only inside JSON.stringify'd literals: removing those leaves no trace of it.
    expect(src.replaceAll(JSON.stringify(BREAK), '""')).not.toContain('__plugboardPwned');
    // Lookup tables are constants handed in, not printed.
    expect(src).toMatch(/const k0 = K\[0\];/);
  });

  const unsupported = [
    '-a', 'a < b', 'a.b[0]', 'a[0]', 'a[b = 1]', 'a[]', '*.a', '**.a', 'a.*', 'a.b.%', '$string(a, true)', '$string()', '$number()', '$number(a, b)', '$uppercase()', '$lowercase(a, b)', '$fromMillis(a, "[Y]")', '$fromMillis(a, undefined, "+0100")', '$fromMillis()', '$type()', '$type(a, b)', 'a + b[0]', 'a.(b * 2)', 'a.{ "x": $ }',
    '$x := 1', '($a := 1; $a)', '(a; b)', '{"a": 1, "a": 2}', '{a: 1}', '{"__proto__": 1}', '{"_jsonata_lambda": 1}', '$foo', '$foo.a', 'a.$', 'a.$.b',
    '[1..3]', '$lookup(a)', '$exists(a, b)', '$exists()', 'a ~> $uppercase()', 'a in b', 'a in [b]', 'a in "x"', '$$.a[0]', 'a{b: c}', 'a^(b)',
    'a.b.(c)', '"x" & a.b[0]', '{"k": a.b[0]}', '$lookup(a, "k").b[0]', 'a @ $x', 'a # $i',
  ];

  it.each(unsupported)('leaves %s to JSONata entirely', async (src) => {
    expect(tryCompileFast(jsonata(src).ast())).toBeUndefined();
    const compiled = compileExpression(src);
    expect(compiled.fast).toBe(false);
    for (const data of [{ a: { b: [{ c: 1 }] }, b: 2, x: 'y' }, {}]) {
      expect(await viaInterface(compiled, data, undefined)).toEqual(await reference(src, data, undefined));
    }
  });

  // -------------------------------------------------------------------------------------------
  // (c) the hot manifest expressions take the fast path
  // -------------------------------------------------------------------------------------------

  it('(c) the Stripe payment response mapping and the Twilio SMS body and response take the fast path', async () => {
    const stripe = reg.connectors.get('stripe')!.capabilities.get('initiate_payment')!;
    const twilio = reg.connectors.get('twilio')!.capabilities.get('send_sms')!;
    expect(stripe.response.fast).toBe(true);
    expect(twilio.request!.bodyExpression!.fast).toBe(true);
    // ... and answer their recorded examples without falling back.
    const ex = stripe.examples[0];
    const f = tryCompileFast(jsonata(stripe.response.source).ast())!;
    const raw = f(ex.response.body, { input: ex.input, status: ex.response.status, headers: ex.response.headers ?? {} });
    expect(raw).not.toBe(BAIL);
    expect(toPlain(raw)).toEqual(ex.output);
    const tex = twilio.examples[0];
    const g = tryCompileFast(jsonata(twilio.request!.bodyExpression!.source).ast())!;
    const body = g({ input: tex.input, credentials: tex.credentials, integration: {} }, undefined);
    expect(body).not.toBe(BAIL);
    expect(toPlain(body)).toEqual({ To: '+14155550123', From: '+15005550006', Body: 'Your code is 123456' });
    // The SMS response mapping (`in`, `and`, `!=`, `$number`): every recorded example answered fast.
    expect(twilio.response.fast).toBe(true);
    const h = tryCompileFast(jsonata(twilio.response.source).ast())!;
    const answered = twilio.examples.filter((ex) => ex.output !== undefined);
    expect(answered.length).toBeGreaterThan(1);
    for (const ex of answered) {
      const out = h(ex.response.body, { input: ex.input, status: ex.response.status, headers: ex.response.headers ?? {} });
      expect(out).not.toBe(BAIL);
      expect(out).toEqual(ex.output);
    }
  });

  it('(c) the Stripe sync stream mappings ($type, $fromMillis, `*`) take the fast path on their recorded records', async () => {
    const stripe = reg.connectors.get('stripe')!;
    for (const name of ['charges', 'payment_intents']) {
      const st = stripe.streams.get(name)!;
      const mapping = st.mapping!;
      expect(mapping.fast, name).toBe(true);
      const f = tryCompileFast(jsonata(mapping.source).ast())!;
      let answered = 0;
      for (const ex of st.examples) {
        const found = toPlain(await jsonata(st.records.source).evaluate(ex.response.body, { status: ex.response.status, headers: ex.response.headers ?? {} }));
        for (const r of Array.isArray(found) ? found : found === undefined ? [] : [found]) {
          const out = f(r, undefined);
          expect(out).not.toBe(BAIL);
          expect(out).toEqual(toPlain(await jsonata(mapping.source).evaluate(r)));
          expect(typeof (out as { created_at?: unknown }).created_at).toBe('string');
          answered++;
        }
      }
      expect(answered, name).toBeGreaterThan(0);
    }
  });

  it('(d) where code generation is disallowed, expressions are left to JSONata, with the same results', () => {
    const module = fileURLToPath(new URL('../../runtime/lang/expressions.ts', import.meta.url));
    const script = `const { compileExpression } = await import(${JSON.stringify(module)});
      const e = compileExpression('{"a": x & "!", "s": $lookup({"k": "v"}, k)}');
      console.log(JSON.stringify({ fast: e.fast, value: await e.evaluate({ x: 1, k: 'k' }) }));`;
    const run = (flags: string[]) => {
      const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    expect(run(['--disallow-code-generation-from-strings'])).toEqual({ fast: false, value: { a: '1!', s: 'v' } });
    expect(run([])).toEqual({ fast: true, value: { a: '1!', s: 'v' } });
  }, 120_000);
});
