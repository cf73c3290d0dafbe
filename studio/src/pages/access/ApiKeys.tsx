// API keys: the tenant's keys (name, prefix, scopes, dates; never their values), a form creating one
// (its key shown once, with a copy button), and revoking one after a confirmation.
import { useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useApiKeys, type ApiKey } from '../../api/access';
import { apiKey as sessionKey } from '../../api/session';
import { ModalDialog } from '../../components/Dialog';
import { QueryState, when } from '../../components/ops/QueryState';
import { ShownOnce } from '../../components/ShownOnce';
import { CreateAccessForm } from './CreateAccessForm';

const isSessionKey = (k: ApiKey) => (sessionKey() ?? '').startsWith(k.prefix);

export function ApiKeysSection() {
  const keys = useApiKeys();
  const qc = useQueryClient();
  const headingId = useId();
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['api-keys'] }), qc.invalidateQueries({ queryKey: ['audit-log'] })]);

  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api-keys/{id}', { params: { path: { id } } })),
    onMutate: () => setProblem(null),
    onError: (err) => setProblem(err.message),
    onSettled: refresh,
  });

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>API keys</h2>
      <p className="hint">Keys call the REST API as this tenant, with the scopes they were given. A key is shown once, when it is created.</p>
      {created && <ShownOnce title={`New API key “${created.name}”`} values={[{ label: 'API key', value: created.key }]} onDone={() => setCreated(null)} />}
      <CreateAccessForm
        what="API key"
        withExpiry
        create={async (body) => {
          const data = await unwrap<{ key?: string; name: string }>(api.POST('/api-keys', { body }));
          setCreated({ name: data.name, key: data.key ?? '' });
          await refresh();
        }}
      />
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <QueryState query={keys} what="the API keys" empty={keys.data?.items.length === 0 ? 'No API keys yet.' : undefined}>
        <div className="table-wrap" role="region" aria-label="API key list" tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key starts</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data?.items.map((k) => (
                <tr key={k.id}>
                  <td>
                    {k.name}
                    {isSessionKey(k) && <span className="tag">this session</span>}
                  </td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>{when(k.created_at)}</td>
                  <td>{k.last_used_at ? when(k.last_used_at) : 'never'}</td>
                  <td>{k.expires_at ? when(k.expires_at) : 'never'}</td>
                  <td>
                    <button type="button" className="button small danger" disabled={revoke.isPending} onClick={() => setRevoking(k)}>
                      Revoke <span className="visually-hidden">{k.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </QueryState>
      <ModalDialog title={`Revoke the key “${revoking?.name ?? ''}”?`} role="alertdialog" isOpen={revoking !== null} onClose={() => setRevoking(null)}>
        <p>It stops working at once, for every program that uses it.</p>
        {revoking && isSessionKey(revoking) && (
          <p className="form-problem">This studio is signed in with this key: revoking it signs you out.</p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" autoFocus onClick={() => setRevoking(null)}>
            Cancel
          </button>
          <button
            type="button"
            className="button danger"
            onClick={() => {
              revoke.mutate(revoking!.id);
              setRevoking(null);
            }}
          >
            Revoke
          </button>
        </div>
      </ModalDialog>
    </section>
  );
}
