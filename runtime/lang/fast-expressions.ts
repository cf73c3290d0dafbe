// A fast evaluator for the small subset of JSONata that manifests use in practice, built from
// jsonata's own AST (`jsonata(src).ast()`). It answers only where its result is provably the one
// JSONata would give; everywhere else it declines:
//   - at compile time, `tryCompileFast` returns undefined for any construct outside the subset
//     (the whole expression is then evaluated by JSONata);
//   - at run time, the compiled function returns BAIL when the data leaves the cases it models
//     (arrays met mid-path, i.e. sequence mapping; function-like values; non-finite numbers;
//     operands whose JSONata semantics are not reproduced here), and the caller re-evaluates
//     with JSONata. The fast function never throws: JSONata errors always come from JSONata.
//
// Supported (semantics taken from jsonata 2.x's evaluator, see the comments on each piece):
//   literals          "s", 12, true, false, null
//   paths             a.b.`c d`, $.a, $$.a, $input.a, $status, $headers.`x-y`  (name steps only)
//   variables         $ and $$ (the input document), $input, $status, $headers (bindings)
//   object constructor { "k": expr, ... }   literal keys; an undefined value omits the key
//   array constructor  [a, b, ...]         undefined items dropped, array items flattened one level
//   a = b, a != b     primitives (undefined on either side gives false)
//   a and b, a or b   JSONata truthiness ($boolean)
//   c ? a : b, c ? a  JSONata truthiness
//   x in [literals]   strict equality with each literal
//   a & b             $string casting of strings, finite numbers, booleans and null
//   (expr)            a block of a single expression
//   $exists(x), $lookup(obj, "key")
//
// Not supported (JSONata is used): every other operator and function, predicates / filters / index
// steps, object constructors applied to paths (a.{...}), wildcards, parent and descendant steps,
// sort, group, variable binding, lambdas, regexes, transforms, `a[]`.
//
// Parts: fast-ast.ts (shape checks of the AST), fast-values.ts (JSONata value semantics),
// fast-functions.ts ($exists, $lookup); this file compiles the nodes and runs the result.
import { BAIL, concatOperand, isEnumerable, isWeird, last, step, truthy, type Bail } from './fast-values.ts';
import { Unsupported, asNode, literalValue, onlyKeys, unsupported, type Eval, type Node } from './fast-ast.ts';
import { compileFunction } from './fast-functions.ts';

export { BAIL } from './fast-values.ts';

export type FastFunction = (data: unknown, bindings?: Record<string, unknown>) => unknown;

/** Variables the subset reads from the bindings (`$input`, `$status`, `$headers`). */
const BINDING_VARIABLES = new Set(['input', 'status', 'headers']);

function compileVariable(node: Node): Eval {
  onlyKeys(node, ['type', 'value']);
  const name = node.value;
  if (typeof name !== 'string') unsupported();
  // jsonata binds every own enumerable key of `bindings` (utils.keys) in the call's frame; `$` is
  // bound to the input after them, so `$$` is always the input document, and so is `$` (the
  // context) everywhere in this subset.
  if (name === '' || name === '$') return (d) => d;
  if (!BINDING_VARIABLES.has(name)) unsupported();
  return (_d, b) => {
    if (b == null || !isEnumerable.call(b, name)) return undefined;
    const v = b[name];
    return isWeird(v) ? BAIL : v;
  };
}

/**
 * A path of name steps, optionally starting with a variable. jsonata's evaluatePath maps each step
 * over a sequence; over plain objects that is a chain of own-property lookups (fn.lookup). An array
 * met before the last step would start sequence mapping: BAIL. A primitive or null met before the
 * last step makes the lookup undefined, and the path stops there (undefined). The last step's
 * value is returned as it is, arrays included (evaluateStep hands back a single non-sequence array
 * unchanged).
 */
function compilePath(node: Node): Eval {
  onlyKeys(node, ['type', 'steps']);
  const steps = node.steps;
  if (!Array.isArray(steps) || steps.length === 0) unsupported();
  let root: Eval | undefined;
  const names: string[] = [];
  steps.forEach((s, i) => {
    const step = asNode(s);
    onlyKeys(step, ['type', 'value']);
    if (step.type === 'variable' && i === 0) root = compileVariable(step);
    else if (step.type === 'name' && typeof step.value === 'string') names.push(step.value);
    else unsupported();
  });
  const n = names.length;
  if (n === 0) return root!;
  const [n0, n1] = names;
  let walk: (value: unknown) => unknown;
  if (n === 1) walk = (v) => last(step(v, n0));
  else if (n === 2) walk = (v) => last(step(step(v, n0), n1));
  else {
    walk = (v) => {
      let cur = v;
      for (let i = 0; i < n && cur !== undefined && cur !== BAIL; i++) cur = step(cur, names[i]);
      return last(cur);
    };
  }
  if (root) {
    const start = root;
    return (d, b) => {
      const v = start(d, b);
      return v === BAIL ? BAIL : walk(v);
    };
  }
  // A name path starts from the context, which is the input document everywhere in this subset
  // (nothing here changes the context). An array document is wrapped by jsonata: bailed on up front.
  return walk;
}

/**
 * Object constructor (evaluateGroupExpression with a single input item): every key a string
 * literal; a value that evaluates to undefined leaves the key out. Keys jsonata rejects (duplicates:
 * D1009, _jsonata_* flags: D1013) and `__proto__` (a plain object would treat it as the prototype)
 * are unsupported.
 */
function compileObject(node: Node): Eval {
  onlyKeys(node, ['type', 'value', 'lhs']);
  const pairs = node.lhs;
  if (!Array.isArray(pairs)) unsupported();
  const keys: string[] = [];
  const values: Eval[] = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) unsupported();
    const keyNode = asNode(pair[0]);
    onlyKeys(keyNode, ['type', 'value']);
    if (keyNode.type !== 'string' || typeof keyNode.value !== 'string') unsupported();
    const key = keyNode.value;
    if (keys.includes(key) || key === '_jsonata_lambda' || key === '_jsonata_function' || key === '__proto__') unsupported();
    keys.push(key);
    values.push(compileNode(asNode(pair[1])));
  }
  return objectBuilder(keys, values);
}

/**
 * The object constructor as straight-line code: one store per key with the key as a constant
 * (JSON.stringify makes any key a valid JS string literal), so V8 sees named stores of a stable
 * shape instead of a keyed store in a loop. Only constant keys and the compiled value functions
 * reach the generated code; no manifest text is evaluated as JavaScript.
 */
function objectBuilder(keys: string[], values: Eval[]): Eval {
  const lines = ['"use strict";', 'return function (d, b) {', '  const o = {};', '  let v;'];
  keys.forEach((k, i) => {
    lines.push(`  v = e[${i}](d, b);`, '  if (v === BAIL) return BAIL;', `  if (v !== undefined) o[${JSON.stringify(k)}] = v;`);
  });
  lines.push('  return o;', '};');
  try {
    const factory = new Function('BAIL', 'e', lines.join('\n')) as (bail: Bail, e: Eval[]) => Eval;
    return factory(BAIL, values);
  } catch {
    // Code generation disallowed (--disallow-code-generation-from-strings): the same, as a loop.
    return (d, b) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const v = values[i]!(d, b);
        if (v === BAIL) return BAIL;
        if (v !== undefined) o[keys[i]!] = v;
      }
      return o;
    };
  }
}

/**
 * Array constructor (evaluateUnary '['): undefined items are dropped; an item whose AST node has
 * value '[' (a nested array constructor) is pushed as it is; any other item goes through fn.append,
 * which concatenates an array value (one level of flattening) and pushes anything else.
 */
function compileArray(node: Node): Eval {
  onlyKeys(node, ['type', 'value', 'expressions']);
  const items = node.expressions;
  if (!Array.isArray(items)) unsupported();
  const evals = items.map((i) => compileNode(asNode(i)));
  const pushAsIs = items.map((i) => (i as Node).value === '[');
  const n = evals.length;
  return (d, b) => {
    let out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = evals[i](d, b);
      if (v === BAIL) return BAIL;
      if (v === undefined) continue;
      if (pushAsIs[i] || !Array.isArray(v)) out.push(v);
      else out = out.concat(v);
    }
    return out;
  };
}

/** `x in [literal, ...]`: evaluateIncludesExpression, strict equality with each member. */
function compileIn(node: Node): Eval {
  const lhs = compileNode(asNode(node.lhs));
  const rhs = asNode(node.rhs);
  if (rhs.type !== 'unary' || rhs.value !== '[') unsupported();
  onlyKeys(rhs, ['type', 'value', 'expressions']);
  const members: unknown[] = [];
  for (const item of rhs.expressions as unknown[]) {
    const lit = literalValue(asNode(item));
    if (!lit.ok) unsupported();
    onlyKeys(item as Node, ['type', 'value']);
    members.push(lit.value);
  }
  return (d, b) => {
    const v = lhs(d, b);
    if (v === BAIL) return BAIL;
    if (v === undefined) return false;
    for (const m of members) if (m === v) return true;
    return false;
  };
}

function compileBinary(node: Node): Eval {
  onlyKeys(node, ['type', 'value', 'lhs', 'rhs']);
  const op = node.value;
  if (op === 'in') return compileIn(node);
  const lhs = compileNode(asNode(node.lhs));
  const rhs = compileNode(asNode(node.rhs));
  switch (op) {
    case '=':
    case '!=': {
      // evaluateEqualityExpression: undefined on either side -> false (for both operators);
      // otherwise isDeepEqual, which for anything but two objects is ===.
      const negate = op === '!=';
      return (d, b) => {
        const l = lhs(d, b);
        if (l === BAIL) return BAIL;
        const r = rhs(d, b);
        if (r === BAIL) return BAIL;
        if (l === undefined || r === undefined) return false;
        if (l !== null && r !== null && typeof l === 'object' && typeof r === 'object') return BAIL; // deep equality: leave to JSONata
        return negate ? l !== r : l === r;
      };
    }
    case 'and':
      return (d, b) => {
        const l = truthy(lhs(d, b)); // truthy(BAIL) is BAIL
        if (l === BAIL) return BAIL;
        if (!l) return false;
        return truthy(rhs(d, b));
      };
    case 'or':
      return (d, b) => {
        const l = truthy(lhs(d, b));
        if (l === BAIL) return BAIL;
        if (l) return true;
        return truthy(rhs(d, b));
      };
    case '&':
      return (d, b) => {
        const sl = concatOperand(lhs(d, b)); // concatOperand(BAIL) is BAIL
        if (sl === BAIL) return BAIL;
        const sr = concatOperand(rhs(d, b));
        if (sr === BAIL) return BAIL;
        return sl + sr;
      };
    default:
      unsupported();
  }
}

/** evaluateCondition: fn.boolean of the condition (undefined is false); no else branch -> undefined. */
function compileCondition(node: Node): Eval {
  onlyKeys(node, ['type', 'condition', 'then', 'else']);
  const cond = compileNode(asNode(node.condition));
  const then = compileNode(asNode(node.then));
  const otherwise = node.else === undefined ? undefined : compileNode(asNode(node.else));
  return (d, b) => {
    const c = truthy(cond(d, b));
    if (c === BAIL) return BAIL;
    if (c) return then(d, b);
    return otherwise ? otherwise(d, b) : undefined;
  };
}

function compileNode(node: Node): Eval {
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      onlyKeys(node, ['type', 'value']);
      const lit = literalValue(node);
      if (!lit.ok) unsupported();
      const v = lit.value;
      return () => v;
    }
    case 'path':
      return compilePath(node);
    case 'variable':
      return compileVariable(node);
    case 'unary':
      if (node.value === '{') return compileObject(node);
      if (node.value === '[') return compileArray(node);
      return unsupported();
    case 'binary':
      return compileBinary(node);
    case 'condition':
      return compileCondition(node);
    case 'block': {
      onlyKeys(node, ['type', 'expressions']);
      const exprs = node.expressions;
      if (!Array.isArray(exprs) || exprs.length !== 1) unsupported();
      return compileNode(asNode(exprs[0]));
    }
    case 'function':
      return compileFunction(node, compileNode);
    default:
      return unsupported();
  }
}

/**
 * Compiles a jsonata AST into a plain function when every construct in it belongs to the supported
 * subset; undefined otherwise. The function returns BAIL when JSONata must decide for this input.
 */
export function tryCompileFast(ast: unknown): FastFunction | undefined {
  let root: Eval;
  try {
    root = compileNode(asNode(ast));
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  return (data, bindings) => {
    // jsonata wraps an array document in a singleton sequence, which changes `$` and path semantics.
    if (Array.isArray(data) || isWeird(data)) return BAIL;
    try {
      return root(data, bindings);
    } catch {
      return BAIL; // never expected; JSONata then decides (and reports any error)
    }
  };
}
