// API keys: the tenant's keys (name, prefix, scopes, dates; never their values), a form creating one
// (its key shown once, with a copy button), and revoking one after a confirmation.
import { api, unwrap } from '../../api/client';
import { useApiKeys, type ApiKey } from '../../api/access';
import { apiKey as sessionKey } from '../../api/session';
import { when } from '../../components/ops/QueryState';
import { CredentialList } from './CredentialList';

const isSessionKey = (k: ApiKey) => (sessionKey() ?? '').startsWith(k.prefix);

export function ApiKeysSection() {
  const keys = useApiKeys();
  return (
    <CredentialList
      title="API keys"
      what="API key"
      hint="Keys call the REST API as this tenant, with the scopes they were given. A key is shown once, when it is created."
      query={keys}
      queryKey="api-keys"
      withExpiry
      create={async (body) => {
        const data = await unwrap(api.POST('/api-keys', { body }));
        return { title: `New API key “${data.name}”`, values: [{ label: 'API key', value: data.key ?? '' }] };
      }}
      revoke={(id) => unwrap(api.DELETE('/api-keys/{id}', { params: { path: { id } } }))}
      nameExtra={(k) => isSessionKey(k) && <span className="tag">this session</span>}
      identity={{ header: 'Key starts', cell: (k) => <code>{k.prefix}…</code> }}
      extraColumns={[{ header: 'Expires', cell: (k) => (k.expires_at ? when(k.expires_at) : 'never') }]}
      revokeTitle={(k) => `Revoke the key “${k?.name ?? ''}”?`}
      revokeBody={(k) => (
        <>
          <p>It stops working at once, for every program that uses it.</p>
          {k && isSessionKey(k) && <p className="form-problem">This studio is signed in with this key: revoking it signs you out.</p>}
        </>
      )}
    />
  );
}
