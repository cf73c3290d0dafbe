// Server state of the Integration detail page (TanStack Query): the integration (polled while it
// is being verified), its provider deliveries, its sync runs (polled while one runs or one was just
// queued) and its records.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { paged } from '../../api/paged';
import type { components } from '../../api/schema';

export type ProviderDelivery = components['schemas']['Delivery'];
export type SyncRun = components['schemas']['SyncRun'];
export type SyncRecord = components['schemas']['SyncRecord'];

export function useIntegration(id: string) {
  return useQuery({
    queryKey: ['integration', id],
    queryFn: () => unwrap(api.GET('/integrations/{id}', { params: { path: { id } } })),
    enabled: id !== '',
    refetchInterval: (q) => (q.state.data?.status === 'pending_verify' ? 2000 : false),
  });
}

export function useProviderDeliveries(integrationId: string, page: number) {
  return useQuery({
    queryKey: ['provider-deliveries', integrationId, page],
    queryFn: () => paged<ProviderDelivery>(api.GET('/deliveries', { params: { query: { integration_id: integrationId, page, per_page: 10 } } })),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === 'in_progress') ? 3000 : false),
  });
}

/** `watchUntil`: keep polling until then even when nothing runs yet (a queued run starts with its job). */
export function useSyncRuns(integrationId: string, page: number, watchUntil: number) {
  return useQuery({
    queryKey: ['sync-runs', integrationId, page],
    queryFn: () => paged<SyncRun>(api.GET('/integrations/{id}/sync-runs', { params: { path: { id: integrationId }, query: { page, per_page: 10 } } })),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.status === 'running') || Date.now() < watchUntil ? 1000 : false),
  });
}

export function useRecords(integrationId: string, stream: string | undefined, page: number) {
  return useQuery({
    queryKey: ['records', integrationId, stream ?? '', page],
    queryFn: () => paged<SyncRecord>(api.GET('/records', { params: { query: { integration_id: integrationId, stream, page, per_page: 10 } } })),
    placeholderData: keepPreviousData,
  });
}
