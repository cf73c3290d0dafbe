// POST /operations/{capability}: route, run through the engine, fall back on provider failure,
// record every attempt as a delivery, and make retries with the same idempotency key safe.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store, DeliveryRow, IntegrationRow } from '../store/types.ts';
import { UniqueViolation } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { Engine } from '../engine/engine.ts';
import type { EngineFailure } from '../http/errors.ts';
import { fieldErrors } from '../manifest/ajv.ts';
import { loadCapabilitySchemas } from '../manifest/capability-schemas.ts';
import { newId } from '../access/api-keys.ts';
import { PlugboardError, invalid } from '../errors/plugboard-error.ts';
import type { RoutingService } from '../routing/rules.ts';
import type { IntegrationService } from '../integrations/service.ts';
import type { EventPublisher } from '../webhooks/events.ts';

export interface OperationRequest {
  input: Record<string, unknown>;
  integration_id?: string;
  idempotency_key?: string;
}

export interface OperationOutcome {
  httpStatus: number;
  body: Record<string, unknown>;
  replayed: boolean;
}

export interface OperationMetrics {
  observe(capability: string, outcome: string, seconds: number): void;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Failures where another provider may well succeed. */
function shouldFallBack(e: EngineFailure): boolean {
  return e.type === 'timeout' || e.type === 'network_error' || e.type === 'rate_limited' || (e.type === 'provider_error' && (e.status === undefined || e.status === 429 || e.status >= 500));
}

export class OperationService {
  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly engine: Engine,
    private readonly routing: RoutingService,
    private readonly integrations: IntegrationService,
    private readonly logger: Logger,
    private readonly metrics?: OperationMetrics,
    private readonly events?: EventPublisher,
  ) {}

  async run(tenantId: string, capability: string, req: OperationRequest, requestId: string): Promise<OperationOutcome> {
    const schema = loadCapabilitySchemas().get(capability);
    if (!schema || ![...this.connectors.values()].some((c) => c.capabilities.has(capability))) {
      throw new PlugboardError('not_found', `Unknown capability "${capability}".`);
    }
    if (!schema.validateInput(req.input)) throw invalid(fieldErrors(schema.validateInput.errors, 'input'));

    const operationId = newId();
    const requestHash = createHash('sha256').update(canonical({ capability, input: req.input, integration_id: req.integration_id ?? null })).digest('hex');
    if (req.idempotency_key) {
      const now = new Date().toISOString();
      try {
        await this.store.operations.begin({ id: operationId, tenant_id: tenantId, capability, idempotency_key: req.idempotency_key, request_hash: requestHash, status: 'in_progress', http_status: null, response: null, created_at: now, updated_at: now });
      } catch (err) {
        if (!(err instanceof UniqueViolation)) throw err;
        const prior = await this.store.operations.findByKey(tenantId, req.idempotency_key);
        if (!prior) throw err;
        if (prior.request_hash !== requestHash) throw invalid({ idempotency_key: ['was already used with a different request'] }, 'The idempotency key was already used with a different request.');
        if (prior.status === 'in_progress') throw new PlugboardError('conflict', 'An operation with this idempotency key is still in progress.', { code: 'operation_in_progress' });
        return { httpStatus: prior.http_status ?? 200, body: prior.response as Record<string, unknown>, replayed: true };
      }
    }

    const started = performance.now();
    let outcome: Omit<OperationOutcome, 'replayed'>;
    const progress = { reachedProvider: false };
    try {
      outcome = await this.execute(tenantId, capability, req, requestId, operationId, progress);
    } catch (err) {
      if (req.idempotency_key) {
        if (!progress.reachedProvider) {
          // Nothing reached a provider: free the key so the corrected request can use it.
          await this.store.operations.remove(tenantId, operationId).catch(() => undefined);
        } else {
          // A provider may have acted: the key must never run again. Record the failure instead.
          await this.store.operations
            .finish(tenantId, operationId, 'failed', 500, { success: false, message: 'The operation failed after reaching the provider; check GET /deliveries before retrying with a new key.', code: 'internal_error', operation_id: operationId })
            .catch(() => undefined);
        }
      }
      throw err;
    }
    this.metrics?.observe(capability, outcome.httpStatus < 300 ? 'succeeded' : outcome.httpStatus === 409 ? 'no_active_provider' : 'failed', (performance.now() - started) / 1000);
    if (req.idempotency_key) await this.store.operations.finish(tenantId, operationId, outcome.httpStatus < 300 ? 'succeeded' : 'failed', outcome.httpStatus, outcome.body);
    await this.emit(tenantId, capability, operationId, outcome, (performance.now() - started));
    return { ...outcome, replayed: false };
  }

  private async execute(tenantId: string, capability: string, req: OperationRequest, requestId: string, operationId: string, progress: { reachedProvider: boolean }): Promise<Omit<OperationOutcome, 'replayed'>> {
    const targets = await this.routing.targets(tenantId, capability, req.input, req.integration_id);
    if (!targets.length) {
      return {
        httpStatus: 409,
        body: { success: false, message: `No active integration can run ${capability}.`, code: 'no_active_provider', errors: { capability: ['no active integration is routed for this capability'] } },
      };
    }
    const deliveries: DeliveryRow[] = [];
    let lastError: EngineFailure | undefined;
    for (const [i, target] of targets.entries()) {
      progress.reachedProvider = true;
      const result = await this.attempt(target, capability, req.input);
      const delivery: DeliveryRow = {
        id: newId(),
        tenant_id: tenantId,
        operation_id: operationId,
        capability,
        integration_id: target.id,
        provider: target.provider,
        attempt: i + 1,
        status: result.ok ? 'succeeded' : 'failed',
        provider_status_code: result.meta.status ?? null,
        duration_ms: result.meta.duration_ms,
        error: result.ok ? null : { type: result.error.type, message: result.error.message, ...(result.error.provider_code ? { provider_code: result.error.provider_code } : {}) },
        request_id: requestId,
        provider_request_id: result.meta.request_id ?? null,
        created_at: new Date().toISOString(),
      };
      await this.store.deliveries.create(delivery);
      deliveries.push(delivery);
      if (result.ok) {
        return {
          httpStatus: 200,
          body: {
            success: true,
            message: 'Operation succeeded.',
            data: {
              operation_id: operationId,
              capability,
              integration_id: target.id,
              provider: target.provider,
              output: result.output,
              fallback_used: i > 0,
              deliveries: deliveries.map((d) => d.id),
            },
          },
        };
      }
      lastError = result.error;
      this.logger.warn({ tenantId, operationId, capability, provider: target.provider, errorType: result.error.type, status: result.meta.status }, 'operation attempt failed');
      if (!shouldFallBack(result.error)) break;
    }
    const e = lastError!;
    const httpStatus = e.type === 'invalid_input' ? 422 : e.type === 'timeout' ? 504 : 502;
    return {
      httpStatus,
      body: {
        success: false,
        message: `The operation failed: ${e.message}`,
        code: e.type,
        errors: { provider: [e.provider_message ?? e.message] },
        operation_id: operationId,
        deliveries: deliveries.map((d) => d.id),
      },
    };
  }

  private async emit(tenantId: string, capability: string, operationId: string, outcome: Omit<OperationOutcome, 'replayed'>, ms: number): Promise<void> {
    if (!this.events) return;
    const body = outcome.body as { data?: { integration_id?: string; provider?: string; output?: unknown; fallback_used?: boolean; deliveries?: string[] }; code?: string; message?: string; deliveries?: string[] };
    const data = outcome.httpStatus < 300
      ? { operation_id: operationId, capability, integration_id: body.data?.integration_id, provider: body.data?.provider, output: body.data?.output ?? {}, fallback_used: body.data?.fallback_used ?? false, attempts: body.data?.deliveries?.length ?? 1, duration_ms: Math.round(ms) }
      : { operation_id: operationId, capability, attempts: body.deliveries?.length ?? 0, error: { type: body.code ?? 'provider_error', message: body.message ?? 'failed' } };
    await this.events.publish(tenantId, outcome.httpStatus < 300 ? 'operation.succeeded' : 'operation.failed', data).catch((err: Error) => this.logger.error({ err: err.message }, 'cannot publish operation event'));
  }

  private async attempt(target: IntegrationRow, capability: string, input: Record<string, unknown>) {
    const connector = this.connectors.get(target.provider)!;
    let credentials: Record<string, unknown>;
    try {
      credentials = this.integrations.openCredentials(target);
    } catch (err) {
      this.logger.error({ integrationId: target.id, err: (err as Error).message }, 'cannot open integration credentials');
      return { ok: false as const, error: { type: 'unsupported' as const, message: 'the integration credentials cannot be opened (master key missing?)', retryable: true }, meta: { attempts: 0, duration_ms: 0 } };
    }
    return this.engine.run(connector, capability, { credentials, input, integration: { id: target.id, metadata: target.metadata } });
  }
}
