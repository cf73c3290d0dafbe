// The routing rule form (create and edit): capability, integration, fallback integration, default.
// Only integrations that enable the capability are offered; the API's 422 is shown by its fields.
import { useId, useState, type FormEvent } from 'react';
import { ApiError, type Integration } from '../../api/client';
import { fieldErrorsFrom, problemText } from '../../api/field-errors';
import { words, capabilityLabel } from '../../labels';

export interface RuleDraft {
  capability: string;
  integration_id: string;
  fallback_integration_id: string | null;
  is_default: boolean;
}

export function RuleForm({ initial, capabilities, integrations, label, submitLabel, onSubmit, onCancel }: { initial: RuleDraft; capabilities: string[]; integrations: Integration[]; label(id: string): string; submitLabel: string; onSubmit(d: RuleDraft): Promise<void>; onCancel(): void }) {
  const id = useId();
  const [draft, setDraft] = useState<RuleDraft>(initial);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const offering = integrations.filter((i) => i.enabled_capabilities.includes(draft.capability));
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const option = (i: Integration) => `${label(i.id)} (${i.status === 'active' ? 'active' : words(i.status)})`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string[]> = {};
    if (!draft.capability) local['capability'] = ['Choose a capability.'];
    if (!draft.integration_id) local['integration_id'] = ['Choose an integration.'];
    setErrors(local);
    setProblem(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      await onSubmit(draft);
    } catch (err) {
      const { byField, other } = fieldErrorsFrom(err instanceof ApiError ? err.errors : {}, ['capability', 'integration_id', 'fallback_integration_id']);
      setErrors(byField);
      setProblem(problemText((err as Error).message, other));
    } finally {
      setBusy(false);
    }
  };

  const field = (name: keyof RuleDraft) => ({
    id: `${id}-${name}`,
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': errors[name] ? `${id}-${name}-error` : undefined,
  });
  const fieldError = (name: keyof RuleDraft) =>
    errors[name] && (
      <p id={`${id}-${name}-error`} className="field-error">
        {errors[name].join(' ')}
      </p>
    );

  return (
    <form className="ops-form" onSubmit={submit} noValidate>
      <div className="form-field">
        <label htmlFor={`${id}-capability`}>Capability</label>
        <select {...field('capability')} value={draft.capability} disabled={capabilities.length < 2} onChange={(e) => set({ capability: e.target.value, integration_id: '', fallback_integration_id: null })}>
          {!draft.capability && <option value="">Choose…</option>}
          {capabilities.map((c) => (
            <option key={c} value={c}>
              {capabilityLabel(c)}
            </option>
          ))}
        </select>
        {fieldError('capability')}
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-integration_id`}>Integration</label>
        <select {...field('integration_id')} value={draft.integration_id} onChange={(e) => set({ integration_id: e.target.value, fallback_integration_id: draft.fallback_integration_id === e.target.value ? null : draft.fallback_integration_id })}>
          <option value="">Choose…</option>
          {offering.map((i) => (
            <option key={i.id} value={i.id}>
              {option(i)}
            </option>
          ))}
        </select>
        {offering.length === 0 && <p className="hint">No configured integration enables this capability.</p>}
        {fieldError('integration_id')}
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-fallback_integration_id`}>Fallback integration</label>
        <select {...field('fallback_integration_id')} value={draft.fallback_integration_id ?? ''} onChange={(e) => set({ fallback_integration_id: e.target.value || null })}>
          <option value="">None</option>
          {offering
            .filter((i) => i.id !== draft.integration_id)
            .map((i) => (
              <option key={i.id} value={i.id}>
                {option(i)}
              </option>
            ))}
        </select>
        <p className="hint">Tried when the integration fails with a server error, a timeout or a rate limit.</p>
        {fieldError('fallback_integration_id')}
      </div>
      <div className="form-check">
        <input type="checkbox" {...field('is_default')} checked={draft.is_default} onChange={(e) => set({ is_default: e.target.checked })} />
        <label htmlFor={`${id}-is_default`}>Default rule</label>
      </div>
      <p className="hint">Default rules are tried after the capability's other rules.</p>
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
