// POST /operations/{capability}: route, run through the engine, fall back on provider failure,
// record every attempt as a delivery, and make retries with the same idempotency key safe.
// Every operation is recorded before its first provider call (in progress, with a lease the running
// process renews); a process that dies mid-call leaves a row that settles as `unknown` once the
// lease expires (lazily when its key or its deliveries are read, and by OperationSweeper).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store, AttemptResult, DeliveryRow, DeliveryFilter, IntegrationRow, OperationRow, ListResult } from '../store/types.ts';
import { UniqueViolation } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { Engine } from '../engine/engine.ts';
import type { EngineFailure } from '../http/errors.ts';
import { fieldErrors } from '../manifest/ajv.ts';
import { loadCapabilitySchemas } from '../manifest/capability-schemas.ts';
import { newId } from '../store/ids.ts';
import { PlugboardError, invalid, notFound } from '../errors/plugboard-error.ts';
import type { RoutingService } from '../routing/rules.ts';
import type { IntegrationService } from '../integrations/service.ts';
import type { EventPublisher } from '../webhooks/events.ts';
import { legacyResult, type OperationResult, type OperationOutcome } from './result.ts';

export type { OperationResult, OperationOutcome } from './result.ts';

/** Default lease of an operation in progress (PLUGBOARD_OPERATION_LEASE_MS). */
const DEFAULT_LEASE_MS = 60_000;

export interface OperationRequest {
  input: Record<string, unknown>;
  integration_id?: string;
  idempotency_key?: string;
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

/** One operation while it runs: recorded (with its first attempt) once a provider is about to be called. */
interface RunState {
  operationId: string;
  requestHash: string;
  recorded: boolean;
  heartbeat?: ReturnType<typeof setInterval>;
}

/** Writes a succeeded capability's result into synced records (SyncService.writeBack); never throws. */
export type WriteBack = (tenantId: string, integrationId: string, capability: string, input: unknown, output: unknown) => Promise<unknown>;

export class OperationService {
  readonly leaseMs: number;

  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly engine: Engine,
    private readonly routing: RoutingService,
    private readonly integrations: IntegrationService,
    private readonly logger: Logger,
    private readonly metrics?: OperationMetrics,
    private readonly events?: EventPublisher,
    private readonly opts: { leaseMs?: number; writeBack?: WriteBack } = {},
  ) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async run(tenantId: string, capability: string, req: OperationRequest, requestId: string): Promise<OperationOutcome> {
    const schema = loadCapabilitySchemas().get(capability);
    if (!schema || ![...this.connectors.values()].some((c) => c.capabilities.has(capability))) {
      throw new PlugboardError('not_found', `Unknown capability "${capability}".`);
    }
    if (!schema.validateInput(req.input)) throw invalid(fieldErrors(schema.validateInput.errors, 'input'));

    const operationId = newId();
    const requestHash = createHash('sha256').update(canonical({ capability, input: req.input, integration_id: req.integration_id ?? null })).digest('hex');
    // A key already used answers as before, without routing (which may have changed since).
    if (req.idempotency_key) {
      const prior = await this.store.operations.findByKey(tenantId, req.idempotency_key);
      if (prior) return { ...(await this.replay(tenantId, req.idempotency_key, requestHash, prior)), replayed: true };
    }

    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    // The operation is recorded with its first attempt, in one commit, just before the first provider call.
    const state: RunState = { operationId, requestHash, recorded: false };
    let result: OperationResult;
    // The last attempt's outcome, written with the operation's: kept for the unknown settlement below
    // if that write fails, so what the provider answered is never lost from the attempt.
    let lastAttempt: { deliveryId: string; result: AttemptResult } | undefined;
    try {
      const done = await this.execute(tenantId, capability, req, requestId, state);
      result = done.result;
      lastAttempt = done.lastAttempt;
      if (!(await this.store.operations.finish(tenantId, operationId, result.status, result, lastAttempt))) {
        // The lease lapsed while this process was still running (a stall, renewals failing) and the
        // operation was settled as unknown: its key already answers that, so this answer does too.
        // The attempts keep what the provider really answered (GET /deliveries/{id}).
        this.logger.warn({ operationId, capability, late: result.status }, 'operation settled as unknown while it ran: its late result is kept on its attempts only');
        result = { status: 'unknown', operation_id: operationId, capability, deliveries: result.deliveries };
      }
    } catch (err) {
      if (!state.recorded) {
        // Nothing recorded, nothing reached a provider: the key stays free for the corrected request.
        // Taken meanwhile by a concurrent request with the same key: that one's answer.
        if (err instanceof UniqueViolation && req.idempotency_key) return { ...(await this.replay(tenantId, req.idempotency_key, requestHash, err)), replayed: true };
      } else {
        // A provider may have acted: the key must never run again, and nobody knows the outcome.
        await this.store.operations.finish(tenantId, operationId, 'unknown', null, lastAttempt).catch(() => undefined);
      }
      if (err instanceof PlugboardError && err.code === 'no_active_provider') {
        this.metrics?.observe(capability, 'no_active_provider', seconds());
        await this.publish(tenantId, 'operation.failed', { operation_id: operationId, capability, attempts: 0, error: { type: 'no_active_provider', message: err.message } });
      }
      throw err;
    } finally {
      clearInterval(state.heartbeat);
    }
    this.metrics?.observe(capability, result.status, seconds());
    // Before answering, so a read of the records after this response sees the write (only capabilities that declare `record:`).
    if (result.status === 'succeeded' && this.connectors.get(result.provider)?.capabilities.get(capability)?.record) {
      await this.opts.writeBack?.(tenantId, result.integration_id, capability, req.input, result.output);
    }
    await this.emit(tenantId, result, seconds() * 1000);
    return { ...result, replayed: false };
  }

  /** Provider attempts, newest first; operations whose process died are settled first. */
  async deliveries(tenantId: string, filter: DeliveryFilter): Promise<ListResult<DeliveryRow>> {
    await this.store.operations.settleExpired(Date.now(), { tenantId });
    return this.store.deliveries.list(tenantId, filter);
  }

  async delivery(tenantId: string, id: string): Promise<DeliveryRow> {
    let d = await this.store.deliveries.get(tenantId, id);
    if (d?.status === 'in_progress' && (await this.store.operations.settleExpired(Date.now(), { tenantId, id: d.operation_id }))) d = await this.store.deliveries.get(tenantId, id);
    if (!d) throw notFound('Delivery');
    return d;
  }

  /** Settles every operation whose lease expired (OperationSweeper); returns how many. */
  settleExpired(): Promise<number> {
    return this.store.operations.settleExpired(Date.now());
  }

  /** The answer of an idempotency key already used. */
  private async replay(tenantId: string, key: string, requestHash: string, found: OperationRow | UniqueViolation): Promise<OperationResult> {
    let prior = found instanceof UniqueViolation ? await this.store.operations.findByKey(tenantId, key) : found;
    if (!prior) throw found;
    if (prior.request_hash !== requestHash) throw invalid({ idempotency_key: ['was already used with a different request'] }, 'The idempotency key was already used with a different request.');
    if (prior.status === 'in_progress' && (await this.store.operations.settleExpired(Date.now(), { tenantId, id: prior.id }))) {
      prior = (await this.store.operations.findByKey(tenantId, key)) ?? prior;
    }
    if (prior.status === 'in_progress') throw new PlugboardError('conflict', 'An operation with this idempotency key is still in progress.', { code: 'operation_in_progress' });
    return this.stored(prior);
  }

  private async stored(row: OperationRow): Promise<OperationResult> {
    if (row.status === 'unknown') {
      const attempts = await this.store.deliveries.list(row.tenant_id, { page: 1, perPage: 100, operation_id: row.id });
      return { status: 'unknown', operation_id: row.id, capability: row.capability, deliveries: attempts.items.sort((a, b) => a.attempt - b.attempt).map((d) => d.id) };
    }
    return row.http_status !== null ? legacyResult(row) : (row.response as OperationResult);
  }

  /** The outcome, and the last attempt's result still to be written (with the operation's, in one commit). */
  private async execute(tenantId: string, capability: string, req: OperationRequest, requestId: string, state: RunState): Promise<{ result: OperationResult; lastAttempt?: { deliveryId: string; result: AttemptResult } }> {
    const { operationId } = state;
    const targets = await this.routing.targets(tenantId, capability, req.input, req.integration_id);
    if (!targets.length) {
      throw new PlugboardError('conflict', `No active integration can run ${capability}.`, { code: 'no_active_provider', errors: { capability: ['no active integration is routed for this capability'] } });
    }
    const deliveries: string[] = [];
    let lastError: EngineFailure | undefined;
    let unavailable: PlugboardError | undefined;
    let lastAttempt: { deliveryId: string; result: AttemptResult } | undefined;
    for (const [i, target] of targets.entries()) {
      const credentials = this.credentialsOf(target);
      if (credentials instanceof PlugboardError) {
        // Not this provider's fault and not attempted: the next one may be usable.
        unavailable ??= credentials;
        continue;
      }
      const delivery: DeliveryRow = {
        id: newId(),
        tenant_id: tenantId,
        operation_id: operationId,
        capability,
        integration_id: target.id,
        provider: target.provider,
        attempt: deliveries.length + 1,
        status: 'in_progress',
        provider_status_code: null,
        duration_ms: 0,
        error: null,
        request_id: requestId,
        provider_request_id: null,
        created_at: new Date().toISOString(),
      };
      // Recorded before the call: a crash during it leaves this attempt to settle as unknown. The
      // first with the operation itself; a later one only while this process still holds the lease:
      // once it lapsed the operation may already answer `unknown`, and no further provider may be
      // called (no work done twice behind that answer).
      if (!state.recorded) {
        await this.record(tenantId, capability, req, state, delivery);
      } else if (!(await this.store.operations.startAttempt(delivery, Date.now() + this.leaseMs, Date.now()))) {
        this.logger.warn({ tenantId, operationId, capability, provider: target.provider }, 'operation lease lost: no further provider attempt');
        break;
      }
      deliveries.push(delivery.id);
      const result = await this.attempt(target, capability, req.input, credentials);
      const attempt: AttemptResult = {
        status: result.ok ? 'succeeded' : 'failed',
        provider_status_code: result.meta.status ?? null,
        duration_ms: result.meta.duration_ms,
        error: result.ok ? null : { type: result.error.type, message: result.error.message, ...(result.error.provider_code ? { provider_code: result.error.provider_code } : {}) },
        provider_request_id: result.meta.request_id ?? null,
      };
      if (result.ok) {
        return { result: { status: 'succeeded', operation_id: operationId, capability, integration_id: target.id, provider: target.provider, output: result.output, fallback_used: i > 0, deliveries }, lastAttempt: { deliveryId: delivery.id, result: attempt } };
      }
      lastError = result.error;
      this.logger.warn({ tenantId, operationId, capability, provider: target.provider, errorType: result.error.type, status: result.meta.status }, 'operation attempt failed');
      const last = !shouldFallBack(result.error) || i === targets.length - 1;
      if (last) {
        lastAttempt = { deliveryId: delivery.id, result: attempt };
        break;
      }
      // Written before the next provider is tried: what this one answered is kept whatever follows.
      await this.store.operations.finishAttempt(tenantId, delivery.id, attempt);
    }
    // No provider could be tried: every routed integration's credentials are unreadable here.
    if (!lastError) throw unavailable ?? new PlugboardError('internal', 'no provider attempt was made');
    const e = lastError;
    return {
      result: {
        status: 'failed',
        operation_id: operationId,
        capability,
        error: { type: e.type, message: e.message, ...(e.provider_message !== undefined ? { provider_message: e.provider_message } : {}) },
        deliveries,
      },
      lastAttempt,
    };
  }

  /** Records the operation (in progress, leased) with its first attempt, and keeps the lease while this process runs it. */
  private async record(tenantId: string, capability: string, req: OperationRequest, state: RunState, firstAttempt: DeliveryRow): Promise<void> {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const operationId = state.operationId;
    await this.store.operations.begin({ id: operationId, tenant_id: tenantId, capability, idempotency_key: req.idempotency_key ?? null, request_hash: state.requestHash, status: 'in_progress', http_status: null, response: null, lease_expires_at: now + this.leaseMs, created_at: at, updated_at: at }, firstAttempt);
    state.recorded = true;
    // While this process runs the operation it keeps the lease; if it dies, the lease runs out.
    state.heartbeat = setInterval(() => {
      this.store.operations.renew(tenantId, operationId, Date.now() + this.leaseMs).catch((err: Error) => this.logger.warn({ operationId, err: err.message }, 'cannot renew operation lease'));
    }, Math.max(20, Math.floor(this.leaseMs / 3)));
    state.heartbeat.unref();
  }

  private async emit(tenantId: string, r: OperationResult, ms: number): Promise<void> {
    if (r.status === 'succeeded') {
      await this.publish(tenantId, 'operation.succeeded', { operation_id: r.operation_id, capability: r.capability, integration_id: r.integration_id, provider: r.provider, output: r.output ?? {}, fallback_used: r.fallback_used, attempts: r.deliveries.length, duration_ms: Math.round(ms) });
    } else if (r.status === 'failed') {
      await this.publish(tenantId, 'operation.failed', { operation_id: r.operation_id, capability: r.capability, attempts: r.deliveries.length, error: { type: r.error.type, message: `The operation failed: ${r.error.message}` } });
    }
  }

  private async publish(tenantId: string, type: string, data: Record<string, unknown>): Promise<void> {
    await this.events?.publish(tenantId, type, data).catch((err: Error) => this.logger.error({ err: err.message }, 'cannot publish operation event'));
  }

  /** The integration's credentials, or the typed error saying why they cannot be opened here (e.g. master_key_unavailable). */
  private credentialsOf(target: IntegrationRow): Record<string, unknown> | PlugboardError {
    try {
      return this.integrations.openCredentials(target);
    } catch (err) {
      if (!(err instanceof PlugboardError) || err.kind !== 'unavailable') throw err;
      this.logger.warn({ integrationId: target.id, code: err.code, err: err.message }, 'cannot open integration credentials');
      return err;
    }
  }

  private async attempt(target: IntegrationRow, capability: string, input: Record<string, unknown>, credentials: Record<string, unknown>) {
    const connector = this.connectors.get(target.provider)!;
    return this.engine.run(connector, capability, { credentials, input, integration: { id: target.id, environment: target.environment ?? undefined, metadata: target.metadata }, ...this.integrations.oauthRunOptions(target) });
  }
}
