// A compiler to JavaScript for the small subset of JSONata that manifests use in practice, built
// from jsonata's own AST (`jsonata(src).ast()`): each supported expression becomes the source of one
// function (fast-emit.ts), built once with `new Function` when the manifest loads. The function
// answers only where its result is provably the one JSONata would give; everywhere else it declines:
//   - at compile time, `tryCompileFast` returns undefined for any construct outside the subset
//     (the whole expression is then evaluated by JSONata);
//   - at run time, the compiled function returns BAIL when the data leaves the cases it models
//     (arrays met mid-path, i.e. sequence mapping; function-like values; non-finite numbers;
//     operands whose JSONata semantics are not reproduced here), and the caller re-evaluates
//     with JSONata. The fast function never throws: JSONata errors always come from JSONata.
// Its result is already a plain JSON value (what toPlain makes of JSONata's result): objects and
// arrays it builds are fresh, and values taken from the input go through toPlain where they land.
//
// Supported (semantics taken from jsonata 2.x's evaluator, see the comments on each piece):
//   literals          "s", 12, true, false, null  (finite numbers)
//   paths             a.b.`c d`, $.a, $$.a, $input.a, $status, $headers.`x-y`  (name steps only)
//   variables         $ and $$ (the input document), $input, $status, $headers (bindings)
//   object constructor { "k": expr, ... }   literal keys; an undefined value omits the key
//   array constructor  [a, b, ...]         undefined items dropped, array items flattened one level
//   a = b, a != b     primitives (undefined on either side gives false)
//   a and b, a or b   JSONata truthiness ($boolean)
//   c ? a : b, c ? a  JSONata truthiness
//   x in [literals]   strict equality with each literal
//   a & b             $string casting of strings, finite numbers, booleans and null
//   a + b, - * / %    finite numbers (undefined on either side gives undefined; anything else bails)
//   (expr)            a block of a single expression
//   $exists(x), $lookup(obj, "key"), $number(x)  (undefined, numbers, booleans, decimal strings)
//   $type(x), $fromMillis(n)  (one argument: UTC ISO 8601, years 1970 to 9999)
//   $string(x), $uppercase(s), $lowercase(s)  (one argument; $string of arrays and objects bails)
//
// Not supported (JSONata is used): every other operator and function, predicates / filters / index
// steps, object constructors applied to paths (a.{...}), wildcards, parent and descendant steps,
// sort, group, variable binding, lambdas, regexes, transforms, `a[]`.
//
// Parts: fast-ast.ts (shape checks of the AST), fast-emit.ts (the emitter and generated function),
// fast-values.ts (JSONata value semantics the generated code calls), fast-functions.ts ($exists,
// $lookup, $number, $type, $fromMillis, $string, $uppercase, $lowercase); this file compiles the nodes.
import { Unsupported, asNode, literalValue, objectPairs, onlyKeys, unsupported, type Node } from './fast-ast.ts';
import { Emitter, join, key, literal, type Kind, type Out } from './fast-emit.ts';
import { compileFunction } from './fast-functions.ts';
import { INHERITED_KEYS } from './fast-values.ts';

export { BAIL } from './fast-values.ts';

export type FastFunction = (data: unknown, bindings?: Record<string, unknown>) => unknown;

/** Variables the subset reads from the bindings (`$input`, `$status`, `$headers`). */
const BINDING_VARIABLES = new Set(['input', 'status', 'headers']);

/** Assigns `code` to a fresh temporary. */
function assign(em: Emitter, code: string, kind: Kind): Out {
  const t = em.temp();
  em.line(`${t} = ${code};`);
  return { code: t, kind };
}

function compileVariable(node: Node, em: Emitter): Out {
  onlyKeys(node, ['type', 'value']);
  const name = node.value;
  if (typeof name !== 'string') unsupported();
  // `$` is bound to the input after the bindings, so `$$` is always the input document, and so is
  // `$` (the context) everywhere in this subset. The document passed the isWeird check on entry.
  if (name === '' || name === '$') return { code: 'd', kind: 'raw' };
  if (!BINDING_VARIABLES.has(name)) unsupported();
  const local = em.binding(name);
  em.bailIfWeird(local);
  return { code: local, kind: 'raw' };
}

/**
 * A path of name steps, optionally starting with a variable. jsonata's evaluatePath maps each step
 * over a sequence; over plain objects that is a chain of own-property lookups (fn.lookup). An array
 * (or function-like object) met before the last step would start sequence mapping: BAIL. A
 * primitive or null met before the last step makes the lookup undefined, and so the rest of the
 * path. The last step's value is returned as it is, arrays included (evaluateStep hands back a
 * single non-sequence array unchanged).
 */
function compilePath(node: Node, em: Emitter): Out {
  onlyKeys(node, ['type', 'steps']);
  const steps = node.steps;
  if (!Array.isArray(steps) || steps.length === 0) unsupported();
  let root: Out | undefined;
  const names: string[] = [];
  steps.forEach((s, i) => {
    const step = asNode(s);
    onlyKeys(step, ['type', 'value']);
    if (step.type === 'variable' && i === 0) root = compileVariable(step, em);
    else if (step.type === 'name' && typeof step.value === 'string') names.push(step.value);
    else unsupported();
  });
  if (names.length === 0) return root!;
  const t = em.temp();
  let from = 0;
  if (!root || root.code === 'd') {
    // From the document, known on entry not to be an array nor function-like.
    em.usesDocObject = true;
    const k = key(names[0]);
    em.line(INHERITED_KEYS.has(names[0]) ? `${t} = dObj && hasOwn.call(d, ${k}) ? d[${k}] : undefined;` : `${t} = dPlain ? d[${k}] : dObj && hasOwn.call(d, ${k}) ? d[${k}] : undefined;`);
    from = 1;
  } else em.line(`${t} = ${root.code};`);
  for (const name of names.slice(from)) {
    em.line(`if (${t} !== null && typeof ${t} === 'object') {`);
    em.line(`  if (Array.isArray(${t}) || isWeird(${t})) return BAIL;`);
    em.line(`  ${t} = hasOwn.call(${t}, ${key(name)}) ? ${t}[${key(name)}] : undefined;`);
    em.line(`} else ${t} = undefined;`);
  }
  em.bailIfWeird(t);
  return { code: t, kind: 'raw' };
}

/** A value stored in a result object or array: raw objects and arrays become plain copies. */
function plainCode(v: Out): string {
  return v.kind === 'raw' ? `(typeof ${v.code} === 'object' && ${v.code} !== null ? toPlain(${v.code}) : ${v.code})` : v.code;
}

/**
 * Object constructor (evaluateGroupExpression with a single input item): a value that evaluates to
 * undefined leaves the key out. One store per key, the key a constant: V8 sees named stores of a
 * stable shape.
 */
function compileObject(node: Node, em: Emitter): Out {
  const pairs = objectPairs(node);
  const o = assign(em, '{}', 'plain');
  for (const [k, valueNode] of pairs) {
    const v = compileNode(valueNode, em);
    const store = `${o.code}[${key(k)}] = ${plainCode(v)};`;
    if (v.kind === 'bool' || v.kind === 'str') em.line(store);
    else em.line(`if (${v.code} !== undefined) ${store}`);
  }
  return o;
}

/**
 * Array constructor (evaluateUnary '['): undefined items are dropped; an item whose AST node has
 * value '[' (a nested array constructor) is pushed as it is; any other item goes through fn.append,
 * which concatenates an array value (one level of flattening) and pushes anything else.
 */
function compileArray(node: Node, em: Emitter): Out {
  onlyKeys(node, ['type', 'value', 'expressions']);
  const items = node.expressions;
  if (!Array.isArray(items)) unsupported();
  const out = assign(em, '[]', 'plain');
  for (const item of items) {
    const itemNode = asNode(item);
    const v = compileNode(itemNode, em);
    out.kind = join(out.kind, v.kind === 'raw' ? 'raw' : 'plain');
    if (v.kind === 'bool' || v.kind === 'str') em.line(`${out.code}.push(${v.code});`);
    else if (itemNode.value === '[') em.line(`if (${v.code} !== undefined) ${out.code}.push(${v.code});`);
    else em.line(`if (${v.code} !== undefined) { if (Array.isArray(${v.code})) ${out.code} = ${out.code}.concat(${v.code}); else ${out.code}.push(${v.code}); }`);
  }
  return out;
}

/** `x in [literal, ...]`: evaluateIncludesExpression, strict equality with each member. */
function compileIn(node: Node, em: Emitter): Out {
  const lhs = compileNode(asNode(node.lhs), em);
  const rhs = asNode(node.rhs);
  if (rhs.type !== 'unary' || rhs.value !== '[') unsupported();
  onlyKeys(rhs, ['type', 'value', 'expressions']);
  const tests: string[] = [];
  for (const item of rhs.expressions as unknown[]) {
    const lit = literalValue(asNode(item));
    if (!lit.ok) unsupported();
    onlyKeys(item as Node, ['type', 'value']);
    tests.push(`${lhs.code} === ${literal(lit.value).code}`); // never true for undefined
  }
  return assign(em, tests.length ? tests.join(' || ') : 'false', 'bool');
}

/** jsonata's fn.boolean of an emitted value (undefined is false), as a boolean expression. */
function truthyOf(v: Out, em: Emitter): string {
  if (v.kind === 'bool') return v.code;
  if (v.kind === 'str') return `${v.code}.length > 0`;
  const t = assign(em, `truthy(${v.code})`, 'bool');
  em.line(`if (${t.code} === BAIL) return BAIL;`);
  return t.code;
}

/** jsonata's fn.string of an `&` operand (undefined is ''), as a string expression. */
function concatOf(v: Out, em: Emitter): string {
  if (v.kind === 'str') return v.code;
  const t = assign(em, `concatOperand(${v.code})`, 'str');
  em.line(`if (${t.code} === BAIL) return BAIL;`);
  return t.code;
}

function isLiteral(node: Node): boolean {
  return literalValue(node).ok;
}

/** The arithmetic operators, as the JavaScript operator each one emits (from this table only, never manifest text). */
const ARITHMETIC = new Map([['+', '+'], ['-', '-'], ['*', '*'], ['/', '/'], ['%', '%']]);

function compileBinary(node: Node, em: Emitter): Out {
  onlyKeys(node, ['type', 'value', 'lhs', 'rhs']);
  const op = node.value;
  if (op === 'in') return compileIn(node, em);
  const lhsNode = asNode(node.lhs);
  const rhsNode = asNode(node.rhs);
  if (op === 'and' || op === 'or') {
    // Short-circuit, as jsonata: the right side is evaluated only when it decides.
    const t = em.temp();
    em.line(`${t} = ${truthyOf(compileNode(lhsNode, em), em)};`);
    em.branch(op === 'and' ? t : `!${t}`, () => em.line(`${t} = ${truthyOf(compileNode(rhsNode, em), em)};`));
    return { code: t, kind: 'bool' };
  }
  const arith = ARITHMETIC.get(op as string);
  if (op !== '=' && op !== '!=' && op !== '&' && arith === undefined) unsupported();
  const lhs = compileNode(lhsNode, em);
  const rhs = compileNode(rhsNode, em);
  if (arith !== undefined) {
    // evaluateNumericExpression: both sides evaluated; a defined side that is not a finite number
    // throws (T2001, T2002, D1001): BAIL. Undefined on either side gives undefined. A non-finite
    // result (overflow, division by zero) is not modelled: BAIL.
    const [l, r] = [lhs.code, rhs.code];
    em.line(`if ((${l} !== undefined && (typeof ${l} !== 'number' || !Number.isFinite(${l}))) || (${r} !== undefined && (typeof ${r} !== 'number' || !Number.isFinite(${r})))) return BAIL;`);
    const t = assign(em, `${l} === undefined || ${r} === undefined ? undefined : ${l} ${arith} ${r}`, 'plain');
    em.line(`if (${t.code} !== undefined && !Number.isFinite(${t.code})) return BAIL;`);
    return t;
  }
  if (op === '&') return assign(em, `${concatOf(lhs, em)} + ${concatOf(rhs, em)}`, 'str');
  // evaluateEqualityExpression: undefined on either side -> false (for both operators); otherwise
  // isDeepEqual, which for anything but two objects is ===. Two objects: left to JSONata.
  const [l, r] = [lhs.code, rhs.code];
  const literalSide = isLiteral(lhsNode) || isLiteral(rhsNode);
  if (!literalSide) em.line(`if (${l} !== null && ${r} !== null && typeof ${l} === 'object' && typeof ${r} === 'object') return BAIL;`);
  const defined = `${l} !== undefined && ${r} !== undefined`;
  return assign(em, op === '=' ? `${defined} && ${l} === ${r}` : `${defined} && ${l} !== ${r}`, 'bool');
}

/** evaluateCondition: fn.boolean of the condition (undefined is false); no else branch -> undefined. Only the branch taken is evaluated. */
function compileCondition(node: Node, em: Emitter): Out {
  onlyKeys(node, ['type', 'condition', 'then', 'else']);
  const cond = truthyOf(compileNode(asNode(node.condition), em), em);
  const t = em.temp();
  let kind: Kind = 'plain';
  em.branch(
    cond,
    () => {
      const v = compileNode(asNode(node.then), em);
      kind = v.kind;
      em.line(`${t} = ${v.code};`);
    },
    () => {
      if (node.else === undefined) {
        em.line(`${t} = undefined;`);
        kind = join(kind, 'plain');
        return;
      }
      const v = compileNode(asNode(node.else), em);
      kind = join(kind, v.kind);
      em.line(`${t} = ${v.code};`);
    },
  );
  return { code: t, kind };
}

export function compileNode(node: Node, em: Emitter): Out {
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      onlyKeys(node, ['type', 'value']);
      const lit = literalValue(node);
      if (!lit.ok) unsupported();
      return literal(lit.value);
    }
    case 'path':
      return compilePath(node, em);
    case 'variable':
      return compileVariable(node, em);
    case 'unary':
      if (node.value === '{') return compileObject(node, em);
      if (node.value === '[') return compileArray(node, em);
      return unsupported();
    case 'binary':
      return compileBinary(node, em);
    case 'condition':
      return compileCondition(node, em);
    case 'block': {
      onlyKeys(node, ['type', 'expressions']);
      const exprs = node.expressions;
      if (!Array.isArray(exprs) || exprs.length !== 1) unsupported();
      return compileNode(asNode(exprs[0]), em);
    }
    case 'function':
      return compileFunction(node, em, compileNode);
    default:
      return unsupported();
  }
}

/** The generated source for a supported expression (for tests and debugging); undefined outside the subset. */
export function fastSource(ast: unknown): string | undefined {
  const em = new Emitter();
  try {
    return em.source(compileNode(asNode(ast), em));
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

/**
 * Compiles a jsonata AST into a JavaScript function when every construct in it belongs to the
 * supported subset; undefined otherwise. The function returns BAIL when JSONata must decide for
 * this input, and otherwise a plain JSON value.
 */
export function tryCompileFast(ast: unknown): FastFunction | undefined {
  const em = new Emitter();
  let result: Out;
  try {
    result = compileNode(asNode(ast), em);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  return em.build(result);
}
