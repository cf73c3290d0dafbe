// A secret the API returns only once (a new API key, an OAuth client secret): shown in a read-only
// field with a copy button until dismissed; it is kept nowhere, so a reload forgets it.
import { useId, useRef, useState } from 'react';

export interface SecretValue {
  label: string;
  value: string;
}

export function ShownOnce({ title, values, onDone }: { title: string; values: SecretValue[]; onDone(): void }) {
  const headingId = useId();
  return (
    <section className="shown-once" aria-labelledby={headingId} role="region">
      <h3 id={headingId}>{title}</h3>
      <p>
        <strong>Copy it now: it is shown only this once.</strong> It cannot be shown again; a lost one can only be revoked and replaced.
      </p>
      {values.map((v) => (
        <CopyField key={v.label} {...v} />
      ))}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onDone}>
          Done, hide it
        </button>
      </div>
    </section>
  );
}

function CopyField({ label, value }: SecretValue) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string>('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied to the clipboard.');
    } catch {
      // No clipboard permission: select it so Ctrl+C (⌘C) copies it.
      input.current?.select();
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} ref={input} readOnly value={value} spellCheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button" onClick={() => void copy()}>
          Copy <span className="visually-hidden">{label}</span>
        </button>
      </div>
      <p className="hint" role="status">
        {copied}
      </p>
    </div>
  );
}
