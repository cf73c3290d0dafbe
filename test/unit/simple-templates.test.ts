// Templates made of text and plain paths render without Handlebars (runtime/lang/simple-templates.ts):
// every template of every manifest, and edge cases, render exactly as Handlebars renders them, plain
// and URL-encoded (paths), over contexts holding strings to escape, numbers, booleans, null, arrays,
// objects and missing values.
import { describe, it, expect } from 'vitest';
import Handlebars from 'handlebars';
import { compileTemplate, urlEncodedContext, type CompiledTemplate } from '../../runtime/lang/templates.ts';
import { simpleParts } from '../../runtime/lang/simple-templates.ts';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';
import { DEFAULT_CONNECTORS_DIR } from '../../runtime/config/paths.ts';

const plain = Handlebars.create();
const reference = (source: string) => plain.compile(source, { noEscape: true, strict: false, knownHelpersOnly: false });

/** Every CompiledTemplate reachable from a value (a connector model). */
function templatesIn(value: unknown, out: Set<string>, seen = new Set<unknown>()): Set<string> {
  if (!value || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  const v = value as Partial<CompiledTemplate>;
  if (typeof v.source === 'string' && typeof v.render === 'function' && Array.isArray(v.refs)) out.add(v.source);
  const children = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : Object.values(value);
  for (const c of children) templatesIn(c, out, seen);
  return out;
}

const LEAVES: unknown[] = ['AC0123', 'a b/c?d=e&f#g%+é', '', 0, 42, -1.5, true, false, null, undefined, ['x y', 2, null], { k: 'v/w' }, [], {}, 'x'.repeat(3)];

/** Contexts giving each path the template names one of LEAVES (and its parents objects, arrays or strings). */
function contextsFor(source: string): object[] {
  const paths = [...source.matchAll(/\{\{\{?~?\s*([\w.[\]/-]+)/g)].map((m) => m[1]!.replace(/[[\]]/g, '').split(/[./]/).filter(Boolean));
  const out: object[] = [{}, { credentials: 'text', input: ['a', 'b'] }];
  for (let i = 0; i < LEAVES.length; i++) {
    const ctx: Record<string, any> = {};
    paths.forEach((path, n) => {
      let at = ctx;
      for (const seg of path.slice(0, -1)) at = at[seg] = at[seg] && typeof at[seg] === 'object' ? at[seg] : /^\d+$/.test(seg) ? [] : {};
      at[path[path.length - 1]!] = LEAVES[(i + n) % LEAVES.length];
    });
    out.push(ctx);
  }
  return out;
}

function expectSame(source: string): void {
  const ours = compileTemplate(source);
  const theirs = reference(source);
  for (const ctx of contextsFor(source)) {
    expect(ours.render(ctx), `${source} over ${JSON.stringify(ctx)}`).toBe(theirs(ctx));
    expect(ours.renderUrlEncoded(ctx), `${source} URL-encoded over ${JSON.stringify(ctx)}`).toBe(theirs(urlEncodedContext(ctx) as object));
  }
}

describe('simple templates render as Handlebars does', () => {
  it('every template of every manifest', () => {
    const sources = new Set<string>();
    for (const c of loadConnectorDir(DEFAULT_CONNECTORS_DIR).connectors.values()) templatesIn(c, sources);
    expect(sources.size).toBeGreaterThan(100);
    let simple = 0;
    for (const source of sources) {
      if (!simpleParts(plain.parse(source) as never)) continue; // rendered by Handlebars itself
      simple++;
      expectSame(source);
    }
    expect(simple).toBeGreaterThan(sources.size / 2);
  });

  it('edge cases: adjacent numbers add up, whitespace control, comments, escapes, arrays, strings, prototype names', () => {
    for (const source of [
      '{{a.b}}{{a.c}}', '{{a.b}}{{!c}}{{a.c}}', '{{a.b}} {{~a.c}}', '{{{a.b}}}-{{a.c}}', 'x\\{{a.b}}', '{{a.b.length}}', '{{a.b.[0]}}', '{{a.[0].b}}',
      '{{a.b.c.d}}', '{{a/b}}', '{{a.b.toString}}', '{{a.b.constructor}}', '{{a.b}}\n{{!-- note --}}\n{{a.c}}', '/x/{{a.b}}/{{a.c}}?q',
    ]) expectSame(source);
    const t = compileTemplate('{{a.b.[1]}}/{{a.b.length}}/{{a.c.k}}');
    expect(t.render({ a: { b: ['x y', 'z/w'], c: { k: 'é' } } })).toBe('z/w/2/é');
    expect(t.renderUrlEncoded({ a: { b: ['x y', 'z/w'], c: { k: 'é' } } })).toBe('z%2Fw/2/%C3%A9');
    expect(compileTemplate('{{a.s.length}}').renderUrlEncoded({ a: { s: 'a/b' } })).toBe('5');
    // Inherited and non-enumerable properties are not the context's own data: Handlebars renders "".
    const odd = { a: { b: Object.create({ x: 'inherited' }, { y: { value: 'hidden', enumerable: false } }) } };
    for (const source of ['{{a.b.x}}', '{{a.b.y}}']) {
      expect(compileTemplate(source).render(odd)).toBe(reference(source)(odd));
      expect(compileTemplate(source).renderUrlEncoded(odd)).toBe(reference(source)(urlEncodedContext(odd) as object));
    }
  });

  it('helpers, blocks, @data, this and one-segment paths stay with Handlebars', () => {
    for (const source of ['{{json a.b}}', '{{#if a.b}}x{{/if}}', '{{@root.a}}', '{{this.a}}', '{{a}}', '{{../a.b}}', '{{a.b.__proto__}}']) {
      expect(simpleParts(plain.parse(source) as never), source).toBeUndefined();
    }
    expect(simpleParts(plain.parse('/2010-04-01/Accounts/{{credentials.account_sid}}/Messages.json') as never)).toBeDefined();
  });
});
