// Integration detail (DESIGN §9): one integration's status, provider, environment, metadata (the
// keys Plugboard sets shown apart from the tenant's own), enabled capabilities and times; the
// provider deliveries of its operations; its sync runs with "Sync now"; the records synced.
import { useId } from 'react';
import { useProviders } from '../api/queries';
import { ApiError, type Integration } from '../api/client';
import { StatusBadge } from '../components/Status';
import { QueryState, when } from '../components/ops/QueryState';
import { categoryLabel, capabilityLabel } from '../labels';
import { Link } from '../navigate';
import { useIntegration } from './integration/detail-queries';
import { ProviderDeliveries } from './integration/ProviderDeliveries';
import { SyncSection } from './integration/SyncSection';
import { Value } from './integration/Value';
import '../components/ops/ops.css';
import './integration/detail.css';

const ULID = /^[0-9a-z]{26}$/;

/** Keys Plugboard sets beside the tenant's metadata (DESIGN §10; runtime/integrations/metadata.ts), shown merged in `metadata`. */
const SYSTEM_KEYS: Record<string, string> = {
  verification_error: 'Verification error',
  verification_error_type: 'Verification error type',
  next_verification_at: 'Next verification',
  verification: 'Verification',
  needs_reauth: 'Needs reconnecting',
  reauth_reason: 'Reconnect reason',
};

function NotFound({ id }: { id: string }) {
  return (
    <>
      <BackLink />
      <h1>Integration not found</h1>
      <p className="empty-state">
        There is no integration <code>{id}</code> in this tenant: it may have been deleted.
      </p>
    </>
  );
}

const BackLink = () => (
  <nav aria-label="Breadcrumb" className="breadcrumb">
    <Link to="/integrations">← All integrations</Link>
  </nav>
);

export function IntegrationDetailPage({ id }: { id: string }) {
  const valid = ULID.test(id);
  const integration = useIntegration(valid ? id : '');
  if (!valid || (integration.error instanceof ApiError && integration.error.status === 404)) return <NotFound id={id} />;
  const i = integration.data;
  return (
    <>
      <BackLink />
      <QueryState query={integration} what="the integration">
        {i && <Detail integration={i} />}
      </QueryState>
    </>
  );
}

function Detail({ integration: i }: { integration: Integration }) {
  const providers = useProviders();
  const provider = providers.data?.find((p) => p.name === i.provider);
  const name = provider?.display_name ?? i.display_name ?? i.provider;
  const overviewId = useId();
  const metaId = useId();
  const metadata = Object.entries(i.metadata ?? {});
  const system = metadata.filter(([k]) => k in SYSTEM_KEYS);
  const own = metadata.filter(([k]) => !(k in SYSTEM_KEYS));
  const connection = Object.entries((i.connection ?? {}) as Record<string, unknown>);
  const credentials = Object.entries((i.credentials ?? {}) as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);

  return (
    <>
      <header className="detail-header">
        <h1>{name}</h1>
        <StatusBadge status={i.status} />
      </header>
      <p className="lede">
        Integration <code>{i.id}</code>
      </p>
      {typeof i.metadata?.['verification_error'] === 'string' && (
        <p className="verification-error" role="status">
          <strong>Verification failed:</strong> {String(i.metadata['verification_error'])}
        </p>
      )}
      <div className="detail-grid">
        <section className="panel" aria-labelledby={overviewId}>
          <h2 id={overviewId}>Overview</h2>
          <dl className="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <StatusBadge status={i.status} />
              </dd>
            </div>
            <div>
              <dt>Provider</dt>
              <dd className="as-is">
                {name} (<code>{i.provider}</code>)
              </dd>
            </div>
            <div>
              <dt>Category</dt>
              <dd>{categoryLabel(provider?.category ?? i.category ?? '—')}</dd>
            </div>
            <div>
              <dt>Environment</dt>
              <dd className="as-is">{i.environment ?? (provider?.environments?.length ? `default (${provider.environments.join(', ')} available)` : 'default')}</dd>
            </div>
            <div>
              <dt>Enabled capabilities</dt>
              <dd className="as-is">{i.enabled_capabilities.length ? i.enabled_capabilities.map(capabilityLabel).join(', ') : 'none'}</dd>
            </div>
            {credentials.length > 0 && (
              <div>
                <dt>Credentials shown</dt>
                <dd className="as-is">
                  {credentials.map(([k, v]) => `${k}: ${String(v)}`).join(' · ')} (secret fields are never shown)
                </dd>
              </div>
            )}
            <div>
              <dt>Created</dt>
              <dd>{when(i.created_at)}</dd>
            </div>
            <div>
              <dt>Verified</dt>
              <dd>{i.verified_at ? when(i.verified_at) : 'not yet'}</dd>
            </div>
            <div>
              <dt>Updated</dt>
              <dd>{when(i.updated_at)}</dd>
            </div>
          </dl>
        </section>
        <section className="panel" aria-labelledby={metaId}>
          <h2 id={metaId}>Metadata</h2>
          <h3>Set by Plugboard</h3>
          {system.length ? (
            <dl className="facts" data-testid="system-metadata">
              {system.map(([k, v]) => (
                <div key={k}>
                  <dt>{SYSTEM_KEYS[k]}</dt>
                  <dd className="as-is">
                    {k === 'next_verification_at' && typeof v === 'string' ? when(v) : <Value value={v} />} <code className="muted-code">{k}</code>
                  </dd>
                </div>
              ))}
            </dl>
          ) : (
            <p className="hint">Nothing: no failed verification and no reconnect needed.</p>
          )}
          <h3>Your metadata</h3>
          {own.length ? (
            <dl className="facts" data-testid="tenant-metadata">
              {own.map(([k, v]) => (
                <div key={k}>
                  <dt>
                    <code>{k}</code>
                  </dt>
                  <dd className="as-is">
                    <Value value={v} />
                  </dd>
                </div>
              ))}
            </dl>
          ) : (
            <p className="hint">None. Metadata is the tenant's own free-form object, stored and returned as given.</p>
          )}
          {connection.length > 0 && (
            <>
              <h3>Connection</h3>
              <dl className="facts">
                {connection.map(([k, v]) => (
                  <div key={k}>
                    <dt>
                      <code>{k}</code>
                    </dt>
                    <dd className="as-is">
                      <Value value={v} />
                    </dd>
                  </div>
                ))}
              </dl>
            </>
          )}
        </section>
      </div>
      <ProviderDeliveries integrationId={i.id} />
      <SyncSection integration={i} providerStreams={provider?.streams?.map((st) => st.name) ?? []} />
    </>
  );
}
