// The form creating an API key or an OAuth client: a name, its scopes, and for keys an optional
// expiry date; checked here before sending, a 422 shown by the fields the API names.
import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import type { Scope } from '../../api/access';
import { ScopePicker } from './ScopePicker';

export interface NewAccess {
  name: string;
  scopes: Scope[];
  expires_at?: string;
}

export function CreateAccessForm({ what, withExpiry, create }: { what: string; withExpiry?: boolean; create(body: NewAccess): Promise<void> }) {
  const nameId = useId();
  const expiresId = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found['name'] = `Give the ${what} a name (what uses it).`;
    if (!scopes.length) found['scopes'] = 'Choose at least one scope.';
    setErrors(found);
    setProblem(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await create({ name: name.trim(), scopes, ...(expires ? { expires_at: new Date(`${expires}T23:59:59Z`).toISOString() } : {}) });
      setName('');
      setExpires('');
      setScopes(['read']);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) setErrors(Object.fromEntries(Object.entries(err.errors).map(([k, v]) => [k.replace(/^body\./, ''), v.join(' ')])));
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label={`Create an ${what}`}>
      <div className="field">
        <label htmlFor={nameId}>Name</label>
        <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={errors['name'] ? true : undefined} aria-describedby={errors['name'] ? `${nameId}-error` : undefined} placeholder="e.g. billing service" />
        {errors['name'] && (
          <p className="field-error" id={`${nameId}-error`}>
            {errors['name']}
          </p>
        )}
      </div>
      <ScopePicker value={scopes} onChange={setScopes} error={errors['scopes']} />
      {withExpiry && (
        <div className="field">
          <label htmlFor={expiresId}>Expires (optional)</label>
          <input id={expiresId} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} aria-invalid={errors['expires_at'] ? true : undefined} />
          {errors['expires_at'] && <p className="field-error">{errors['expires_at']}</p>}
        </div>
      )}
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Creating…' : `Create ${what}`}
        </button>
      </div>
    </form>
  );
}
