// Where a problem in a manifest is: file, line and column of a JSON path in the YAML source.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Document, type Node as YamlNode } from 'yaml';

export interface ManifestIssue {
  file: string;
  line: number;
  column: number;
  /** JSON path inside the manifest, e.g. capabilities/send_sms/request/body ('' for the document). */
  path: string;
  message: string;
  /** The rule that failed: a JSON Schema keyword, 'yaml', or a semantic check name. */
  rule: string;
}

export function formatIssue(i: ManifestIssue): string {
  return `${i.file}:${i.line}:${i.column}  ${i.path || '(root)'}  ${i.message}`;
}

export type PathSegment = string | number;

/** A manifest's YAML document with source positions (the loader's parse, and SourceMap's when it has none). */
export function parseManifestYaml(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true }), lines };
}

/** Finds line/column for a JSON path, falling back to the nearest existing ancestor. */
export class SourceMap {
  private parsed?: { doc: Document; lines: LineCounter };

  /**
   * `parsed`: the document the text was parsed into, with its line counter. Without it (a manifest
   * read from the cache of valid manifests) the text is parsed on the first position asked for.
   */
  constructor(
    private readonly text: string,
    parsed?: { doc: Document; lines: LineCounter },
  ) {
    this.parsed = parsed;
  }

  private get doc(): Document {
    return this.yaml().doc;
  }

  private get lines(): LineCounter {
    return this.yaml().lines;
  }

  private yaml(): { doc: Document; lines: LineCounter } {
    return (this.parsed ??= parseManifestYaml(this.text));
  }

  /**
   * `inside`: a place inside the scalar at the path (a template or expression), as a 0-based line and
   * column of the scalar's value; the result then points at that character in the file.
   */
  position(segments: PathSegment[], opts: { key?: boolean; inside?: { line: number; column?: number } } = {}): { line: number; column: number } {
    let node: YamlNode | null | undefined = this.doc.contents as YamlNode | null;
    let offset = node?.range?.[0] ?? 0;
    let resolved = true;
    for (const seg of segments) {
      resolved = false;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as YamlNode;
        offset = keyNode.range?.[0] ?? offset;
        node = pair.value as YamlNode | null;
        if (node?.range && !(opts.key && seg === segments[segments.length - 1])) offset = node.range[0];
      } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
        const item = node.items[Number(seg)] as YamlNode | undefined;
        if (!item) break;
        node = item;
        offset = item.range?.[0] ?? offset;
      } else {
        break;
      }
      resolved = true;
    }
    const pos = this.lines.linePos(offset);
    if (opts.inside && resolved && isScalar(node)) {
      const at = this.inside(node, pos, opts.inside);
      if (at) return at;
    }
    return { line: pos.line, column: pos.col };
  }

  private inside(node: YamlNode & { type?: string }, pos: { line: number; col: number }, at: { line: number; column?: number }): { line: number; column: number } | undefined {
    const srcLines = this.text.split('\n');
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
      // Content starts on the line after the | or > indicator, indented by the block's indentation.
      const first = pos.line + 1;
      const line = first + at.line;
      const src = srcLines[line - 1];
      if (src === undefined) return undefined;
      const blockIndent = (srcLines.slice(first - 1).find((l) => l.trim() !== '') ?? '').search(/\S|$/);
      const column = at.column === undefined ? src.search(/\S|$/) + 1 : blockIndent + at.column + 1;
      return { line, column: Math.min(column, src.length + 1) };
    }
    if (at.line !== 0 || at.column === undefined || !node.range) return undefined;
    // A one-line plain or quoted scalar: walk its source, counting escapes ('' or \x) as one character.
    const raw = this.text.slice(node.range[0], node.range[1]);
    const quote = node.type === 'QUOTE_SINGLE' ? "'" : node.type === 'QUOTE_DOUBLE' ? '"' : '';
    let i = quote ? 1 : 0;
    for (let n = 0; n < at.column && i < raw.length; n++) {
      if (quote === "'" && raw.startsWith("''", i)) i += 2;
      else if (quote === '"' && raw[i] === '\\') i += raw[i + 1] === 'u' ? 6 : raw[i + 1] === 'x' ? 4 : 2;
      else if (raw[i] === '\n') return undefined; // folded onto several lines: keep the scalar's start
      else i++;
    }
    return { line: pos.line, column: pos.col + i };
  }
}
