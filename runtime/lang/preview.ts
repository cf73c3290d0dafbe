// Trying a JSONata mapping against sample input (POST /manifests/preview-mapping, the studio's
// playground): the manifest language's own parser and functions, evaluated under limits so that no
// expression can hold the server: JSONata's guardrails stop a run past a time limit, a call depth or
// a sequence length (checked at every evaluation step), and regular expressions that can backtrack
// exponentially (nested quantifiers) are refused before they run, since a native regex cannot be
// interrupted. Errors are validation errors naming `expression` or `input`, with a location.
import jsonata from 'jsonata';
import { compileExpression, ExpressionSyntaxError, toPlain } from './expressions.ts';
import { MANIFEST_FUNCTIONS } from './functions.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export const PREVIEW_LIMITS = {
  /** Evaluation time (ms). */
  timeMs: 100,
  /** Bytes of the input as JSON. */
  inputBytes: 64 * 1024,
  /** Nesting of the input (objects and arrays). */
  inputDepth: 32,
  /** Bytes of the output as JSON. */
  outputBytes: 256 * 1024,
  /** Characters of the expression. */
  expressionChars: 10_000,
  /** JSONata evaluation depth (recursion). */
  stack: 300,
  /** Items in one JSONata sequence. */
  sequence: 100_000,
} as const;

export interface SourceLocation {
  offset: number;
  line: number;
  column: number;
}

/** A 422 about the expression or the input; `location` points into the expression when known. */
export class PreviewError extends PlugboardError {
  constructor(field: 'expression' | 'input', problem: string, code: string, readonly location?: SourceLocation) {
    super('validation', field === 'expression' ? `The expression cannot be evaluated: ${problem}` : `The input is not accepted: ${problem}`, { code, errors: { [field]: [location ? `line ${location.line}, column ${location.column}: ${problem}` : problem] } });
  }
}

function locate(source: string, offset: number): SourceLocation {
  const at = Math.max(0, Math.min(offset, source.length));
  const before = source.slice(0, at).split('\n');
  return { offset: at, line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Depth of a JSON value, iteratively (a recursive walk overflows on hostile nesting). */
function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (d > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

/**
 * JSONata lambdas and native functions are objects that hold their environment (cycles): dropped
 * here, as toPlain drops functions, before anything walks the value.
 */
function withoutFunctions(value: unknown, depth = 0): unknown {
  if (typeof value === 'function') return undefined;
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  const v = value as Record<string, unknown>;
  if (v['_jsonata_lambda'] || v['_jsonata_function']) return undefined;
  if (depth > 1000) throw new RangeError('the result nests too deep');
  if (Array.isArray(value)) return value.map((x) => withoutFunctions(x, depth + 1));
  const out: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key stays a key (an assignment would set the prototype).
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: withoutFunctions(v[k], depth + 1), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Whether a plain JSON value is (roughly, from below) larger than `max` characters, stopping early. */
function jsonSizeOver(value: unknown, max: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (Array.isArray(v)) {
      size += v.length + 1;
      for (const child of v) stack.push(child);
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        size += k.length + 4;
        stack.push(child);
      }
    } else size += 5;
    if (size > max) return true;
  }
  return false;
}

/**
 * True when a pattern can backtrack exponentially: a quantified group that itself contains a
 * quantifier or an alternation, e.g. (a+)+, (a|aa)*, (\w+\s?)*. Conservative by design.
 */
export function riskyPattern(source: string): boolean {
  // Per open group: whether it holds a quantifier or an alternation so far.
  const groups: boolean[] = [];
  let lastGroupRisky = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
      lastGroupRisky = false;
      continue;
    }
    if (ch === '[') {
      // A character class is one atom: skip to its closing bracket.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      lastGroupRisky = false;
      continue;
    }
    if (ch === '(') {
      groups.push(false);
      lastGroupRisky = false;
      // (?:  (?=  (?!  (?<=  (?<!  (?<name>: group syntax, not a quantifier.
      if (source[i + 1] === '?') {
        i += 1;
        if (':=!'.includes(source[i + 1] ?? '')) i += 1;
        else if (source[i + 1] === '<') i = '=!'.includes(source[i + 2] ?? '') ? i + 2 : Math.max(i, source.indexOf('>', i));
      }
      continue;
    }
    if (ch === ')') {
      lastGroupRisky = groups.pop() ?? false;
      if (lastGroupRisky && groups.length) groups[groups.length - 1] = true;
      continue;
    }
    const brace = ch === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
    if (ch === '*' || ch === '+' || ch === '?' || brace) {
      // Repeats many times: *, +, {n,}, or a range or count over 10.
      const many = ch === '*' || ch === '+' || (!!brace && (brace[3] === '' || Number(brace[3] ?? 0) > 10 || Number(brace[1]) > 10));
      if (lastGroupRisky && many) return true;
      if (groups.length) groups[groups.length - 1] = true;
      if (brace) i += brace[0].length - 1;
      if (source[i + 1] === '?') i++; // lazy
      lastGroupRisky = false;
      continue;
    }
    if (ch === '|' && groups.length) groups[groups.length - 1] = true;
    lastGroupRisky = false;
  }
  return false;
}

/**
 * The RegExp JSONata builds regexes with: none runs in the preview. A pattern runs natively and
 * cannot be interrupted once it starts, and even patterns without nested quantifiers (a*a*b,
 * .*.*.*x) backtrack polynomially over a long input, holding the server for seconds to hours; the
 * time limit only acts between evaluation steps. Manifests' own regexes run against provider data
 * in `plugboard test`, not on tenant-supplied input here.
 */
class RefusedRegExp extends RegExp {
  constructor(pattern: string | RegExp) {
    const source = typeof pattern === 'string' ? pattern : pattern.source;
    const why = riskyPattern(source) ? 'it nests quantifiers, which can take exponential time' : 'a pattern cannot be interrupted once it runs';
    throw { code: 'PB0001', message: `regular expressions are not evaluated in the preview (/${source}/: ${why}); check them with plugboard test against the manifest's examples` };
    super(source);
  }
}

/** Longest string the character-array built-ins ($length, $substring, $pad) take here: past it V8 aborts the process. */
const MAX_STRING_CHARS = 1_000_000;

/** $length, $substring and $pad split strings into arrays of characters: guarded, then JSONata's own. */
function guardedStringFunctions(): Array<{ name: string; signature: string; implementation: (...a: unknown[]) => Promise<unknown> }> {
  const builtin = (expr: string) => jsonata(expr);
  const length = builtin('$length(s)');
  const substring = builtin('$exists(n) ? $substring(s, i, n) : $substring(s, i)');
  const pad = builtin('$exists(c) ? $pad(s, w, c) : $pad(s, w)');
  let padded = 0;
  const tooLong = (s: unknown) => {
    if (typeof s === 'string' && s.length > MAX_STRING_CHARS) throw { code: 'PB0002', message: `a string longer than ${MAX_STRING_CHARS} characters is refused here` };
  };
  return [
    { name: 'length', signature: '<s-:n>', implementation: async (s) => (tooLong(s), length.evaluate({ s })) },
    { name: 'substring', signature: '<s-nn?:s>', implementation: async (s, i, n) => (tooLong(s), substring.evaluate({ s, i, n })) },
    {
      name: 'pad', signature: '<s-ns?:s>', implementation: async (s, w, c) => {
        tooLong(s);
        // Per evaluation, not per call: [1..100000].$pad("", 1000000) would hold 100 GB of strings.
        padded += typeof w === 'number' ? Math.abs(w) : 0;
        if (padded > MAX_STRING_CHARS) throw { code: 'PB0002', message: `$pad of more than ${MAX_STRING_CHARS} characters in all is refused here` };
        return pad.evaluate({ s, w, c });
      },
    },
  ];
}

const GUARD_MESSAGES: Record<string, string> = {
  D1012: `evaluation took longer than ${PREVIEW_LIMITS.timeMs} ms (an endless loop or recursion?)`,
  D1011: `evaluation nested deeper than ${PREVIEW_LIMITS.stack} levels (an endless recursion?)`,
  D2015: `a sequence grew beyond ${PREVIEW_LIMITS.sequence} items`,
};

/** Evaluates `expression` against `input` under PREVIEW_LIMITS; the plain JSON result (null when nothing matched). */
export async function previewMapping(expression: string, input: unknown): Promise<{ output: unknown }> {
  if (expression.length > PREVIEW_LIMITS.expressionChars) throw new PreviewError('expression', `must be at most ${PREVIEW_LIMITS.expressionChars} characters`, 'expression_too_long');
  if (Buffer.byteLength(JSON.stringify(input ?? null), 'utf8') > PREVIEW_LIMITS.inputBytes) throw new PreviewError('input', `must be at most ${PREVIEW_LIMITS.inputBytes / 1024} KB as JSON`, 'input_too_large');
  if (depthOver(input, PREVIEW_LIMITS.inputDepth)) throw new PreviewError('input', `nests deeper than ${PREVIEW_LIMITS.inputDepth} levels`, 'input_too_deep');
  try {
    // The manifest compiler's own parse: the same syntax errors, at the same offsets, as `plugboard validate`.
    compileExpression(expression);
  } catch (err) {
    if (!(err instanceof ExpressionSyntaxError)) throw err;
    throw new PreviewError('expression', err.message, 'expression_syntax', err.offset === undefined ? undefined : locate(expression, err.offset));
  }
  const expr = jsonata(expression, { timeout: PREVIEW_LIMITS.timeMs, stack: PREVIEW_LIMITS.stack, sequence: PREVIEW_LIMITS.sequence, RegexEngine: RefusedRegExp as unknown as RegExpConstructor });
  for (const f of MANIFEST_FUNCTIONS) expr.registerFunction(f.name, f.implementation, f.signature);
  for (const f of guardedStringFunctions()) expr.registerFunction(f.name, f.implementation as never, f.signature);
  let output: unknown;
  try {
    output = toPlain(withoutFunctions(await expr.evaluate(input)));
  } catch (err) {
    const e = (err ?? {}) as { code?: string; message?: string; position?: number; token?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    const problem = (code && GUARD_MESSAGES[code]) ?? (e.message || String(err));
    const location = typeof e.position === 'number' ? locate(expression, Math.max(0, e.position - (e.token === undefined ? 0 : String(e.token).length))) : undefined;
    const kind = code === 'D1012' ? 'expression_timeout' : code === 'D1011' || code === 'D2015' || code === 'PB0002' ? 'expression_limit' : code === 'PB0001' ? 'expression_regex_refused' : 'expression_error';
    // A RangeError (a string or array past V8's limits) is the expression's doing too.
    throw new PreviewError('expression', code && !GUARD_MESSAGES[code] && !code.startsWith('PB') ? `${code}: ${problem}` : problem, kind, location);
  }
  if (jsonSizeOver(output, PREVIEW_LIMITS.outputBytes)) throw new PreviewError('expression', `the result is larger than ${PREVIEW_LIMITS.outputBytes / 1024} KB as JSON`, 'output_too_large');
  return { output: output === undefined ? null : output };
}
