// The code emitter behind the fast evaluator (fast-expressions.ts): a supported expression becomes
// the source of one JavaScript function, built once with `new Function` when the manifest loads.
//
// What reaches the generated source: statements written here, temporaries named t0, t1, ...,
// binding locals v0, v1, ..., constants k0, k1, ... (values handed in as an array, never printed),
// and literals printed by `literal` (JSON.stringify for strings, String for finite numbers). Manifest
// text (keys, names, string literals) only ever appears through JSON.stringify, so it cannot
// close a string or inject code.
import { BAIL, concatOperand, fromMillis, hasOwn, isEnumerable, isPlainObject, isWeird, lowercase, stringOf, toNumber, toPlain, truthy, typeOf, uppercase } from './fast-values.ts';
import { unsupported } from './fast-ast.ts';

/**
 * What an emitted expression may hold (never BAIL: the emitted statements return BAIL early).
 * 'bool' and 'str': a boolean / string, never undefined. 'plain': a value toPlain leaves as it is
 * (undefined included). 'raw': any value that passed the isWeird check, from the input; it goes
 * through toPlain where it becomes part of the result.
 */
export type Kind = 'bool' | 'str' | 'plain' | 'raw';

/** An emitted expression: `code` is side-effect free (a temporary, a local or a literal). */
export interface Out {
  code: string;
  kind: Kind;
}

/** The helpers the generated function may call, by the names it calls them. */
const HELPERS = { BAIL, hasOwn, isEnumerable, isPlainObject, isWeird, truthy, concatOperand, toNumber, typeOf, fromMillis, stringOf, uppercase, lowercase, toPlain } as const;

export function join(a: Kind, b: Kind): Kind {
  if (a === b) return a;
  return a === 'raw' || b === 'raw' ? 'raw' : 'plain';
}

/** A JS literal for a JSONata literal value: strings via JSON.stringify, finite numbers (not -0), booleans, null. */
export function literal(value: unknown): Out {
  if (typeof value === 'string') return { code: JSON.stringify(value), kind: 'str' };
  if (typeof value === 'boolean') return { code: value ? 'true' : 'false', kind: 'bool' };
  if (value === null) return { code: 'null', kind: 'plain' };
  if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return { code: String(value), kind: 'plain' };
  return unsupported();
}

/** A property key or name as a JS string literal. */
export const key = (name: string): string => JSON.stringify(name);

export class Emitter {
  private readonly body: string[] = [];
  private indent = 2;
  private temps = 0;
  private readonly consts: unknown[] = [];
  /** Binding variables read ($input, ...): name -> local. */
  private readonly locals = new Map<string, string>();
  /** Built-in functions called: a binding of the same name shadows them (the whole call bails). */
  private readonly shadowable = new Set<string>();
  /** Whether `dObj` (the document is a non-null object) is used. */
  usesDocObject = false;

  line(s: string): void {
    this.body.push(' '.repeat(this.indent) + s);
  }

  temp(): string {
    return `t${this.temps++}`;
  }

  /** A constant handed to the generated function by value (never printed). */
  constant(value: unknown): string {
    this.consts.push(value);
    return `k${this.consts.length - 1}`;
  }

  /** The local holding binding `name` (own enumerable key of the bindings), read once per call. */
  binding(name: string): string {
    let local = this.locals.get(name);
    if (!local) {
      local = `v${this.locals.size}`;
      this.locals.set(name, local);
    }
    return local;
  }

  shadowedBy(name: string): void {
    this.shadowable.add(name);
  }

  /** `if (cond) { then } [else { otherwise }]`, each branch emitted by its callback. */
  branch(cond: string, then: () => void, otherwise?: () => void): void {
    this.line(`if (${cond}) {`);
    this.indent += 2;
    then();
    this.indent -= 2;
    if (otherwise) {
      this.line('} else {');
      this.indent += 2;
      otherwise();
      this.indent -= 2;
    }
    this.line('}');
  }

  /** Returns BAIL when `v` is a value JSONata treats specially (functions, NaN, ...). */
  bailIfWeird(v: string): void {
    this.line(`if (isWeird(${v})) return BAIL;`);
  }

  /** `result` as the function's value: a raw value goes through toPlain, like JSONata's output does. */
  source(result: Out): string {
    const ret = result.kind === 'raw' ? `typeof ${result.code} === 'object' && ${result.code} !== null ? toPlain(${result.code}) : ${result.code}` : result.code;
    const out = ['"use strict";'];
    this.consts.forEach((_, i) => out.push(`const k${i} = K[${i}];`));
    out.push('return function fast(d, b) {', '  try {');
    // jsonata wraps an array document in a singleton sequence, which changes `$` and path semantics.
    out.push('    if (Array.isArray(d) || isWeird(d)) return BAIL;');
    if (this.shadowable.size) out.push(`    if (b != null && (${[...this.shadowable].map((n) => `isEnumerable.call(b, ${key(n)})`).join(' || ')})) return BAIL;`);
    if (this.usesDocObject) {
      out.push("    const dObj = d !== null && typeof d === 'object';");
      // A plain object (JSON.parse's, a provider answer's) has no inherited keys but Object.prototype's:
      // for any other key a direct read is an own-property read, without hasOwnProperty per field.
      out.push('    const dPlain = dObj && isPlainObject(d);');
    }
    // jsonata binds every own enumerable key of `bindings` in the call's frame.
    for (const [name, local] of this.locals) out.push(`    const ${local} = b != null && isEnumerable.call(b, ${key(name)}) ? b[${key(name)}] : undefined;`);
    if (this.temps) out.push(`    let ${Array.from({ length: this.temps }, (_, i) => `t${i}`).join(', ')};`);
    for (const l of this.body) out.push('  ' + l);
    out.push(`    return ${ret};`);
    // Never expected; JSONata then decides (and reports any error).
    out.push('  } catch {', '    return BAIL;', '  }', '};');
    return out.join('\n');
  }

  /**
   * The generated function, or undefined where code generation is disallowed
   * (--disallow-code-generation-from-strings: JSONata evaluates the expression then).
   */
  build(result: Out): ((data: unknown, bindings?: Record<string, unknown>) => unknown) | undefined {
    const src = this.source(result);
    const names = Object.keys(HELPERS);
    let factory: (...args: unknown[]) => (data: unknown, bindings?: Record<string, unknown>) => unknown;
    try {
      factory = new Function(...names, 'K', src) as typeof factory;
    } catch (err) {
      if (err instanceof EvalError) return undefined;
      throw err; // a SyntaxError would be a bug of this emitter: fail loudly, at manifest load
    }
    return factory(...Object.values(HELPERS), this.consts);
  }
}
