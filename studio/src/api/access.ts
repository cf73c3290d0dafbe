// Server state of the API access page: API keys, OAuth clients, usage and the audit log (admin keys
// for all but usage, which needs read).
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import { paged } from './paged';
import type { components } from './schema';

export type ApiKey = components['schemas']['ApiKey'];
export type OAuthClient = components['schemas']['OAuthClient'];
export type AuditEntry = components['schemas']['AuditEntry'];
export type UsageReport = components['schemas']['UsageReport'];
export type Scope = components['schemas']['Scope'];
export const SCOPES: Scope[] = ['read', 'write', 'delete', 'admin'];

export function useApiKeys() {
  return useQuery({ queryKey: ['api-keys'], queryFn: () => paged<ApiKey>(api.GET('/api-keys', { params: { query: { per_page: 100 } } })) });
}

export function useOAuthClients() {
  return useQuery({ queryKey: ['oauth-clients'], queryFn: () => paged<OAuthClient>(api.GET('/oauth/clients', { params: { query: { per_page: 100 } } })) });
}

export function useAuditLog(page: number, perPage = 20) {
  return useQuery({
    queryKey: ['audit-log', page, perPage],
    queryFn: () => paged<AuditEntry>(api.GET('/audit-log', { params: { query: { page, per_page: perPage } } })),
    placeholderData: keepPreviousData,
  });
}

export type UsageGroup = 'hour' | 'day' | 'route';

export function useUsage(groupBy: UsageGroup, from: string, to: string) {
  return useQuery({
    queryKey: ['usage', groupBy, from, to],
    queryFn: () => unwrap(api.GET('/usage', { params: { query: { group_by: groupBy, from, to } } })),
    placeholderData: keepPreviousData,
  });
}
