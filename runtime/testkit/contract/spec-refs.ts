// $refs of a spec file that point at other files, resolved offline into one document. Only files
// beside the spec are read, never anything fetched:
// - a relative reference (`./common.json#/components/schemas/X`, `common.json#...`) names the file
//   relative to the file that holds it;
// - an absolute raw.githubusercontent.com URL (Zoho's crm-oas refers to its sibling files this way)
//   is read from the file of the same name beside the spec, when there is one.
// A referenced component is copied into the document under the same section, named
// `<file>__<name>` (files may define components of the same name), and the $ref rewritten to it;
// references inside the copied parts are resolved the same way. A reference that cannot be resolved
// (no such file beside the spec, another URL, no such target) is a one-line error naming it, as is
// a local reference whose container does not exist (see checkLocalRefs).
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PlugboardError } from '../../errors/plugboard-error.ts';

type AnyObj = Record<string, any>; // spec documents are untyped JSON here

const SIBLING_URL = /^https:\/\/raw\.githubusercontent\.com\/[^#?]+\/([^/#?]+)$/;

function unescape(segment: string): string {
  return decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointerSegments(fragment: string): string[] | undefined {
  if (fragment === '' || fragment === '/') return [];
  if (!fragment.startsWith('/')) return undefined; // a plain-name anchor: not supported
  return fragment.slice(1).split('/').map(unescape);
}

function lookup(doc: unknown, segments: string[]): unknown {
  let node: unknown = doc;
  for (const s of segments) {
    if (!node || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, s)) return undefined;
    node = (node as AnyObj)[s];
  }
  return node;
}

function refError(file: string, ref: string, why: string): PlugboardError {
  return new PlugboardError('validation', `spec file ${path.basename(file)}: cannot resolve $ref "${ref}": ${why}`);
}

class Bundler {
  private readonly docs = new Map<string, AnyObj>();
  /** `<absolute file>#<fragment>` -> the local $ref it became. */
  private readonly placed = new Map<string, string>();

  constructor(
    private readonly main: AnyObj,
    private readonly mainFile: string,
  ) {
    this.docs.set(mainFile, main);
  }

  private read(file: string, ref: string, from: string): AnyObj {
    const cached = this.docs.get(file);
    if (cached) return cached;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw refError(from, ref, `${path.basename(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    let doc: AnyObj;
    try {
      doc = (/\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text, { maxAliasCount: -1 })) as AnyObj;
    } catch (err) {
      throw refError(from, ref, `${path.basename(file)} does not parse (${(err as Error).message.split('\n')[0]})`);
    }
    this.docs.set(file, doc);
    return doc;
  }

  /** The file a reference's address names, or an error saying why none is read. */
  private target(address: string, ref: string, from: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(address)) {
      const sibling = SIBLING_URL.exec(address);
      if (!sibling) throw refError(from, ref, 'only files beside the spec are read, nothing is fetched');
      const local = path.join(path.dirname(this.mainFile), decodeURIComponent(sibling[1]!));
      if (!fs.existsSync(local)) throw refError(from, ref, `no file ${path.basename(local)} beside ${path.basename(this.mainFile)} (nothing is fetched)`);
      return local;
    }
    return path.resolve(path.dirname(from), decodeURIComponent(address));
  }

  /** The local $ref (in the main document) for `ref` found in `from`. */
  private resolve(ref: string, from: string): string {
    const hash = ref.indexOf('#');
    const address = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    const file = address ? this.target(address, ref, from) : from;
    const segments = pointerSegments(fragment);
    if (!segments) throw refError(from, ref, 'only JSON-pointer fragments (#/...) are supported');
    const key = `${file}#${segments.join('/')}`;
    const done = this.placed.get(key);
    if (done) return done;
    const doc = this.read(file, ref, from);
    const node = lookup(doc, segments);
    if (node === undefined) throw refError(from, ref, `${path.basename(file)} has no ${fragment ? `#${fragment}` : 'content'}`);
    if (file === this.mainFile) {
      const local = `#/${segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
      this.placed.set(key, local);
      return local;
    }
    // Placed beside the main document's own: same container, name prefixed with the file's.
    const stem = path.basename(file).replace(/\.(json|ya?ml)$/i, '').replace(/[^A-Za-z0-9._-]/g, '_');
    const container = segments.length >= 2 ? segments.slice(0, -1) : ['components', 'schemas'];
    const name = `${stem}__${segments.length ? segments[segments.length - 1]!.replace(/[^A-Za-z0-9._-]/g, '_') : 'document'}`;
    const local = `#/${[...container, name].map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
    this.placed.set(key, local); // before copying: a cycle back to this node finds it placed
    let parent: AnyObj = this.main;
    for (const s of container) parent = (parent[s] ??= {}) as AnyObj;
    parent[name] = this.rewrite(structuredClone(node), file);
    return local;
  }

  /** Rewrites every $ref of `node` (which sits in `file`) to a local one; returns the node. */
  rewrite(node: unknown, file: string): unknown {
    if (Array.isArray(node)) {
      node.forEach((v) => this.rewrite(v, file));
    } else if (node && typeof node === 'object') {
      const o = node as AnyObj;
      for (const [k, v] of Object.entries(o)) {
        if (k === '$ref' && typeof v === 'string') {
          if (file !== this.mainFile || !v.startsWith('#')) o[k] = this.resolve(v, file);
        } else this.rewrite(v, file);
      }
    }
    return node;
  }
}

/** Resolves the references of `doc` (read from `file`) that point at other files, in place. */
export function bundleFileRefs(doc: AnyObj, file: string): void {
  const abs = path.resolve(file);
  const bundler = new Bundler(doc, abs);
  bundler.rewrite(doc, abs);
}

/**
 * Every $ref of the document must be local. One whose target is missing is a one-line error naming
 * it when even its container is missing (the dereferencer would crash on it with a TypeError); one
 * that only names a missing entry of an existing container (Zoho's notes.json has such a parameter,
 * DocuSign a schema) is left to resolve to nothing, as before, and returned for the fix-up report.
 */
export function checkLocalRefs(doc: AnyObj, name: string): string[] {
  const seen = new Set<unknown>();
  const dangling = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) return node.forEach(visit);
    for (const [k, v] of Object.entries(node as AnyObj)) {
      if (k !== '$ref' || typeof v !== 'string') {
        visit(v);
        continue;
      }
      if (!v.startsWith('#')) throw refError(name, v, 'references to other files are resolved only in a spec read from a file');
      const segments = pointerSegments(v.slice(1));
      if (!segments) throw refError(name, v, 'only JSON-pointer fragments (#/...) are supported');
      if (lookup(doc, segments) !== undefined) continue;
      const container = lookup(doc, segments.slice(0, -1));
      if (!container || typeof container !== 'object') throw refError(name, v, `the document has no ${segments.length > 1 ? `#/${segments.slice(0, -1).join('/')}` : 'such target'}`);
      dangling.add(v);
    }
  };
  visit(doc);
  return [...dangling];
}
