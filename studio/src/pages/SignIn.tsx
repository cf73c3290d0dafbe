// Sign in with an API key: checked against the API (GET /providers) before it is kept in sessionStorage.
import { useId, useState, type FormEvent } from 'react';
import { signIn } from '../api/session';

export function SignInPage({ reason }: { reason?: string }) {
  const inputId = useId();
  const helpId = useId();
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = key.trim();
    if (!value) return setProblem('Enter an API key.');
    setBusy(true);
    setProblem(null);
    try {
      const res = await fetch('/api/v1/providers?per_page=1', { headers: { Authorization: `Bearer ${value}` } });
      // A 403 means the key is valid but lacks "read": signed in, and each page explains what it cannot do.
      if (res.ok || res.status === 403) return signIn(value);
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      if (res.status === 401 || res.status === 429) setProblem(body.message ?? 'That API key was not accepted.');
      // Anything else (a 5xx or 404 from the server or a proxy) says nothing about the key: not signed in.
      else setProblem(`The key could not be checked: the server answered ${res.status}${body.message ? ` (${body.message})` : ''}. Try again later.`);
    } catch {
      setProblem('The server could not be reached.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <h1>Plugboard Studio</h1>
      <form onSubmit={submit} noValidate className="sign-in-form">
        <h2>Sign in</h2>
        {reason && (
          <p className="notice" role="status">
            {reason}
          </p>
        )}
        <label htmlFor={inputId}>API key</label>
        <input id={inputId} type="password" autoComplete="off" spellCheck={false} value={key} onChange={(e) => setKey(e.target.value)} aria-describedby={helpId} aria-invalid={problem ? true : undefined} required />
        <p id={helpId} className="hint">
          A key starting with <code>pb_</code> (from <code>plugboard tenants create</code> or the API). It is kept in this browser tab only.
        </p>
        {problem && (
          <p className="form-problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
