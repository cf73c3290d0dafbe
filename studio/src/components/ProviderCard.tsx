// One provider: name, category, capabilities, auth type, whether it is configured (status colour and
// text), and what can be done with it: configure through the generated form, connect (OAuth), test
// the connection, disable or activate, rotate credentials, delete after a confirmation.
import { lazy, Suspense, useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Integration, type Provider } from '../api/client';
import { useRoutingRules } from '../api/queries';
import type { CredentialField } from '../credential-schema';
import { ConfirmActions, ModalDialog } from './Dialog';
import { StatusBadge } from './Status';
import { categoryLabel, capabilityLabel } from '../labels';
import { Link } from '../navigate';

const CredentialForm = lazy(() => import('./CredentialForm'));

const AUTH_LABELS: Record<string, string> = {
  api_key: 'API key',
  basic: 'Username and password',
  bearer: 'Bearer token',
  oauth2_authorization_code: 'OAuth (connect)',
  oauth2_client_credentials: 'OAuth client credentials',
  smtp: 'SMTP',
  none: 'None',
};

export function ProviderCard({ provider, integration }: { provider: Provider; integration?: Integration }) {
  const headingId = useId();
  const qc = useQueryClient();
  const [form, setForm] = useState<null | 'create' | 'rotate'>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const fields = provider.credential_schema as Record<string, CredentialField>;
  const hasFields = Object.keys(fields).length > 0;
  const oauth = provider.auth_type === 'oauth2_authorization_code';
  // Deleting an integration deletes its routing rules on the server, and disabling or activating it
  // changes what routing resolves to: the Routing page's queries are refreshed too.
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['integrations'] }), qc.invalidateQueries({ queryKey: ['routing-rules'] }), qc.invalidateQueries({ queryKey: ['routing-resolve'] })]);

  const action = useMutation({
    mutationFn: async (what: 'verify' | 'disable' | 'activate' | 'delete' | 'connect') => {
      setProblem(null);
      if (what === 'connect') {
        const returnTo = `${location.origin}${location.pathname}`;
        const started = await unwrap(api.GET('/integrations/connect/{provider}', { params: { path: { provider: provider.name }, query: { return_to: returnTo } } }));
        location.assign(started.authorization_url);
        return;
      }
      const id = integration!.id;
      const params = { params: { path: { id } } };
      if (what === 'delete') await unwrap(api.DELETE('/integrations/{id}', params));
      else if (what === 'verify') await unwrap(api.POST('/integrations/{id}/verify', params));
      else if (what === 'disable') await unwrap(api.POST('/integrations/{id}/disable', params));
      else await unwrap(api.POST('/integrations/{id}/activate', params));
    },
    onError: (err) => setProblem(err.message),
    onSettled: refresh,
  });

  const save = async (credentials: Record<string, unknown>) => {
    if (form === 'rotate' && integration) {
      await unwrap(api.PATCH('/integrations/{id}', { params: { path: { id: integration.id } }, body: { credentials } }));
    } else {
      await unwrap(api.POST('/integrations', { body: { provider: provider.name, credentials } }));
    }
    setForm(null);
    await refresh();
  };

  const verificationError = integration?.metadata?.['verification_error'] as string | undefined;
  const status = integration?.status ?? 'not_configured';
  const busy = action.isPending;

  return (
    <article className={`card card-${status}`} aria-labelledby={headingId}>
      <header className="card-header">
        <h3 id={headingId}>{provider.display_name}</h3>
        <StatusBadge status={status} />
      </header>
      <dl className="facts">
        <div>
          <dt>Category</dt>
          <dd>{categoryLabel(provider.category)}</dd>
        </div>
        <div>
          <dt>Authentication</dt>
          <dd>{AUTH_LABELS[provider.auth_type] ?? provider.auth_type}</dd>
        </div>
        <div>
          <dt>Capabilities</dt>
          <dd>{provider.capabilities.length ? provider.capabilities.map(capabilityLabel).join(', ') : 'none'}</dd>
        </div>
        {integration && hasFields && (
          <div>
            <dt>Credentials</dt>
            <dd>
              {Object.entries(fields)
                .filter(([name, f]) => (f.sensitive ? integration.credentials_set.includes(name) : integration.credentials?.[name] != null))
                .map(([name, f]) => `${f.title ?? name}: ${f.sensitive ? 'stored' : String((integration.credentials as Record<string, unknown>)[name])}`)
                .join(' · ')}
            </dd>
          </div>
        )}
      </dl>
      {verificationError && (
        <p className="verification-error" role="status">
          <strong>Verification failed:</strong> {verificationError}
        </p>
      )}
      {status === 'pending_verify' && !verificationError && (
        <p className="hint" role="status">
          Checking the credentials with {provider.display_name}…
        </p>
      )}
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="card-actions">
        {!integration && hasFields && !oauth && (
          <button type="button" className="button primary" onClick={() => setForm('create')}>
            Configure
          </button>
        )}
        {oauth && provider.oauth_app_configured !== false && (
          <button type="button" className="button primary" disabled={busy} onClick={() => action.mutate('connect')}>
            {integration ? 'Reconnect' : 'Connect'}
          </button>
        )}
        {oauth && provider.oauth_app_configured === false && !integration && (
          <p className="hint">
            Connecting needs the operator's OAuth app for this provider: set <code>PLUGBOARD_OAUTH_{provider.name.toUpperCase()}_CLIENT_ID</code>, <code>PLUGBOARD_OAUTH_{provider.name.toUpperCase()}_CLIENT_SECRET</code> and <code>PLUGBOARD_PUBLIC_URL</code> on the server.
          </p>
        )}
        {integration && (
          <>
            <Link to={`/integrations/${integration.id}`} className="button" aria-label={`Details of ${provider.display_name}`}>
              Details
            </Link>
            <button type="button" className="button" disabled={busy} onClick={() => action.mutate('verify')}>
              Test connection
            </button>
            {integration.status === 'inactive' ? (
              <button type="button" className="button" disabled={busy} onClick={() => action.mutate('activate')}>
                Activate
              </button>
            ) : (
              <button type="button" className="button" disabled={busy} onClick={() => action.mutate('disable')}>
                Disable
              </button>
            )}
            {hasFields && (
              <button type="button" className="button" onClick={() => setForm('rotate')}>
                Rotate credentials
              </button>
            )}
            <button type="button" className="button danger" disabled={busy} onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          </>
        )}
      </div>

      <ModalDialog title={form === 'rotate' ? `Rotate ${provider.display_name} credentials` : `Configure ${provider.display_name}`} isOpen={form !== null} onClose={() => setForm(null)}>
        <Suspense fallback={<p role="status">Loading the form…</p>}>
          {form && <CredentialForm fields={fields} mode={form} current={integration?.credentials as Record<string, unknown> | undefined} stored={integration?.credentials_set} submitLabel={form === 'rotate' ? 'Save new credentials' : 'Save and verify'} onSubmit={save} onCancel={() => setForm(null)} />}
        </Suspense>
      </ModalDialog>

      {integration && (
        <ModalDialog title={`Delete the ${provider.display_name} integration?`} role="alertdialog" isOpen={confirmDelete} onClose={() => setConfirmDelete(false)}>
          <DeleteConfirmation
            integration={integration}
            onCancel={() => setConfirmDelete(false)}
            onConfirm={() => {
              setConfirmDelete(false);
              action.mutate('delete');
            }}
          />
        </ModalDialog>
      )}
    </article>
  );
}

function DeleteConfirmation({ integration, onCancel, onConfirm }: { integration: Integration; onCancel(): void; onConfirm(): void }) {
  const rules = useRoutingRules(true);
  const using = (rules.data ?? []).filter((r) => r.integration_id === integration.id || r.fallback_integration_id === integration.id);
  return (
    <>
      <p>Its stored credentials are removed and operations stop using it.</p>
      {rules.isPending && <p role="status">Looking for routing rules that use it…</p>}
      {rules.isError && <p className="form-problem">Could not list routing rules: {rules.error.message}</p>}
      {rules.isSuccess &&
        (using.length ? (
          <>
            <p>These routing rules are deleted with it:</p>
            <ul>
              {using.map((r) => (
                <li key={r.id}>
                  {capabilityLabel(r.capability)} (priority {r.priority}
                  {r.fallback_integration_id === integration.id ? ', as fallback' : ''})
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p>No routing rule uses it.</p>
        ))}
      <ConfirmActions action="Delete" onCancel={onCancel} onConfirm={onConfirm} />
    </>
  );
}
