// Try a JSONata mapping against sample JSON: POST /manifests/preview-mapping evaluates it with the
// manifest language's functions and limits. The input is checked as JSON here first; a 422 is shown
// by the field it names, with the line and column in the expression when the API gives them.
import { useId, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';

const SAMPLE_INPUT = JSON.stringify({ id: 'SM123', to: '+15005550006', state: 'queued', price: { amount: '0.0075', currency: 'USD' } }, null, 2);
const SAMPLE_EXPRESSION = '{ "message_id": id, "status": state, "cost": $number(price.amount) }';

interface Located {
  line: number;
  column: number;
}

export function MappingPreview() {
  const exprId = useId();
  const inputId = useId();
  const [expression, setExpression] = useState(SAMPLE_EXPRESSION);
  const [input, setInput] = useState(SAMPLE_INPUT);
  const [errors, setErrors] = useState<{ expression?: string; input?: string }>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [output, setOutput] = useState<{ value: unknown } | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setProblem(null);
    let parsed: unknown;
    try {
      parsed = input.trim() === '' ? null : JSON.parse(input);
    } catch (err) {
      setErrors({ input: `Not JSON: ${(err as Error).message}` });
      setOutput(null);
      return;
    }
    if (!expression.trim()) {
      setErrors({ expression: 'Write a JSONata expression.' });
      return;
    }
    setBusy(true);
    try {
      const answer = await api.POST('/manifests/preview-mapping', { body: { expression, input: parsed } });
      if (answer.response.status === 422) {
        // The envelope plus `location`: where in the expression it went wrong.
        const body = answer.error as { message?: string; errors?: Record<string, string[]>; location?: Located };
        const at = body.location ? ` (line ${body.location.line}, column ${body.location.column})` : '';
        const named = { expression: body.errors?.['expression']?.join(' '), input: body.errors?.['input']?.join(' ') };
        // The API's message may already start with "line 1, column 6:": the position is shown once.
        if (named.expression && body.location && !named.expression.includes(`line ${body.location.line}, column ${body.location.column}`)) named.expression += at;
        setErrors(named);
        setOutput(null);
        if (!named.expression && !named.input) setProblem(body.message ?? 'The mapping was refused.');
        return;
      }
      const result = await unwrap<{ output: unknown }>(Promise.resolve(answer));
      setOutput({ value: result.output });
    } catch (err) {
      setOutput(null);
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="mapping-form" onSubmit={(e) => void run(e)} noValidate aria-label="Try a mapping">
      <div className="field">
        <label htmlFor={exprId}>JSONata expression</label>
        <textarea id={exprId} rows={4} value={expression} onChange={(e) => setExpression(e.target.value)} spellCheck={false} aria-invalid={errors.expression ? true : undefined} aria-describedby={errors.expression ? `${exprId}-error` : undefined} />
        {errors.expression && (
          <p className="field-error" id={`${exprId}-error`} role="alert">
            {errors.expression}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={inputId}>Sample input (JSON, read as $)</label>
        <textarea id={inputId} rows={8} value={input} onChange={(e) => setInput(e.target.value)} spellCheck={false} aria-invalid={errors.input ? true : undefined} aria-describedby={errors.input ? `${inputId}-error` : undefined} />
        {errors.input && (
          <p className="field-error" id={`${inputId}-error`} role="alert">
            {errors.input}
          </p>
        )}
      </div>
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Running…' : 'Run mapping'}
        </button>
      </div>
      <figure className="field mapping-result">
        <figcaption className="field-label">Output</figcaption>
        <pre className="mapping-output" tabIndex={0} aria-live="polite" data-testid="mapping-output">
          {output ? (output.value === undefined || output.value === null ? 'null (the expression matched nothing)' : JSON.stringify(output.value, null, 2)) : 'Run the mapping to see its result.'}
        </pre>
      </figure>
    </form>
  );
}
