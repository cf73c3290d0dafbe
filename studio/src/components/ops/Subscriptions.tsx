// Webhook subscriptions: create (the secret shown once), send a test event, rotate the secret,
// enable/disable, see its deliveries, delete after a confirmation.
import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, ApiError } from '../../api/client';
import { fieldErrorsFrom, problemText } from '../../api/field-errors';
import { ConfirmActions, ModalDialog } from '../Dialog';
import { QueryState, when } from './QueryState';
import { SecretDialog, type ShownSecret } from './SecretDialog';
import { StateBadge } from './StateBadge';
import { useEventTypes, useSubscriptions, type Subscription, type TestResult } from './webhook-queries';

export function Subscriptions({ onShowDeliveries }: { onShowDeliveries(subscriptionId: string): void }) {
  const subs = useSubscriptions();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<ShownSecret | null>(null);
  const list = subs.data?.items ?? [];
  return (
    <>
      <div className="toolbar">
        <button type="button" className="button primary" onClick={() => setCreating(true)}>
          New subscription
        </button>
      </div>
      <QueryState query={subs} what="the subscriptions" empty={subs.isSuccess && list.length === 0 ? 'No subscriptions yet. Subscribe a URL to receive signed events.' : undefined}>
        <div className="cards">
          {list.map((s) => (
            <SubscriptionCard key={s.id} sub={s} onSecret={setSecret} onShowDeliveries={() => onShowDeliveries(s.id)} />
          ))}
        </div>
      </QueryState>
      <ModalDialog title="New webhook subscription" isOpen={creating} onClose={() => setCreating(false)}>
        <SubscriptionForm
          onCancel={() => setCreating(false)}
          onCreated={(url, s) => {
            setCreating(false);
            setSecret({ url, secret: s, rotated: false });
          }}
        />
      </ModalDialog>
      <SecretDialog shown={secret} onClose={() => setSecret(null)} />
    </>
  );
}

function SubscriptionForm({ onCancel, onCreated }: { onCancel(): void; onCreated(url: string, secret: string): void }) {
  const id = useId();
  const qc = useQueryClient();
  const types = useEventTypes();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('*');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = [...new Set(events.split(/[\s,]+/).filter(Boolean))];
    const local: Record<string, string[]> = {};
    if (!url.trim()) local['url'] = ['Enter the URL that receives the events.'];
    if (!list.length) local['events'] = ['Enter at least one event type or pattern.'];
    setErrors(local);
    setProblem(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const created = await unwrap(api.POST('/webhooks/subscriptions', { body: { url: url.trim(), events: list, ...(description.trim() ? { description: description.trim() } : {}) } }));
      await qc.invalidateQueries({ queryKey: ['webhook-subscriptions'] });
      onCreated(created.url, created.secret);
    } catch (err) {
      // "events.1": ["is not a known event type"] says which entry: name it in the message.
      const given = Object.entries(err instanceof ApiError ? err.errors : {}).map(([key, messages]): [string, string[]] => {
        const entry = /^(?:body\.)?events\.(\d+)$/.exec(key)?.[1];
        return [key, entry !== undefined && list[Number(entry)] !== undefined ? messages.map((m) => `${list[Number(entry)]}: ${m}`) : messages];
      });
      const { byField, other } = fieldErrorsFrom(Object.fromEntries(given), ['url', 'events', 'description']);
      setErrors(byField);
      setProblem(problemText((err as Error).message, other));
    } finally {
      setBusy(false);
    }
  };
  const described = (name: string, hint?: string) => ({
    id: `${id}-${name}`,
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': [hint && `${id}-${name}-hint`, errors[name] && `${id}-${name}-error`].filter(Boolean).join(' ') || undefined,
  });
  const fieldError = (name: string) =>
    errors[name] && (
      <p id={`${id}-${name}-error`} className="field-error">
        {errors[name].join(' ')}
      </p>
    );

  return (
    <form className="ops-form" onSubmit={submit} noValidate>
      <div className="form-field">
        <label htmlFor={`${id}-url`}>URL</label>
        <input type="url" inputMode="url" autoComplete="off" spellCheck={false} placeholder="https://example.com/plugboard" value={url} onChange={(e) => setUrl(e.target.value)} {...described('url', 'hint')} />
        <p id={`${id}-url-hint`} className="hint">
          An https address that answers 2xx.
        </p>
        {fieldError('url')}
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-events`}>Events</label>
        <input type="text" autoComplete="off" spellCheck={false} value={events} onChange={(e) => setEvents(e.target.value)} {...described('events', 'hint')} />
        <p id={`${id}-events-hint`} className="hint">
          Event types or patterns, separated by commas: <code>*</code> (everything), <code>payment.*</code>, <code>*.failed</code>.
        </p>
        {fieldError('events')}
        {types.isSuccess && (
          <details className="event-types">
            <summary>Event types ({types.data.length})</summary>
            <ul>
              {types.data.map((t) => (
                <li key={t.type}>
                  <code>{t.type}</code>
                  {t.description ? ` — ${t.description}` : ''}
                </li>
              ))}
            </ul>
          </details>
        )}
      </div>
      <div className="form-field">
        <label htmlFor={`${id}-description`}>Description (optional)</label>
        <input type="text" value={description} onChange={(e) => setDescription(e.target.value)} {...described('description')} />
        {fieldError('description')}
      </div>
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
          {busy ? 'Creating…' : 'Create subscription'}
        </button>
      </div>
    </form>
  );
}

function SubscriptionCard({ sub, onSecret, onShowDeliveries }: { sub: Subscription; onSecret(s: ShownSecret): void; onShowDeliveries(): void }) {
  const headingId = useId();
  const qc = useQueryClient();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [tested, setTested] = useState<TestResult | null>(null);
  const params = { params: { path: { id: sub.id } } };

  const action = useMutation({
    mutationFn: async (what: 'test' | 'rotate' | 'enable' | 'disable' | 'delete') => {
      setProblem(null);
      if (what === 'test') {
        setTested(null);
        setTested(await unwrap(api.POST('/webhooks/subscriptions/{id}/test', params)));
      } else if (what === 'rotate') {
        const rotated = await unwrap(api.POST('/webhooks/subscriptions/{id}/rotate-secret', params));
        onSecret({ url: rotated.url, secret: rotated.secret, rotated: true });
      } else if (what === 'delete') await unwrap(api.DELETE('/webhooks/subscriptions/{id}', params));
      else await unwrap(api.PATCH('/webhooks/subscriptions/{id}', { ...params, body: { enabled: what === 'enable' } }));
    },
    onError: (err) => setProblem(err.message),
    onSettled: async (_r, _e, what) => {
      await qc.invalidateQueries({ queryKey: ['webhook-subscriptions'] });
      if (what === 'test' || what === 'delete') await qc.invalidateQueries({ queryKey: ['webhook-deliveries'] });
    },
  });
  const busy = action.isPending;

  return (
    <article className={`card card-${sub.enabled ? (sub.failing_since ? 'pending_verify' : 'active') : 'inactive'}`} aria-labelledby={headingId}>
      <header className="card-header">
        <h3 id={headingId} className="break">
          {sub.url}
        </h3>
        {!sub.enabled ? <StateBadge tone="grey" value="disabled" text="Disabled" /> : sub.failing_since ? <StateBadge tone="yellow" value="failing" text="Failing" /> : <StateBadge tone="green" value="enabled" text="Enabled" />}
      </header>
      <dl className="facts">
        {sub.description && (
          <div>
            <dt>Description</dt>
            <dd className="as-is">{sub.description}</dd>
          </div>
        )}
        <div>
          <dt>Events</dt>
          <dd className="as-is">{sub.events.join(', ')}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{when(sub.created_at)}</dd>
        </div>
        {sub.failing_since && (
          <div>
            <dt>Failing since</dt>
            <dd>{when(sub.failing_since)}</dd>
          </div>
        )}
        {!sub.enabled && sub.disabled_reason && (
          <div>
            <dt>Disabled because</dt>
            <dd className="as-is">{sub.disabled_reason}</dd>
          </div>
        )}
        {sub.secret_rotation_ends_at && new Date(sub.secret_rotation_ends_at) > new Date() && (
          <div>
            <dt>Previous secret</dt>
            <dd>also signs until {when(sub.secret_rotation_ends_at)}</dd>
          </div>
        )}
      </dl>
      {tested && (
        <p className={tested.delivered ? 'notice' : 'form-problem'} role="status">
          {tested.delivered ? 'Test event delivered' : 'Test event not delivered'}: {tested.status_code !== null ? `HTTP ${tested.status_code}` : 'no answer'} in {Math.round(tested.duration_ms)} ms
          {tested.error ? ` — ${tested.error}` : ''}
          {!tested.delivered && '. It will be retried on the usual schedule.'}
        </p>
      )}
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="card-actions">
        <button type="button" className="button" disabled={busy || !sub.enabled} onClick={() => action.mutate('test')}>
          {busy && action.variables === 'test' ? 'Sending…' : 'Send test event'}
        </button>
        <button type="button" className="button" onClick={onShowDeliveries}>
          Deliveries
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => action.mutate('rotate')}>
          Rotate secret
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => action.mutate(sub.enabled ? 'disable' : 'enable')}>
          {sub.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="button danger" disabled={busy} onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      </div>
      <ModalDialog title="Delete this subscription?" role="alertdialog" isOpen={confirmDelete} onClose={() => setConfirmDelete(false)}>
        <p>
          <code className="break">{sub.url}</code> stops receiving events; its pending deliveries are cancelled.
        </p>
        <ConfirmActions
          action="Delete"
          onCancel={() => setConfirmDelete(false)}
          onConfirm={() => {
            setConfirmDelete(false);
            action.mutate('delete');
          }}
        />
      </ModalDialog>
    </article>
  );
}
