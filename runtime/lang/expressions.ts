// The mapping evaluator behind one small interface: compile an expression once when a manifest
// loads, evaluate it many times. JSONata is the reference implementation; a faster evaluator can
// replace it for the expressions it supports without touching manifests.
import jsonata from 'jsonata';
import { BAIL, tryCompileFast } from './fast-expressions.ts';
import { toPlain } from './fast-values.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { MANIFEST_FUNCTIONS } from './functions.ts';

/** JSONata's built-in functions (jsonata 2.x), plus $now and $millis bound per evaluation. */
export const JSONATA_FUNCTIONS: readonly string[] = [
  'sum', 'count', 'max', 'min', 'average', 'string', 'substring', 'substringBefore', 'substringAfter', 'lowercase', 'uppercase', 'length', 'trim', 'pad',
  'match', 'contains', 'replace', 'split', 'join', 'formatNumber', 'formatBase', 'formatInteger', 'parseInteger', 'number', 'floor', 'ceil', 'round', 'abs',
  'sqrt', 'power', 'random', 'boolean', 'not', 'map', 'zip', 'filter', 'single', 'reduce', 'sift', 'keys', 'lookup', 'append', 'exists', 'spread', 'merge',
  'reverse', 'each', 'error', 'assert', 'type', 'sort', 'shuffle', 'distinct', 'base64encode', 'base64decode', 'encodeUrlComponent', 'encodeUrl',
  'decodeUrlComponent', 'decodeUrl', 'eval', 'toMillis', 'fromMillis', 'clone', 'now', 'millis',
];

/** Every function a manifest expression may call: JSONata's and the runtime's own ($minorToDecimal, ...). */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([...JSONATA_FUNCTIONS, ...MANIFEST_FUNCTIONS.map((f) => f.name)]);

export interface CompiledExpression {
  readonly source: string;
  evaluate(data: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  /** Paths the expression reads, as name lists (`credentials.api_key` -> ['credentials','api_key']), with the 0-based offset where each starts. */
  readonly refs: ReadonlyArray<{ path: string[]; offset: number }>;
  /** Functions it calls that it does not define itself (`$f := function...`, lambda parameters), with offsets of their `$`. */
  readonly calls: ReadonlyArray<{ name: string; offset: number }>;
  /**
   * True when the whole expression lies in the subset the fast compiler turns into JavaScript
   * (fast-expressions.ts); it still defers to JSONata, per call, for data outside what it models.
   */
  readonly fast: boolean;
}

export class ExpressionSyntaxError extends PlugboardError {
  /** `offset`: 0-based index in the source where the offending token starts, when JSONata says. */
  constructor(message: string, readonly offset: number | undefined) {
    super('validation', message, { code: 'expression_syntax' });
  }
}

interface JsonataNode {
  type: string;
  value?: unknown;
  steps?: JsonataNode[];
  [key: string]: unknown;
}

interface Collected {
  refs: Array<{ path: string[]; offset: number }>;
  calls: Array<{ name: string; offset: number }>;
  /** Variables the expression binds itself ($x := ..., lambda parameters). */
  bound: Set<string>;
}

/** JSONata positions point just past a token; the start is the position minus the token's length. */
function startOf(position: unknown, token: string): number {
  return typeof position === 'number' ? Math.max(0, position - token.length) : 0;
}

/** Collects paths made only of name steps (e.g. `credentials.api_key`) and function calls, wherever they appear. */
function collect(node: unknown, out: Collected): void {
  if (Array.isArray(node)) {
    for (const n of node) collect(n, out);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const n = node as JsonataNode;
  if (n.type === 'path' && Array.isArray(n.steps)) {
    const names: string[] = [];
    for (const step of n.steps) {
      if (step.type !== 'name') break;
      names.push(String(step.value));
    }
    if (names.length) out.refs.push({ path: names, offset: startOf(n.steps[0].position, names[0]) });
  }
  const proc = n['procedure'] as JsonataNode | undefined;
  if ((n.type === 'function' || n.type === 'partial') && proc?.type === 'variable' && typeof proc.value === 'string' && proc.value !== '') {
    out.calls.push({ name: proc.value, offset: startOf(proc.position, `$${proc.value}`) });
  }
  const lhs = n['lhs'] as JsonataNode | undefined;
  if (n.type === 'bind' && lhs?.type === 'variable') out.bound.add(String(lhs.value));
  if (n.type === 'lambda' && Array.isArray(n['arguments'])) for (const a of n['arguments'] as JsonataNode[]) out.bound.add(String(a.value));
  for (const [key, value] of Object.entries(n)) {
    if (key === 'position' || key === 'value' && typeof value !== 'object') continue;
    if (value && typeof value === 'object') collect(value, out);
  }
}

export function compileExpression(source: string): CompiledExpression {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source);
  } catch (err) {
    const e = err as { message?: string; position?: number; token?: unknown };
    const offset = e.position === undefined ? undefined : e.token === undefined || e.token === '(end)' ? Math.max(0, e.position - (e.token === undefined ? 1 : 0)) : startOf(e.position, String(e.token));
    throw new ExpressionSyntaxError(`JSONata syntax error: ${e.message ?? String(err)}`, offset);
  }
  for (const f of MANIFEST_FUNCTIONS) expr.registerFunction(f.name, f.implementation, f.signature);
  const ast = expr.ast();
  const found: Collected = { refs: [], calls: [], bound: new Set() };
  collect(ast, found);
  const refs = found.refs;
  const calls = found.calls.filter((c) => !found.bound.has(c.name));
  const fastFn = tryCompileFast(ast);
  if (!fastFn) {
    return {
      source,
      refs,
      calls,
      fast: false,
      async evaluate(data, bindings) {
        return toPlain(await expr.evaluate(data, bindings));
      },
    };
  }
  return {
    source,
    refs,
    calls,
    fast: true,
    async evaluate(data, bindings) {
      const result = fastFn(data, bindings);
      if (result !== BAIL) return result; // already plain
      return toPlain(await expr.evaluate(data, bindings));
    },
  };
}

/**
 * An expression already known to compile (its manifest loaded without a problem before: the cache of
 * valid manifests): parsed on first use instead of at start.
 */
export function deferredExpression(source: string): CompiledExpression {
  let compiled: CompiledExpression | undefined;
  const get = () => (compiled ??= compileExpression(source));
  return {
    source,
    get refs() { return get().refs; },
    get calls() { return get().calls; },
    get fast() { return get().fast; },
    evaluate: (data, bindings) => get().evaluate(data, bindings),
  };
}

/** JSONata returns sequences (arrays with extra flags) and may leave undefined members; normalised to plain JSON values (fast-values.ts). */
export { toPlain };
