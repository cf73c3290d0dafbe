// Server state of the Webhooks page (TanStack Query): subscriptions, event types, the delivery log
// (polled every 3 s while a delivery is pending) and inbound events.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { paged } from '../../api/paged';
import type { components, operations } from '../../api/schema';

export type Subscription = components['schemas']['WebhookSubscription'];
export type Delivery = components['schemas']['WebhookDelivery'];
export type DeliveryFilter = NonNullable<operations['listWebhookDeliveries']['parameters']['query']>;
export type InboundStatus = NonNullable<NonNullable<operations['listInboundEvents']['parameters']['query']>['status']>;

/** What sending a test event answered (POST /webhooks/subscriptions/{id}/test). */
export type TestResult = components['schemas']['WebhookTestResult'];
/** An event received from a provider (GET /webhooks/inbound-events). */
export type InboundEvent = components['schemas']['InboundEvent'];

export function useSubscriptions() {
  return useQuery({
    queryKey: ['webhook-subscriptions'],
    queryFn: () => paged<Subscription>(api.GET('/webhooks/subscriptions', { params: { query: { per_page: 100 } } })),
  });
}

export function useEventTypes() {
  return useQuery({
    queryKey: ['event-types'],
    queryFn: () => unwrap(api.GET('/events/types')),
    staleTime: Infinity,
  });
}

export function useDeliveries(filter: DeliveryFilter) {
  return useQuery({
    queryKey: ['webhook-deliveries', filter],
    queryFn: () => paged<Delivery>(api.GET('/webhooks/deliveries', { params: { query: { ...filter, per_page: 25 } } })),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === 'pending') ? 3000 : false),
  });
}

export function useDelivery(id: string | null) {
  return useQuery({
    queryKey: ['webhook-delivery', id],
    queryFn: () => unwrap(api.GET('/webhooks/deliveries/{id}', { params: { path: { id: id! } } })),
    enabled: id !== null,
  });
}

export function useInboundEvents(status: InboundStatus | undefined, page: number) {
  return useQuery({
    queryKey: ['inbound-events', status, page],
    queryFn: () => paged<InboundEvent>(api.GET('/webhooks/inbound-events', { params: { query: { ...(status ? { status } : {}), page, per_page: 25 } } })),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((e) => e.status === 'received') ? 3000 : false),
  });
}
