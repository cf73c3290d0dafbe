// The scopes of a new key or client: checkboxes in a fieldset (read is ticked to start with).
import type { Scope } from '../../api/access';
import { SCOPES } from '../../api/access';

const SCOPE_HINTS: Record<Scope, string> = {
  read: 'list and read',
  write: 'create and change, run operations',
  delete: 'delete',
  admin: 'keys, clients, integrations and the audit log',
};

export function ScopePicker({ value, onChange, error }: { value: Scope[]; onChange(v: Scope[]): void; error?: string }) {
  return (
    <fieldset className="scope-picker">
      <legend>Scopes</legend>
      {SCOPES.map((s) => (
        <label key={s} className="check">
          <input type="checkbox" checked={value.includes(s)} onChange={(e) => onChange(e.target.checked ? [...value, s] : value.filter((x) => x !== s))} />
          <span>
            <strong>{s}</strong> <span className="hint-inline">({SCOPE_HINTS[s]})</span>
          </span>
        </label>
      ))}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
