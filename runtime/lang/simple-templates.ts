// Most manifest templates are text and plain paths ("/Accounts/{{credentials.account_sid}}/Messages.json").
// Handlebars' runtime wraps every registered helper on each render, which costs more than the render
// itself, so those templates are rendered here, with Handlebars' output (4.7, noEscape) to the letter:
// each segment of a path reads an own property (null or undefined ends the walk), a function value is
// called with the context, null and undefined render as "", and the pieces are joined with `+` as the
// template Handlebars compiles joins them. Anything else (helpers, blocks, partials, @data, this, ../,
// one-segment paths a helper could answer, prototype names) stays with Handlebars.
// test/unit/simple-templates.test.ts renders every manifest's templates both ways.

type Node = { type: string; [k: string]: unknown };

/** Text, or the segments of a path. */
export type SimplePart = string | readonly string[];

const PROTOTYPE_NAMES = new Set(['constructor', '__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'prototype']);

/** The pieces of a template Handlebars parsed, or undefined when it needs Handlebars. */
export function simpleParts(ast: Node): SimplePart[] | undefined {
  if (ast.type !== 'Program') return undefined;
  const out: SimplePart[] = [];
  for (const s of ast.body as Node[]) {
    if (s.type === 'ContentStatement') {
      if (s.value) out.push(String(s.value)); // after Handlebars' whitespace control (~); empty text adds nothing
    } else if (s.type === 'MustacheStatement') {
      const p = s.path as Node;
      if (p.type !== 'PathExpression' || p.data || p.depth !== 0 || (s.params as unknown[]).length > 0 || s.hash) return undefined;
      const parts = p.parts as string[];
      const original = String(p.original);
      if (parts.length < 2 || original.startsWith('this') || original.startsWith('.') || parts.some((x) => PROTOTYPE_NAMES.has(x))) return undefined;
      out.push([...parts]);
    } else if (s.type !== 'CommentStatement') {
      return undefined;
    }
  }
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable;

/** Handlebars' lookupProperty with its default prototype access rules: own properties only. */
function own(parent: any, key: string): unknown {
  const r = parent[key];
  if (r === null || r === undefined) return r;
  return hasOwn.call(parent, key) ? r : undefined;
}

function join(values: unknown[]): string {
  if (values.length === 0) return '';
  let acc: any = values[0];
  for (let i = 1; i < values.length; i++) acc = acc + (values[i] as any);
  return '' + acc;
}

/** The pieces with each path replaced by `read(path)` ('' for null and undefined), joined; EXOTIC if a read is. */
function renderParts(parts: readonly SimplePart[], read: (path: readonly string[]) => unknown): string | typeof EXOTIC {
  const values: unknown[] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === 'string') {
      values[i] = part;
      continue;
    }
    const v = read(part);
    if (v === EXOTIC) return EXOTIC;
    values[i] = v !== null && v !== undefined ? v : '';
  }
  return join(values);
}

/** Renders the pieces against `context` as Handlebars would. */
export function renderSimple(parts: readonly SimplePart[], context: any): string {
  return renderParts(parts, (part) => {
    let v: any = context !== null && context !== undefined ? own(context, part[0]!) : context;
    for (let j = 1; j < part.length && v !== null && v !== undefined; j++) v = own(v, part[j]!);
    return typeof v === 'function' ? v.call(context) : v;
  }) as string;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/** A copy of a value with every string leaf URL-encoded (path rendering). */
export function encodeLeaves(value: unknown): unknown {
  if (typeof value === 'string') return encodeURIComponent(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(encodeLeaves);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeLeaves(v);
    return out;
  }
  return value;
}

/** Marks a walk that met a function: the caller renders against a whole encoded copy instead. */
const EXOTIC = Symbol('exotic');

/**
 * One path read from encodeLeaves(context) without copying the context: objects are walked in the
 * original (as the copy has their own enumerable keys, an array its elements and length), a
 * primitive is encoded as soon as it is reached, and what the walk ends on is encoded last.
 */
function encodedPath(context: any, path: readonly string[]): unknown {
  let v: any = context;
  let encoded = false;
  for (let j = 0; j < path.length; j++) {
    if (v === null || v === undefined) return v;
    const key = path[j]!;
    if (typeof v === 'function') return EXOTIC;
    if (encoded || typeof v !== 'object') {
      if (!encoded) v = encodeLeaves(v);
      encoded = true;
      v = own(v, key);
    } else if (Array.isArray(v)) {
      v = key === 'length' ? v.length : ARRAY_INDEX.test(key) && Number(key) < 4294967295 && hasOwn.call(v, key) ? v[key as unknown as number] : undefined;
    } else {
      v = isEnumerable.call(v, key) ? v[key] : undefined;
    }
  }
  if (typeof v === 'function') return EXOTIC;
  return encoded ? v : encodeLeaves(v);
}

/** renderSimple(parts, encodeLeaves(context)), reading only the paths the template names. */
export function renderSimpleEncoded(parts: readonly SimplePart[], context: any): string {
  const readable = context !== null && context !== undefined && typeof context === 'object';
  const out = renderParts(parts, (part) => (readable ? encodedPath(context, part) : EXOTIC));
  return out === EXOTIC ? renderSimple(parts, encodeLeaves(context)) : out;
}
