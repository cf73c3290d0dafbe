// The generated credential form (loaded on demand: @rjsf and Ajv are not part of the first page
// load). Ajv validates in the browser with the same keywords as the API (required, pattern, format,
// including Plugboard's own `e164`), and its errors are worded as the API words them (apiWorded),
// before anything is sent; a 422 from the API is shown by the fields it names.
import { useMemo, useState } from 'react';
import Form from '@rjsf/core';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';
import { apiWorded, credentialForm, credentialsToSend, fieldErrorsFrom, type CredentialField, type Mode } from '../credential-schema';
import { ApiError } from '../api/client';

const validator = customizeValidator({ customFormats: { e164: /^\+[1-9][0-9]{1,14}$/ } });

export interface CredentialFormProps {
  fields: Record<string, CredentialField>;
  mode: Mode;
  current?: Record<string, unknown>;
  /** The names of the fields the integration holds a value for (its credentials_set). */
  stored?: readonly string[];
  submitLabel: string;
  onSubmit(credentials: Record<string, unknown>): Promise<void>;
  /** Without it there is no Cancel button (the playground's preview). */
  onCancel?(): void;
}

export default function CredentialForm({ fields, mode, current, stored, submitLabel, onSubmit, onCancel }: CredentialFormProps) {
  const form = useMemo(() => credentialForm(fields, mode, current, stored), [fields, mode, current, stored]);
  const [formData, setFormData] = useState<Record<string, unknown>>(form.formData);
  const [extraErrors, setExtraErrors] = useState<ErrorSchema | undefined>();
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  return (
    <Form
      schema={form.schema as RJSFSchema}
      uiSchema={form.uiSchema as UiSchema}
      formData={formData}
      validator={validator}
      noHtml5Validate
      showErrorList={false}
      focusOnFirstError
      extraErrors={extraErrors}
      transformErrors={(errors) => apiWorded(errors, fields)}
      // Shown by each field (rjsf would otherwise also log them as a console error).
      onError={() => setProblem(null)}
      onChange={(e) => {
        setFormData(e.formData as Record<string, unknown>);
        setExtraErrors(undefined);
      }}
      onSubmit={async (e) => {
        setBusy(true);
        setProblem(null);
        try {
          await onSubmit(credentialsToSend(e.formData as Record<string, unknown>));
        } catch (err) {
          if (err instanceof ApiError && err.status === 422) {
            const { byField, other } = fieldErrorsFrom(err.errors, Object.keys(fields));
            setExtraErrors(Object.fromEntries(Object.entries(byField).map(([k, v]) => [k, { __errors: v }])) as ErrorSchema);
            setProblem(other.length ? `${err.message} ${other.join('; ')}` : err.message);
          } else {
            setProblem((err as Error).message);
          }
        } finally {
          setBusy(false);
        }
      }}
    >
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="dialog-actions">
        {onCancel && (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </Form>
  );
}
