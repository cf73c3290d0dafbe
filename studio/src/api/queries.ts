// Server state with TanStack Query: providers, the tenant's integrations (polled while one is being
// verified, more slowly after a while, so a long retry does not spend the rate limit), routing rules.
import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Integration, type Provider } from './client';
import { paged } from './paged';

/** Every installed provider: GET /providers is paged (25 by default), so all its pages, 100 at a time. */
async function allProviders(): Promise<Provider[]> {
  const all: Provider[] = [];
  for (let page = 1; ; page++) {
    const answer = await paged<Provider>(api.GET('/providers', { params: { query: { page, per_page: 100 } } }));
    all.push(...answer.items);
    if (page >= answer.lastPage) return all;
  }
}

export function useProviders() {
  return useQuery({ queryKey: ['providers'], queryFn: allProviders });
}

let pendingSince = 0;
/** Every second for the first 20 s of a verification, then every 5 s; not at all when nothing is pending. */
function pollInterval(list: Integration[] | undefined): number | false {
  if (!list?.some((i) => i.status === 'pending_verify')) {
    pendingSince = 0;
    return false;
  }
  pendingSince ||= Date.now();
  return Date.now() - pendingSince < 20_000 ? 1000 : 5000;
}

export function useIntegrations() {
  return useQuery({
    queryKey: ['integrations'],
    queryFn: () => unwrap(api.GET('/integrations', { params: { query: { per_page: 100 } } })),
    refetchInterval: (q) => pollInterval(q.state.data),
  });
}

export function useRoutingRules(enabled: boolean) {
  return useQuery({
    queryKey: ['routing-rules'],
    queryFn: () => unwrap(api.GET('/routing-rules', { params: { query: { per_page: 100 } } })),
    enabled,
  });
}
