// Sync: reads a connector's streams page by page into records (upserted by primary key), one run
// per integration and stream at a time across processes (a lease in the store), each page committed
// with the cursor and page request reached, so a killed run resumes from its last committed page.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store, ListQuery, ListResult } from '../store/types.ts';
import type { SyncRunRow, RecordRow } from '../store/sync-types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { Engine } from '../engine/engine.ts';
import type { PageRequest } from '../engine/pagination/paginator.ts';
import type { EventPublisher } from '../webhooks/events.ts';
import type { IntegrationService } from '../integrations/service.ts';
import type { AuditContext, AuditLog } from '../access/audit.ts';
import { newId } from '../store/ids.ts';
import { conflict, invalid, notFound } from '../errors/plugboard-error.ts';

/** Queues sync work (implemented on Agenda by runtime/jobs). */
export interface SyncScheduler {
  /** One run of one stream, now. */
  queueSync(tenantId: string, integrationId: string, stream: string, opts: { fullRefresh: boolean; trigger: 'manual' | 'schedule' }): Promise<void>;
  /** The recurring run of each stream on its manifest schedule (idempotent). */
  scheduleStreams(tenantId: string, integrationId: string, streams: Array<{ name: string; schedule: string }>): Promise<void>;
}

export interface SyncOptions {
  /** How long a run's lease lasts without renewal (renewed at every page). */
  leaseMs: number;
  /** Names this process as lease holder. */
  holder: string;
}

export interface SyncRequest {
  stream?: string;
  full_refresh?: boolean;
}

export class SyncService {
  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly integrations: IntegrationService,
    private readonly engine: Engine,
    private readonly events: EventPublisher,
    private readonly scheduler: SyncScheduler,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly opts: SyncOptions,
  ) {}

  private streamsOf(provider: string): string[] {
    return [...(this.connectors.get(provider)?.streams?.keys() ?? [])];
  }

  /** POST /integrations/{id}/sync: queues one stream (or all) now. */
  async request(ctx: AuditContext, integrationId: string, body: SyncRequest): Promise<{ integration_id: string; streams: string[]; full_refresh: boolean }> {
    const row = await this.store.integrations.get(ctx.principal.tenantId, integrationId);
    if (!row) throw notFound('Integration');
    const all = this.streamsOf(row.provider);
    if (!all.length) throw invalid({ stream: [`${row.provider} declares no streams`] }, `${row.provider} declares no streams to sync.`);
    if (body.stream !== undefined && !all.includes(body.stream)) {
      throw invalid({ stream: [`unknown stream "${body.stream}"; ${row.provider} has ${all.join(', ')}`] });
    }
    if (row.status !== 'active') throw conflict(`The integration is ${row.status}; only an active integration syncs.`, 'integration_not_active');
    const streams = body.stream ? [body.stream] : all;
    const fullRefresh = body.full_refresh === true;
    for (const s of streams) await this.scheduler.queueSync(ctx.principal.tenantId, integrationId, s, { fullRefresh, trigger: 'manual' });
    await this.audit.record(ctx, 'integration.sync_requested', 'integration', integrationId, fullRefresh ? ['full_refresh'] : []);
    return { integration_id: integrationId, streams, full_refresh: fullRefresh };
  }

  /** Schedules the recurring runs of an active integration's streams (called when it becomes active). */
  async scheduleFor(tenantId: string, integrationId: string): Promise<void> {
    const row = await this.store.integrations.get(tenantId, integrationId);
    const connector = row && this.connectors.get(row.provider);
    if (!row || !connector?.streams || row.status !== 'active') return;
    const streams = [...connector.streams].filter(([, s]) => s.schedule).map(([name, s]) => ({ name, schedule: s.schedule! }));
    if (streams.length) await this.scheduler.scheduleStreams(tenantId, integrationId, streams);
  }

  /**
   * Runs one stream: 'busy' when another process runs it right now, 'gone' when the integration (or
   * its stream) no longer exists, undefined when it is not active; otherwise the finished run. Provider failures end the run as failed (the next run
   * resumes from the last committed page); they are recorded, not thrown.
   */
  async run(tenantId: string, integrationId: string, stream: string, opts: { fullRefresh?: boolean; trigger?: 'manual' | 'schedule' } = {}): Promise<SyncRunRow | 'busy' | 'gone' | undefined> {
    const row = await this.store.integrations.get(tenantId, integrationId);
    const connector = row && this.connectors.get(row.provider);
    const spec = connector?.streams?.get(stream);
    if (!row || !connector || !spec) return 'gone';
    if (row.status !== 'active') return undefined;
    const holder = `${this.opts.holder}:${newId()}`;
    const now = Date.now();
    const state = await this.store.sync.acquire(tenantId, integrationId, stream, holder, now, now + this.opts.leaseMs);
    if (!state) return 'busy';
    const fullRefresh = opts.fullRefresh === true;
    const firstRun = state.cursor === null && state.resume === null && !(await this.store.sync.runs(tenantId, integrationId, { page: 1, perPage: 1, stream })).total;
    const run: SyncRunRow = {
      id: newId(), tenant_id: tenantId, integration_id: integrationId, stream, full_refresh: fullRefresh, status: 'running',
      started_at: new Date(now).toISOString(), finished_at: null, pages: 0, records_read: 0, records_created: 0, records_updated: 0, records_deleted: 0,
      records_invalid: 0, invalid_keys: [], cursor: state.cursor, error: null,
    };
    try {
      await this.store.sync.startRun(run);
      // A full refresh starts over; otherwise a killed run's last committed page request resumes it.
      const resume = fullRefresh ? null : state.resume ? (JSON.parse(state.resume) as PageRequest) : null;
      const cursor = fullRefresh ? null : state.cursor;
      let credentials: Record<string, unknown>;
      try {
        credentials = this.integrations.openCredentials(row);
      } catch (err) {
        return await this.finish(run, 'failed', (err as Error).message, holder, state.cursor);
      }
      let reached = cursor;
      for await (const page of this.engine.readStream(connector, stream, {
        credentials, integration: { id: row.id, environment: row.environment ?? undefined, metadata: row.metadata }, ...this.integrations.oauthRunOptions(row), cursor, resume,
      })) {
        const records = page.records.map((r) => ({ key: r.key, data: r.data, hash: hashOf(r.data) }));
        const committed = await this.store.sync.commitPage({
          tenantId, integrationId, provider: row.provider, stream, model: spec.model, runId: run.id, holder, records,
          invalidKeys: page.invalid.map((i) => i.key ?? '(no key)'), cursor: page.cursor, resume: page.next ? JSON.stringify(page.next) : null, now: new Date().toISOString(),
        });
        if (!committed) return await this.finish(run, 'cancelled', 'the run lost its lease (another process took the stream over)', undefined, reached);
        reached = page.cursor;
        if (page.invalid.length) this.logger.warn({ integrationId, stream, invalid: page.invalid.slice(0, 5) }, 'sync: mapped records invalid against their model (not stored)');
        await this.store.sync.renew(tenantId, integrationId, stream, holder, Date.now() + this.opts.leaseMs);
      }
      if (fullRefresh) await this.store.sync.deleteUnseen(tenantId, integrationId, stream, run.id, new Date().toISOString());
      const done = await this.finish(run, 'succeeded', null, holder, reached);
      await this.announce(done, row.provider, firstRun, opts.trigger ?? 'schedule');
      return done;
    } catch (err) {
      this.logger.warn({ integrationId, stream, err: (err as Error).message }, 'sync run failed');
      return await this.finish(run, 'failed', (err as Error).message, holder, undefined);
    } finally {
      await this.store.sync.release(tenantId, integrationId, stream, holder).catch(() => undefined);
    }
  }

  /** Settles the run; answers it as stored (the store keeps its page and record counters). */
  private async finish(run: SyncRunRow, status: SyncRunRow['status'], error: string | null, holder: string | undefined, cursor: string | null | undefined): Promise<SyncRunRow> {
    const patch = { status, error, finished_at: new Date().toISOString(), cursor: cursor === undefined ? run.cursor : cursor };
    // A succeeded run leaves no resume point: the next one starts at the first page from its cursor.
    // A failed one keeps the page it reached (committed with its last page).
    await this.store.sync.finishRun(run.tenant_id, run.id, patch, status === 'succeeded' && holder ? { cursor: patch.cursor, resume: null } : undefined);
    return (await this.store.sync.getRun(run.tenant_id, run.id)) ?? { ...run, ...patch };
  }

  private async announce(run: SyncRunRow, provider: string, firstRun: boolean, trigger: 'manual' | 'schedule'): Promise<void> {
    void firstRun; // per-record events after the first run are not built yet; every run announces itself once
    await this.events.publish(run.tenant_id, 'sync.completed', {
      sync_run_id: run.id, integration_id: run.integration_id, provider, stream: run.stream, status: run.records_invalid ? 'partial' : 'succeeded',
      records_created: run.records_created, records_updated: run.records_updated, records_unchanged: Math.max(0, run.records_read - run.records_invalid - run.records_created - run.records_updated),
      pages: run.pages, started_at: run.started_at, finished_at: run.finished_at!, duration_ms: Date.parse(run.finished_at!) - Date.parse(run.started_at), cursor: run.cursor, trigger,
    }).catch((err: Error) => this.logger.error({ err: err.message }, 'cannot publish sync.completed'));
  }

  async runs(tenantId: string, integrationId: string, q: ListQuery & { stream?: string }): Promise<ListResult<SyncRunRow>> {
    if (!(await this.store.integrations.get(tenantId, integrationId))) throw notFound('Integration');
    return this.store.sync.runs(tenantId, integrationId, q);
  }

  async records(tenantId: string, f: ListQuery & { stream?: string; integration_id?: string; updated_since?: string }): Promise<ListResult<RecordRow>> {
    // Readers following changes (updated_since) see deletions too; a plain listing shows live records.
    return this.store.sync.records(tenantId, { ...f, include_deleted: f.updated_since !== undefined });
  }
}

/** Stable across key order, so an unchanged record is recognised as unchanged. */
function hashOf(data: Record<string, unknown>): string {
  return createHash('sha256').update(stableJson(data)).digest('base64url');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
