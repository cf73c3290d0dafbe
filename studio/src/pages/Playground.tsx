// Manifest playground for integrators: paste or upload a manifest into the editor (CodeMirror,
// loaded on demand), validate it with the CLI's validator (POST /manifests/validate) and see each
// problem as a marker at its line and in a list; for a valid one, what it defines and the credential
// form it generates; and try a JSONata mapping against sample input.
import { lazy, Suspense, useId, useRef, useState, type ChangeEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { ConnectorSummary } from './playground/ConnectorSummary';
import { MappingPreview } from './playground/MappingPreview';
import { EXAMPLE_MANIFEST } from './playground/example';
import './page-parts.css';
import './playground/playground.css';

const ManifestEditor = lazy(() => import('./playground/ManifestEditor'));

type ManifestProblem = components['schemas']['ManifestProblem'];
const NO_PROBLEMS: ManifestProblem[] = [];

export function PlaygroundPage() {
  const editorLabel = useId();
  const editorHelp = useId();
  const fileId = useId();
  const manifestHeading = useId();
  const mappingHeading = useId();
  const [doc, setDoc] = useState({ text: EXAMPLE_MANIFEST, version: 0 });
  const text = useRef(EXAMPLE_MANIFEST);
  const [filename, setFilename] = useState<string | undefined>();
  const [edited, setEdited] = useState(false);
  const [jumpTo, setJumpTo] = useState<{ line: number; column: number; n: number } | null>(null);
  const [fileProblem, setFileProblem] = useState<string | null>(null);

  const check = useMutation({
    mutationFn: (yaml: string) => unwrap(api.POST('/manifests/validate', { body: { yaml, ...(filename ? { filename } : {}) } })),
    onSuccess: () => setEdited(false),
  });
  const result = check.data;

  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    setFileProblem(null);
    if (!file) return;
    if (file.size > 256 * 1024) {
      setFileProblem(`${file.name} is ${Math.ceil(file.size / 1024)} KB; a manifest may be at most 256 KB.`);
      return;
    }
    const body = await file.text();
    text.current = body;
    setDoc((d) => ({ text: body, version: d.version + 1 }));
    setFilename(file.name);
    check.reset();
  };

  return (
    <>
      <h1>Manifest playground</h1>
      <p className="lede">Write or upload a connector manifest and check it with the same validator as <code>plugboard validate</code>. Nothing is installed or saved.</p>

      <section className="panel" aria-labelledby={manifestHeading}>
        <h2 id={manifestHeading}>Manifest</h2>
        <div className="toolbar">
          <label htmlFor={fileId}>Upload a manifest file</label>
          <input id={fileId} type="file" accept=".yaml,.yml,text/yaml,application/yaml" onChange={(e) => void upload(e)} />
          <button type="button" className="button primary" disabled={check.isPending} onClick={() => check.mutate(text.current)}>
            {check.isPending ? 'Validating…' : 'Validate'}
          </button>
        </div>
        {fileProblem && (
          <p className="form-problem" role="alert">
            {fileProblem}
          </p>
        )}
        {filename && (
          <p className="hint">
            Checked as <code>{filename}</code>: the manifest's <code>name</code> must match the file name.{' '}
            <button type="button" className="link-button" onClick={() => setFilename(undefined)}>
              Check without the file name
            </button>
          </p>
        )}
        <p className="field-label" id={editorLabel}>
          Manifest YAML
        </p>
        <p className="hint" id={editorHelp}>
          Problems are marked at their lines. Tab leaves the editor; Ctrl+Shift+M (⌘⇧M) lists the problems.
        </p>
        <Suspense
          fallback={
            <p role="status" className="loading">
              Loading the editor…
            </p>
          }
        >
          <ManifestEditor
            doc={doc}
            onChange={(t) => {
              text.current = t;
              setEdited(true);
            }}
            problems={result?.problems ?? NO_PROBLEMS}
            jumpTo={jumpTo}
            labelledBy={editorLabel}
            describedBy={editorHelp}
          />
        </Suspense>

        <div aria-live="polite" className="check-result">
          {check.isError && (
            <p className="form-problem" role="alert">
              Could not validate: {check.error.message}
            </p>
          )}
          {result && (
            <p className={result.valid ? 'notice valid' : 'form-problem'} data-valid={result.valid}>
              {result.valid ? 'Valid: no problems.' : `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} found.`}
              {edited && ' (The text has changed since: validate again.)'}
            </p>
          )}
          {!result && !check.isError && <p className="hint">Not validated yet.</p>}
        </div>

        {result && result.problems.length > 0 && (
          <>
            <h3>Problems</h3>
            <ol className="problem-list">
              {result.problems.map((p, i) => (
                <li key={i}>
                  <button type="button" className="link-button" onClick={() => setJumpTo({ line: p.line, column: p.column, n: i + Date.now() })}>
                    Line {p.line}, column {p.column}
                  </button>
                  : {p.message}
                  <span className="problem-meta">
                    {p.path && (
                      <>
                        {' '}
                        at <code>{p.path}</code>
                      </>
                    )}{' '}
                    (rule <code>{p.rule}</code>)
                  </span>
                </li>
              ))}
            </ol>
          </>
        )}
        {result?.valid && result.connector && (
          <>
            <h3>What it defines</h3>
            <ConnectorSummary connector={result.connector} />
          </>
        )}
      </section>

      <section className="panel" aria-labelledby={mappingHeading}>
        <h2 id={mappingHeading}>Try a mapping</h2>
        <p className="hint">
          Request bodies, responses and record mappings in a manifest are JSONata expressions. Evaluate one against sample JSON, with the manifest language's
          functions and limits.
        </p>
        <MappingPreview />
      </section>
    </>
  );
}
