// OAuth clients for the client credentials grant (POST /api/v1/oauth/token): the list (never their
// secrets), creating one (its secret shown once, with a copy button) and revoking one with every
// token it holds.
import { api, unwrap } from '../../api/client';
import { useOAuthClients } from '../../api/access';
import { CredentialList } from './CredentialList';

export function OAuthClientsSection() {
  const clients = useOAuthClients();
  return (
    <CredentialList
      title="OAuth clients"
      what="OAuth client"
      hint={
        <>
          A client exchanges its ID and secret for short-lived tokens at <code>/api/v1/oauth/token</code> (client credentials grant). The secret is shown
          once.
        </>
      }
      query={clients}
      queryKey="oauth-clients"
      create={async (body) => {
        const data = await unwrap(api.POST('/oauth/clients', { body: { name: body.name, scopes: body.scopes } }));
        return {
          title: `New OAuth client “${data.name}”`,
          values: [
            { label: 'Client ID', value: data.client_id },
            { label: 'Client secret', value: data.client_secret ?? '' },
          ],
        };
      }}
      revoke={(id) => unwrap(api.DELETE('/oauth/clients/{id}', { params: { path: { id } } }))}
      identity={{ header: 'Client ID', cell: (c) => <code>{c.client_id}</code> }}
      revokeTitle={(c) => `Revoke the client “${c?.name ?? ''}”?`}
      revokeBody={() => <p>Its secret stops working and every token it holds is revoked at once.</p>}
    />
  );
}
