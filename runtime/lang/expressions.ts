// The mapping evaluator behind one small interface: compile an expression once when a manifest
// loads, evaluate it many times. JSONata is the reference implementation; a faster evaluator can
// replace it for the expressions it supports without touching manifests.
import jsonata from 'jsonata';
import { BAIL, tryCompileFast } from './fast-expressions.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface CompiledExpression {
  readonly source: string;
  evaluate(data: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  /** Top-level paths the expression reads, as name lists (`credentials.api_key` -> ['credentials','api_key']). */
  readonly paths: string[][];
  /**
   * True when the whole expression lies in the subset the fast evaluator supports (fast-expressions.ts);
   * it still defers to JSONata, per call, for data outside what it models.
   */
  readonly fast: boolean;
}

export class ExpressionSyntaxError extends PlugboardError {
  constructor(message: string, readonly position: number | undefined) {
    super('validation', message, { code: 'expression_syntax' });
  }
}

interface JsonataNode {
  type: string;
  value?: unknown;
  steps?: JsonataNode[];
  [key: string]: unknown;
}

/** Collects paths made only of name steps, e.g. `credentials.api_key`, wherever they appear. */
function collectPaths(node: unknown, out: string[][]): void {
  if (Array.isArray(node)) {
    for (const n of node) collectPaths(n, out);
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
    if (names.length) out.push(names);
  }
  for (const [key, value] of Object.entries(n)) {
    if (key === 'position' || key === 'value' && typeof value !== 'object') continue;
    if (value && typeof value === 'object') collectPaths(value, out);
  }
}

export function compileExpression(source: string): CompiledExpression {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source);
  } catch (err) {
    const e = err as { message?: string; position?: number; token?: string };
    throw new ExpressionSyntaxError(`JSONata syntax error: ${e.message ?? String(err)}`, e.position);
  }
  const paths: string[][] = [];
  const ast = expr.ast();
  collectPaths(ast, paths);
  const fastFn = tryCompileFast(ast);
  if (!fastFn) {
    return {
      source,
      paths,
      fast: false,
      async evaluate(data, bindings) {
        return toPlain(await expr.evaluate(data, bindings));
      },
    };
  }
  return {
    source,
    paths,
    fast: true,
    async evaluate(data, bindings) {
      const result = fastFn(data, bindings);
      if (result !== BAIL) return toPlain(result);
      return toPlain(await expr.evaluate(data, bindings));
    },
  };
}

/** JSONata returns sequences (arrays with extra flags) and may leave undefined members; normalise to plain JSON values. */
export function toPlain(value: unknown): unknown {
  if (value === undefined) return undefined;
  // Plain loops rather than map/filter and Object.entries: the same result (own enumerable keys, in
  // order; undefined members and holes dropped) without the intermediate arrays, on the hot path of
  // every mapping.
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const p = toPlain(v);
      if (p !== undefined) out.push(p);
    }
    return out;
  }
  if (value && typeof value === 'object') {
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const p = toPlain((value as Record<string, unknown>)[k]);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  if (typeof value === 'function') return undefined;
  return value;
}
