// The manifest editor: CodeMirror 6 with YAML highlighting, line numbers and lint markers (gutter
// and underline) at the lines and columns POST /manifests/validate reports. Loaded on demand (this
// module and CodeMirror are their own chunk). CodeMirror adds its styles as a <style> element: it
// carries the page's CSP nonce (EditorView.cspNonce), and the lint markers are drawn with CSS
// rather than CodeMirror's data: SVG images, which the studio's img-src 'self' refuses.
import { useEffect, useRef } from 'react';
import { EditorState } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, lintKeymap, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import type { components } from '../../api/schema';

type ManifestProblem = components['schemas']['ManifestProblem'];

export interface ManifestEditorProps {
  /** The text to show; a new `version` replaces what is in the editor (an uploaded file). */
  doc: { text: string; version: number };
  onChange(text: string): void;
  problems: ManifestProblem[];
  /** Moves the cursor there and focuses the editor (a problem clicked in the list). */
  jumpTo: { line: number; column: number; n: number } | null;
  labelledBy: string;
  describedBy?: string;
}

/** The nonce React Aria also reads: studio-route.ts puts it on <meta name="csp-nonce">. */
function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.nonce ?? '';
}

const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

const theme = EditorView.theme({
  '&': { border: '1px solid #8c959f', borderRadius: '6px', backgroundColor: '#fff', fontSize: '0.85rem' },
  '&.cm-focused': { outline: '3px solid #0b57d0', outlineOffset: '2px' },
  // The editor grows with its text and wraps long lines: no scrolling region of its own.
  '.cm-scroller': { fontFamily: MONO, minHeight: '16rem' },
  '.cm-gutters': { backgroundColor: '#f6f8fa', color: '#57606a', borderRight: '1px solid #d0d7de' },
  '.cm-activeLineGutter': { backgroundColor: '#eaeef2', color: '#1f2328' },
  // No data: images (CSP img-src 'self'): a red dot and a wavy underline instead.
  '.cm-lint-marker': { content: 'normal' },
  '.cm-lint-marker-error, .cm-lint-marker-warning, .cm-lint-marker-info': { content: 'normal', width: '0.7em', height: '0.7em', margin: '0.25em 0.15em', borderRadius: '50%', backgroundColor: '#b42318' },
  '.cm-lintRange-error, .cm-lintRange-warning, .cm-lintRange-info, .cm-lintRange-hint': { backgroundImage: 'none', textDecoration: 'underline wavy #b42318', textDecorationSkipInk: 'none', textUnderlineOffset: '3px' },
});

function diagnostics(state: EditorState, problems: ManifestProblem[]): Diagnostic[] {
  return problems.map((p) => {
    const line = state.doc.line(Math.min(Math.max(1, p.line), state.doc.lines));
    const from = line.from + Math.min(Math.max(0, p.column - 1), line.length);
    return { from, to: from < line.to ? line.to : from, severity: 'error', source: p.rule, message: p.path ? `${p.message} (at ${p.path})` : p.message };
  });
}

export default function ManifestEditor({ doc, onChange, problems, jumpTo, labelledBy, describedBy }: ManifestEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: doc.text,
        extensions: [
          EditorView.cspNonce.of(cspNonce()),
          lineNumbers(),
          highlightActiveLineGutter(),
          lintGutter(),
          history(),
          drawSelection(),
          highlightActiveLine(),
          yaml(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          EditorState.tabSize.of(2),
          EditorView.lineWrapping,
          // Tab is left to the browser (moving focus), so the editor is no keyboard trap.
          keymap.of([...defaultKeymap, ...historyKeymap, ...lintKeymap]),
          EditorView.contentAttributes.of({ 'aria-labelledby': labelledBy, ...(describedBy ? { 'aria-describedby': describedBy } : {}), spellcheck: 'false' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
          theme,
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is made once; later text arrives through `doc.version`.
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v || v.state.doc.toString() === doc.text) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: doc.text } });
  }, [doc]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, diagnostics(v.state, problems)));
  }, [problems]);

  useEffect(() => {
    const v = view.current;
    if (!v || !jumpTo) return;
    const line = v.state.doc.line(Math.min(Math.max(1, jumpTo.line), v.state.doc.lines));
    v.dispatch({ selection: { anchor: line.from + Math.min(Math.max(0, jumpTo.column - 1), line.length) }, scrollIntoView: true });
    v.focus();
  }, [jumpTo]);

  return <div ref={host} className="manifest-editor" />;
}
