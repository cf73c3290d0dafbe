// The mapping evaluator behind one small interface: compile an expression once when a manifest
// loads, evaluate it many times. JSONata is the reference implementation; a faster evaluator can
// replace it for the expressions it supports without touching manifests.
import jsonata from 'jsonata';

export interface CompiledExpression {
  readonly source: string;
  evaluate(data: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  /** Top-level paths the expression reads, as name lists (`credentials.api_key` -> ['credentials','api_key']). */
  readonly paths: string[][];
}

export class ExpressionSyntaxError extends Error {
  constructor(message: string, readonly position: number | undefined) {
    super(message);
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
  collectPaths(expr.ast(), paths);
  return {
    source,
    paths,
    async evaluate(data, bindings) {
      return toPlain(await expr.evaluate(data, bindings));
    },
  };
}

/** JSONata returns sequences (arrays with extra flags) and may leave undefined members; normalise to plain JSON values. */
export function toPlain(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(toPlain).filter((v) => v !== undefined);
  if (value && typeof value === 'object') {
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = toPlain(v);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  if (typeof value === 'function') return undefined;
  return value;
}
