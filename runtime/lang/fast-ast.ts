// Shape checks of jsonata's AST for the fast compiler: a node outside the supported subset (an
// unknown type or annotation) abandons compilation, and JSONata evaluates the whole expression.

export interface Node {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

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

/** The keys and value nodes of an object constructor, checked: literal string keys, none jsonata rejects. */
export function objectPairs(node: Node): Array<[string, Node]> {
  onlyKeys(node, ['type', 'value', 'lhs']);
  const pairs = node.lhs;
  if (!Array.isArray(pairs)) unsupported();
  const out: Array<[string, Node]> = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) unsupported();
    const keyNode = asNode(pair[0]);
    onlyKeys(keyNode, ['type', 'value']);
    if (keyNode.type !== 'string' || typeof keyNode.value !== 'string') unsupported();
    const k = keyNode.value;
    // Duplicates (D1009), _jsonata_* flags (D1013), and `__proto__` (a plain object would treat it as the prototype).
    if (out.some(([x]) => x === k) || k === '_jsonata_lambda' || k === '_jsonata_function' || k === '__proto__') unsupported();
    out.push([k, asNode(pair[1])]);
  }
  return out;
}
