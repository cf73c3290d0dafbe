// Integrations: the providers installed on this server by category (tabs), each as a card with the
// tenant's integration for it, if any.
import { useMemo } from 'react';
import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import { useIntegrations, useProviders } from '../api/queries';
import type { Integration, Provider } from '../api/client';
import { ProviderCard } from '../components/ProviderCard';
import { categoryLabel, words } from '../labels';

/** After an OAuth connect the API redirects back with ?integration_id=&status= or ?error=. */
function connectNotice(): { ok: boolean; text: string } | null {
  const q = new URLSearchParams(location.search);
  if (q.get('error')) return { ok: false, text: `Connecting failed: ${q.get('error')}` };
  if (q.get('integration_id')) return { ok: true, text: `Connected; status ${words(q.get('status') ?? 'unknown')}.` };
  return null;
}

export function IntegrationsPage() {
  const providers = useProviders();
  const integrations = useIntegrations();
  const notice = useMemo(connectNotice, []);
  const byProvider = useMemo(() => new Map((integrations.data ?? []).map((i) => [i.provider, i])), [integrations.data]);
  const categories = useMemo(() => [...new Set((providers.data ?? []).map((p) => p.category))].sort(), [providers.data]);

  return (
    <>
      <h1>Integrations</h1>
      <p className="lede">Configure the providers your tenant uses. Credentials are checked with the provider as soon as you save them.</p>
      {notice && (
        <p className={notice.ok ? 'notice' : 'form-problem'} role="status">
          {notice.text}
        </p>
      )}
      {(providers.isPending || integrations.isPending) && (
        <p role="status" className="loading">
          Loading providers…
        </p>
      )}
      {(providers.isError || integrations.isError) && (
        <div role="alert" className="error-state">
          <p>Could not load the integrations: {(providers.error ?? integrations.error)?.message}</p>
          <button
            type="button"
            className="button"
            onClick={() => {
              void providers.refetch();
              void integrations.refetch();
            }}
          >
            Try again
          </button>
        </div>
      )}
      {providers.isSuccess && integrations.isSuccess && providers.data.length === 0 && (
        <p className="empty-state">No providers are installed on this server. Add connector manifests to its connectors directory.</p>
      )}
      {providers.isSuccess && integrations.isSuccess && providers.data.length > 0 && (
        <Tabs className="tabs" defaultSelectedKey="all">
          <TabList aria-label="Provider categories" className="tab-list">
            <Tab id="all" className="tab">
              All ({providers.data.length})
            </Tab>
            {categories.map((c) => (
              <Tab key={c} id={c} className="tab">
                {categoryLabel(c)} ({providers.data.filter((p) => p.category === c).length})
              </Tab>
            ))}
          </TabList>
          <TabPanel id="all" className="tab-panel">
            <Cards providers={providers.data} byProvider={byProvider} />
          </TabPanel>
          {categories.map((c) => (
            <TabPanel key={c} id={c} className="tab-panel">
              <Cards providers={providers.data.filter((p) => p.category === c)} byProvider={byProvider} />
            </TabPanel>
          ))}
        </Tabs>
      )}
    </>
  );
}

function Cards({ providers, byProvider }: { providers: Provider[]; byProvider: Map<string, Integration> }) {
  const sorted = [...providers].sort((a, b) => Number(byProvider.has(b.name)) - Number(byProvider.has(a.name)) || a.display_name.localeCompare(b.display_name));
  return (
    <div className="cards">
      {sorted.map((p) => (
        <ProviderCard key={p.name} provider={p} integration={byProvider.get(p.name)} />
      ))}
    </div>
  );
}
