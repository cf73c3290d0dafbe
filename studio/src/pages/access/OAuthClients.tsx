// OAuth clients for the client credentials grant (POST /api/v1/oauth/token): the list (never their
// secrets), creating one (its secret shown once, with a copy button) and revoking one with every
// token it holds.
import { useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useOAuthClients, type OAuthClient } from '../../api/access';
import { ModalDialog } from '../../components/Dialog';
import { QueryState, when } from '../../components/ops/QueryState';
import { ShownOnce } from '../../components/ShownOnce';
import { CreateAccessForm } from './CreateAccessForm';

export function OAuthClientsSection() {
  const clients = useOAuthClients();
  const qc = useQueryClient();
  const headingId = useId();
  const [created, setCreated] = useState<{ name: string; clientId: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<OAuthClient | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['oauth-clients'] }), qc.invalidateQueries({ queryKey: ['audit-log'] })]);

  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/oauth/clients/{id}', { params: { path: { id } } })),
    onMutate: () => setProblem(null),
    onError: (err) => setProblem(err.message),
    onSettled: refresh,
  });

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>OAuth clients</h2>
      <p className="hint">
        A client exchanges its ID and secret for short-lived tokens at <code>/api/v1/oauth/token</code> (client credentials grant). The secret is
        shown once.
      </p>
      {created && (
        <ShownOnce
          title={`New OAuth client “${created.name}”`}
          values={[
            { label: 'Client ID', value: created.clientId },
            { label: 'Client secret', value: created.secret },
          ]}
          onDone={() => setCreated(null)}
        />
      )}
      <CreateAccessForm
        what="OAuth client"
        create={async (body) => {
          const data = await unwrap<OAuthClient & { client_secret?: string }>(api.POST('/oauth/clients', { body: { name: body.name, scopes: body.scopes } }));
          setCreated({ name: data.name, clientId: data.client_id, secret: data.client_secret ?? '' });
          await refresh();
        }}
      />
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <QueryState query={clients} what="the OAuth clients" empty={clients.data?.items.length === 0 ? 'No OAuth clients yet.' : undefined}>
        <div className="table-wrap" role="region" aria-label="OAuth client list" tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Client ID</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {clients.data?.items.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>
                    <code>{c.client_id}</code>
                  </td>
                  <td>{c.scopes.join(', ')}</td>
                  <td>{when(c.created_at)}</td>
                  <td>{c.last_used_at ? when(c.last_used_at) : 'never'}</td>
                  <td>
                    <button type="button" className="button small danger" disabled={revoke.isPending} onClick={() => setRevoking(c)}>
                      Revoke <span className="visually-hidden">{c.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </QueryState>
      <ModalDialog title={`Revoke the client “${revoking?.name ?? ''}”?`} role="alertdialog" isOpen={revoking !== null} onClose={() => setRevoking(null)}>
        <p>Its secret stops working and every token it holds is revoked at once.</p>
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
