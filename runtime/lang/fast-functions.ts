// The built-in functions the fast evaluator implements ($exists, $lookup), with jsonata's
// signatures and semantics; any other function leaves the expression to JSONata.
import { BAIL, hasOwn, isEnumerable, isWeird } from './fast-values.ts';
import { asNode, onlyKeys, unsupported, type Bindings, type Eval, type Node } from './fast-ast.ts';

/** The built-in functions the subset implements. A binding of the same name would shadow them. */
const FUNCTIONS = new Set(['exists', 'lookup']);

export function compileFunction(node: Node, compileNode: (node: Node) => Eval): Eval {
  onlyKeys(node, ['type', 'name', 'value', 'arguments', 'procedure']);
  if (node.name !== undefined) unsupported(); // the parser copies an (absent) name onto function nodes
  const proc = asNode(node.procedure);
  onlyKeys(proc, ['type', 'value']);
  if (node.value !== '(' || proc.type !== 'variable' || typeof proc.value !== 'string' || !FUNCTIONS.has(proc.value)) unsupported();
  const args = node.arguments;
  if (!Array.isArray(args)) unsupported();
  const name = proc.value;
  const shadowed = (b: Bindings) => b != null && isEnumerable.call(b, name);
  if (name === 'exists') {
    // fn.exists, signature <x:b>: false only for undefined.
    if (args.length !== 1) unsupported();
    const arg = compileNode(asNode(args[0]));
    return (d, b) => {
      if (shadowed(b)) return BAIL;
      const v = arg(d, b);
      if (v === BAIL) return BAIL;
      return v !== undefined;
    };
  }
  // fn.lookup, signature <x-s:x>: own property of an object. A missing object argument would be
  // replaced by the context (the `-` in the signature), a non-string key fails validation, an array
  // maps the lookup: all BAIL. A primitive or null object argument also BAIL (not worth modelling).
  if (args.length !== 2) unsupported();
  const obj = compileNode(asNode(args[0]));
  const key = compileNode(asNode(args[1]));
  return (d, b) => {
    if (shadowed(b)) return BAIL;
    const o = obj(d, b);
    if (o === BAIL) return BAIL;
    const k = key(d, b);
    if (k === BAIL) return BAIL;
    if (typeof k !== 'string' || o === null || typeof o !== 'object' || Array.isArray(o) || isWeird(o)) return BAIL;
    if (!hasOwn.call(o, k)) return undefined;
    const v = (o as Record<string, unknown>)[k];
    // applyInner awaits a promise-like result and steps an iterator-like one: not modelled.
    if (v !== null && typeof v === 'object' && (typeof (v as { then?: unknown }).then === 'function' || typeof (v as { next?: unknown }).next === 'function')) return BAIL;
    return isWeird(v) ? BAIL : v;
  };
}
