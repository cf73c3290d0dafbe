// The built-in functions the fast compiler implements ($exists, $lookup, $number, $type, $fromMillis,
// $string, $uppercase, $lowercase, each with one argument but $lookup), with jsonata's
// signatures and semantics; any other function leaves the expression to JSONata.
import { asNode, literalValue, objectPairs, onlyKeys, unsupported, type Node } from './fast-ast.ts';
import { literal, type Emitter, type Out } from './fast-emit.ts';

/** The built-in functions the subset implements. A binding of the same name would shadow them. */
const FUNCTIONS = new Set(['exists', 'lookup', 'number', 'type', 'fromMillis', 'string', 'uppercase', 'lowercase']);

/** One-argument functions whose value helper (fast-values.ts) returns BAIL where JSONata would throw or is not modelled. */
const UNARY_HELPERS: Record<string, string> = { number: 'toNumber', type: 'typeOf', fromMillis: 'fromMillis', string: 'stringOf', uppercase: 'uppercase', lowercase: 'lowercase' };

type CompileNode = (node: Node, em: Emitter) => Out;

export function compileFunction(node: Node, em: Emitter, compileNode: CompileNode): Out {
  onlyKeys(node, ['type', 'name', 'value', 'arguments', 'procedure']);
  if (node.name !== undefined) unsupported(); // the parser copies an (absent) name onto function nodes
  const proc = asNode(node.procedure);
  onlyKeys(proc, ['type', 'value']);
  if (node.value !== '(' || proc.type !== 'variable' || typeof proc.value !== 'string' || !FUNCTIONS.has(proc.value)) unsupported();
  const args = node.arguments;
  if (!Array.isArray(args)) unsupported();
  // A binding named like the function would be called instead: the generated function bails on entry.
  em.shadowedBy(proc.value);
  if (proc.value === 'exists') {
    // fn.exists, signature <x:b>: false only for undefined.
    if (args.length !== 1) unsupported();
    const arg = compileNode(asNode(args[0]), em);
    if (arg.kind === 'bool' || arg.kind === 'str') return { code: 'true', kind: 'bool' };
    const t = em.temp();
    em.line(`${t} = ${arg.code} !== undefined;`);
    return { code: t, kind: 'bool' };
  }
  const helper = UNARY_HELPERS[proc.value];
  if (helper !== undefined) {
    // fn.number <(nsb)-:n>, fn.type <x:s>, fn.fromMillis <n-s?s?:s>, fn.string <x-b?:s>, fn.uppercase
    // and fn.lowercase <s-:s>: exactly one argument (none would take the context; a picture,
    // timezone or prettify flag is not modelled). Where JSONata would throw
    // (D3030, T0410, ...) or its result is not modelled, the helper gives BAIL. `helper` is a
    // name from the table above, never manifest text.
    if (args.length !== 1) unsupported();
    const arg = compileNode(asNode(args[0]), em);
    const t = em.temp();
    em.line(`${t} = ${helper}(${arg.code});`);
    em.line(`if (${t} === BAIL) return BAIL;`);
    return { code: t, kind: 'plain' };
  }
  if (args.length !== 2) unsupported();
  return compileLookup(asNode(args[0]), asNode(args[1]), em, compileNode);
}

/**
 * A constant object constructor with literal values only (a table such as Stripe's status map):
 * built once, as an object without prototype holding the same own keys. Undefined otherwise.
 */
function literalTable(node: Node): Record<string, unknown> | undefined {
  if (node.type !== 'unary' || node.value !== '{') return undefined;
  const table = Object.create(null) as Record<string, unknown>;
  for (const [k, valueNode] of objectPairs(node)) {
    const lit = literalValue(valueNode);
    if (!lit.ok) return undefined;
    onlyKeys(valueNode, ['type', 'value']);
    literal(lit.value); // a value the emitter can print (finite numbers): the same subset as elsewhere
    table[k] = lit.value;
  }
  return table;
}

/**
 * fn.lookup, signature <x-s:x>: own property of an object. A missing object argument would be
 * replaced by the context (the `-` in the signature), a non-string key fails validation, an array
 * maps the lookup: all BAIL. A primitive or null object argument also BAIL (not worth modelling).
 */
function compileLookup(objNode: Node, keyNode: Node, em: Emitter, compileNode: CompileNode): Out {
  const table = literalTable(objNode);
  if (table) {
    // The object argument is a fresh object of literals: its own keys are the table's, its values primitives.
    const k = compileNode(keyNode, em);
    if (k.kind !== 'str') em.line(`if (typeof ${k.code} !== 'string') return BAIL;`);
    const tab = em.constant(table);
    const t = em.temp();
    em.line(`${t} = hasOwn.call(${tab}, ${k.code}) ? ${tab}[${k.code}] : undefined;`);
    return { code: t, kind: 'plain' };
  }
  const o = compileNode(objNode, em);
  const k = compileNode(keyNode, em);
  em.line(`if (typeof ${k.code} !== 'string' || ${o.code} === null || typeof ${o.code} !== 'object' || Array.isArray(${o.code}) || isWeird(${o.code})) return BAIL;`);
  const t = em.temp();
  em.line(`${t} = hasOwn.call(${o.code}, ${k.code}) ? ${o.code}[${k.code}] : undefined;`);
  // applyInner awaits a promise-like result and steps an iterator-like one: not modelled.
  em.line(`if (${t} !== null && typeof ${t} === 'object' && (typeof ${t}.then === 'function' || typeof ${t}.next === 'function')) return BAIL;`);
  em.bailIfWeird(t);
  return { code: t, kind: 'raw' };
}
