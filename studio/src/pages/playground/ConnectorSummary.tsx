// What a valid manifest defines: the connector's name, category, authentication, capabilities,
// streams and environments, and a preview of the credential form it generates (the Integrations
// page's form, loaded on demand; values typed here are checked in the browser and never sent).
import { lazy, Suspense, useState } from 'react';
import type { components } from '../../api/schema';
import type { CredentialField } from '../../credential-schema';
import { categoryLabel, words } from '../../labels';

const CredentialForm = lazy(() => import('../../components/CredentialForm'));

export type Connector = NonNullable<components['schemas']['ManifestCheck']['connector']>;

const list = (xs: string[]) => (xs.length ? xs.map(words).join(', ') : 'none');

export function ConnectorSummary({ connector }: { connector: Connector }) {
  const fields = connector.credential_schema as unknown as Record<string, CredentialField>;
  const [checked, setChecked] = useState(false);
  return (
    <>
      <dl className="facts connector-facts">
        <div>
          <dt>Name</dt>
          <dd>
            <code>{connector.name}</code> ({connector.display_name})
          </dd>
        </div>
        <div>
          <dt>Category</dt>
          <dd>{categoryLabel(connector.category)}</dd>
        </div>
        <div>
          <dt>Authentication</dt>
          <dd>{words(connector.auth_type)}</dd>
        </div>
        <div>
          <dt>Capabilities</dt>
          <dd>{list(connector.capabilities)}</dd>
        </div>
        <div>
          <dt>Streams</dt>
          <dd>{list(connector.streams)}</dd>
        </div>
        <div>
          <dt>Environments</dt>
          <dd>{connector.environments.length ? connector.environments.join(', ') : 'the base URL only'}</dd>
        </div>
      </dl>
      <h3>Credential form preview</h3>
      {Object.keys(fields).length === 0 ? (
        <p className="empty-state">This connector asks for no credentials.</p>
      ) : (
        <>
          <p className="hint">The form tenants will fill in on the Integrations page. Try values: they are checked here, never sent.</p>
          <div className="dialog credential-preview">
            <Suspense fallback={<p role="status">Loading the form…</p>}>
              <CredentialForm
                key={JSON.stringify(fields)}
                fields={fields}
                mode="create"
                submitLabel="Check these values"
                onSubmit={async () => setChecked(true)}
              />
            </Suspense>
            {checked && (
              <p className="notice" role="status">
                These values pass the form's checks. Nothing was sent or stored.
              </p>
            )}
          </div>
        </>
      )}
    </>
  );
}
