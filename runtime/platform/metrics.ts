// Prometheus metrics (prom-client) on a registry of our own, so several apps in one process
// (tests) do not collide on the global registry.
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'plugboard_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly httpDuration = new Histogram({ name: 'plugboard_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly operations = new Counter({ name: 'plugboard_operations_total', help: 'Operations by capability and outcome', labelNames: ['capability', 'outcome'], registers: [this.registry] });
  readonly operationDuration = new Histogram({ name: 'plugboard_operation_duration_seconds', help: 'Operation latency by capability', labelNames: ['capability', 'outcome'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly inboundRejected = new Counter({ name: 'plugboard_inbound_webhooks_rejected_total', help: 'Inbound webhook requests refused for their signature, by provider and reason code', labelNames: ['provider', 'code'], registers: [this.registry] });
  readonly webhookAttempts = new Counter({ name: 'plugboard_webhook_attempts_total', help: 'Outbound webhook attempts by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly jobQueueDepth = new Gauge({ name: 'plugboard_job_queue_depth', help: 'Work due but not yet done: Agenda jobs (e.g. verify-integration), webhook deliveries and inbound webhook events', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'plugboard_' });
  }

  observe(capability: string, outcome: string, seconds: number): void {
    this.operations.inc({ capability, outcome });
    this.operationDuration.observe({ capability, outcome }, seconds);
  }
}
