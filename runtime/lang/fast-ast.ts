// Shape checks of jsonata's AST for the fast evaluator: a node outside the supported subset (an
// unknown type or annotation) abandons compilation, and JSONata evaluates the whole expression.

export interface Node {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

export type Bindings = Record<string, unknown> | undefined;
/** A compiled node: evaluated against the input document and the bindings of one call. */
export type Eval = (data: unknown, bindings: Bindings) => unknown;

/** Thrown inside the compiler only, to abandon compilation. */
export class Unsupported extends Error {}

export function unsupported(): never {
  throw new Unsupported();
}

/** Node must have exactly these keys (`position` aside): unknown annotations (predicate, stages, group, keepArray, focus, ...) mean unsupported. */
export function onlyKeys(node: Node, allowed: readonly string[]): void {
  for (const k of Object.keys(node)) if (k !== 'position' && !allowed.includes(k)) unsupported();
}

export function asNode(v: unknown): Node {
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as Node).type !== 'string') unsupported();
  return v as Node;
}

export function literalValue(node: Node): { ok: true; value: unknown } | { ok: false } {
  if (node.type === 'string' && typeof node.value === 'string') return { ok: true, value: node.value };
  if (node.type === 'number' && typeof node.value === 'number') return { ok: true, value: node.value };
  if (node.type === 'value' && (node.value === true || node.value === false || node.value === null)) return { ok: true, value: node.value };
  return { ok: false };
}
