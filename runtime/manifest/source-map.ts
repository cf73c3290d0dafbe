// Where a problem in a manifest is: file, line and column of a JSON path in the YAML source.
import { isMap, isSeq, isScalar, isPair, type Document, type LineCounter, type Node as YamlNode } from 'yaml';

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

/** Finds line/column for a JSON path, falling back to the nearest existing ancestor. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  position(segments: PathSegment[], opts: { key?: boolean; offsetLines?: number } = {}): { line: number; column: number } {
    let node: YamlNode | null | undefined = this.doc.contents as YamlNode | null;
    let offset = node?.range?.[0] ?? 0;
    for (const seg of segments) {
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
    }
    const pos = this.lines.linePos(offset);
    if (opts.offsetLines !== undefined && isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED')) {
      // Block scalar content starts on the line after the | or > indicator; point at its first character.
      const line = pos.line + opts.offsetLines + 1;
      const src = this.text.split('\n')[line - 1];
      if (src !== undefined) return { line, column: src.length - src.trimStart().length + 1 };
    }
    return { line: pos.line, column: pos.col };
  }
}
