// Handlebars renders strings: paths, headers, query values, xml and text bodies.
// Templates are compiled once when a manifest loads.
import Handlebars from 'handlebars';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { icalDateTime, icalLines, icalParam, icalText, stableUid } from './icalendar.ts';
import { encodeLeaves, renderSimple, renderSimpleEncoded, simpleParts } from './simple-templates.ts';

// No 'env' root on purpose: a manifest must not be able to read the server's environment (master key!).
// `connection` is what an OAuth token response mapped into the integration (non-secret); `app` is the
// operator's OAuth app (PLUGBOARD_OAUTH_<PROVIDER>_CLIENT_ID/_SECRET), readable only in auth.client_id
// and auth.client_secret (the manifest loader refuses it elsewhere). `sync` ({cursor}) only in a stream's request.
export const TEMPLATE_ROOTS = ['credentials', 'input', 'integration', 'connection', 'app', 'sync'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

const hbs = Handlebars.create();
hbs.registerHelper('json', (value: unknown) => JSON.stringify(value ?? null));
hbs.registerHelper('base64', (value: unknown) => Buffer.from(String(value ?? ''), 'utf8').toString('base64'));
hbs.registerHelper('urlencode', (value: unknown) => encodeURIComponent(String(value ?? '')));
hbs.registerHelper('lower', (value: unknown) => String(value ?? '').toLowerCase());
hbs.registerHelper('upper', (value: unknown) => String(value ?? '').toUpperCase());
hbs.registerHelper('default', (value: unknown, fallback: unknown) =>
  value === undefined || value === null || value === '' ? fallback : value,
);
hbs.registerHelper('xml', (value: unknown) =>
  String(value ?? '').replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!),
);
// An RFC 3339 instant (e.g. a stream's date-time sync.cursor) as Unix seconds, for providers that filter
// by epoch (Stripe's created[gte]); empty stays empty (the parameter is then omitted), digits pass.
hbs.registerHelper('unix', (value: unknown) => {
  const text = String(value ?? '').trim();
  if (text === '' || /^\d+$/.test(text)) return text;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`unix: "${text.slice(0, 60)}" is not an RFC 3339 date-time`);
  return String(Math.floor(ms / 1000));
});
// iCalendar (RFC 5545) bodies: `ical` escapes a TEXT value, `icalparam` quotes a parameter value, `icaldate` writes an RFC 3339 instant (or
// "now") as a UTC DATE-TIME, the block `{{#icalendar}}...{{/icalendar}}` drops blank lines, ends lines
// with CRLF and folds them at 75 octets. `uid` is a stable id of a value (the same input, the same id),
// equal to JSONata's $uid of it; in a path, whose context is URL-encoded, it hashes the original values.
hbs.registerHelper('ical', (value: unknown) => icalText(value));
hbs.registerHelper('icalparam', (value: unknown) => icalParam(value));
hbs.registerHelper('icaldate', (value: unknown) => icalDateTime(value));
hbs.registerHelper('icalendar', function (this: unknown, options: Handlebars.HelperOptions) {
  return icalLines(options.fn(this));
});
hbs.registerHelper('uid', (value: unknown, options: Handlebars.HelperOptions) => stableUid(ENCODED_ROOTS.has(options?.data?.root) ? urlDecoded(value) : value));
// A single-quoted string literal with backslash and ' escaped by a backslash (Google Drive's `q`, SOQL).
hbs.registerHelper('squote', (value: unknown) => `'${String(value ?? '').replace(/[\\']/g, (c) => `\\${c}`)}'`);
export const TEMPLATE_HELPERS = ['json', 'base64', 'urlencode', 'lower', 'upper', 'default', 'xml', 'unix', 'ical', 'icalparam', 'icaldate', 'icalendar', 'uid', 'squote', 'if', 'unless', 'each', 'with', 'lookup', 'eq'];
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

export interface TemplateRef {
  path: string[];
  /** 1-based line and 0-based column inside the template source. */
  line: number;
  column: number;
}

export interface CompiledTemplate {
  readonly source: string;
  /** Paths read outside of block scopes (each/with), e.g. ['credentials','api_key']. */
  readonly refs: TemplateRef[];
  readonly helpers: string[];
  readonly isStatic: boolean;
  render(context: object): string;
  /** Renders with every string the context holds URL-encoded (paths): render(urlEncodedContext(context)). */
  renderUrlEncoded(context: object): string;
}

export class TemplateSyntaxError extends PlugboardError {
  constructor(message: string, readonly line?: number, readonly column?: number) {
    super('validation', message, { code: 'template_syntax' });
  }
}

type Node = { type: string; [k: string]: unknown };

function walk(node: Node | undefined, scoped: boolean, refs: TemplateRef[], helpers: string[]): void {
  if (!node) return;
  const visitPath = (p: Node | undefined, asHelper: boolean) => {
    if (!p || p.type !== 'PathExpression') return;
    const parts = p.parts as string[];
    const loc = p.loc as { start: { line: number; column: number } } | undefined;
    if (asHelper) {
      helpers.push(String(p.original));
      return;
    }
    if (scoped || p.data || (p.original as string).startsWith('this') || (p.original as string).startsWith('..')) return;
    refs.push({ path: parts, line: loc?.start.line ?? 1, column: loc?.start.column ?? 0 });
  };
  const visitCall = (n: Node) => {
    const params = (n.params as Node[]) ?? [];
    const hashPairs = ((n.hash as Node | undefined)?.pairs as Node[]) ?? [];
    const isHelper = params.length > 0 || hashPairs.length > 0 || n.type === 'BlockStatement' || n.type === 'SubExpression';
    visitPath(n.path as Node, isHelper);
    for (const p of params) visitExpr(p);
    for (const pair of hashPairs) visitExpr(pair.value as Node);
  };
  const visitExpr = (e: Node) => {
    if (e.type === 'SubExpression') visitCall(e);
    else visitPath(e, false);
  };
  switch (node.type) {
    case 'Program':
      for (const s of node.body as Node[]) walk(s, scoped, refs, helpers);
      break;
    case 'MustacheStatement':
      visitCall(node);
      break;
    case 'BlockStatement': {
      visitCall(node);
      const name = String((node.path as Node).original);
      const inner = scoped || name === 'each' || name === 'with';
      walk(node.program as Node, inner, refs, helpers);
      walk(node.inverse as Node, scoped, refs, helpers);
      break;
    }
    default:
      break;
  }
}

/**
 * A template already known to compile (its manifest loaded without a problem before: the cache of
 * valid manifests), compiled on first use instead of at start.
 */
export function deferredTemplate(source: string): CompiledTemplate {
  let compiled: CompiledTemplate | undefined;
  const get = () => (compiled ??= compileTemplate(source));
  return {
    source,
    get refs() { return get().refs; },
    get helpers() { return get().helpers; },
    get isStatic() { return get().isStatic; },
    render: (context) => get().render(context),
    renderUrlEncoded: (context) => get().renderUrlEncoded(context),
  };
}

export function compileTemplate(source: string): CompiledTemplate {
  let ast: Node;
  try {
    ast = hbs.parse(source) as unknown as Node;
  } catch (err) {
    const msg = (err as Error).message;
    const m = /line (\d+)/.exec(msg);
    // Handlebars puts the useful part ("Expecting 'ID', got 'EOF'") on the last line.
    const parts = msg.split('\n').filter((l) => l.trim() && !/^-*\^$/.test(l.trim()));
    const detail = parts.length > 1 ? `${parts[0]!.replace(/:$/, '')}: ${parts[parts.length - 1]}` : parts[0] ?? msg;
    throw new TemplateSyntaxError(`Handlebars syntax error: ${detail}`, m ? Number(m[1]) : undefined);
  }
  const refs: TemplateRef[] = [];
  const helpers: string[] = [];
  walk(ast, false, refs, helpers);
  const isStatic = !/\{\{/.test(source);
  if (isStatic) return { source, refs, helpers, isStatic, render: () => source, renderUrlEncoded: () => source };
  // Text and plain paths (nearly every manifest template) skip Handlebars' per-render setup: runtime/lang/simple-templates.ts.
  const parts = simpleParts(ast);
  if (parts) return { source, refs, helpers, isStatic, render: (context) => renderSimple(parts, context), renderUrlEncoded: (context) => renderSimpleEncoded(parts, context) };
  const fn = hbs.compile(source, { noEscape: true, strict: false, knownHelpersOnly: false });
  return { source, refs, helpers, isStatic, render: (context) => fn(context), renderUrlEncoded: (context) => fn(urlEncodedContext(context) as object) };
}

/** Contexts made by urlEncodedContext (path rendering), so that `uid` can hash the original values. */
const ENCODED_ROOTS = new WeakSet<object>();

function urlDecoded(value: unknown): unknown {
  if (typeof value === 'string') return decodeURIComponent(value);
  if (Array.isArray(value)) return value.map(urlDecoded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, urlDecoded(v)]));
  return value;
}

/** Copies a context with every string leaf URL-encoded, for rendering path templates safely. */
export function urlEncodedContext(value: unknown): unknown {
  const out = encodeLeaves(value);
  if (out && typeof out === 'object') ENCODED_ROOTS.add(out);
  return out;
}
