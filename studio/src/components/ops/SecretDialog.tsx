// A signing secret, shown once (after create or rotate) with a copy button; closing forgets it.
import { useId, useState } from 'react';
import { ModalDialog } from '../Dialog';

export interface ShownSecret {
  url: string;
  secret: string;
  rotated: boolean;
}

export function SecretDialog({ shown, onClose }: { shown: ShownSecret | null; onClose(): void }) {
  const id = useId();
  const [copied, setCopied] = useState<null | 'ok' | 'failed'>(null);
  const close = () => {
    setCopied(null);
    onClose();
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(shown!.secret);
      setCopied('ok');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <ModalDialog title={shown?.rotated ? 'New signing secret' : 'Signing secret'} role="alertdialog" isOpen={shown !== null} onClose={close}>
      {shown && (
        <>
          <p>
            Store this secret now: it is <strong>shown only once</strong>. Your receiver at <code className="break">{shown.url}</code> uses it to verify the <code>webhook-signature</code> of each delivery.
            {shown.rotated && ' The previous secret also signs for 24 hours, so receivers can switch without missing a delivery.'}
          </p>
          <div className="form-field">
            <label htmlFor={`${id}-secret`}>Signing secret</label>
            <input id={`${id}-secret`} className="secret" readOnly value={shown.secret} spellCheck={false} onFocus={(e) => e.currentTarget.select()} />
          </div>
          <p role="status" className={copied === 'failed' ? 'field-error' : 'hint'}>
            {copied === 'ok' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copying was not allowed: select the secret and copy it yourself.' : ''}
          </p>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => void copy()}>
              Copy secret
            </button>
            <button type="button" className="button primary" onClick={close}>
              Done
            </button>
          </div>
        </>
      )}
    </ModalDialog>
  );
}
