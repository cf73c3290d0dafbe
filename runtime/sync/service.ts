// Sync: reads a connector's streams page by page into records (upserted by primary key), one run
// per integration and stream at a time across processes (a lease in the store), each page committed
// with the cursor and page request reached, so a killed run resumes from its last committed page.
import type { Logger } from 'pino';
import type { Store, ListQuery, ListResult } from '../store/types.ts';
import type { SyncRunRow, RecordRow, SyncStateRow, RecordChanges } from '../store/sync-types.ts';
import type { IntegrationRow } from '../store/types.ts';
import type { CompiledStream } from '../manifest/streams.ts';
import type { Connector } from '../manifest/connector.ts';
import type { Engine } from '../engine/engine.ts';
import type { PageRequest } from '../engine/pagination/paginator.ts';
import type { EventPublisher, EventStager } from '../webhooks/events.ts';
import type { OutboxItem } from '../store/types.ts';
import { changeEvents, deleteEvents, type RecordScope } from './record-events.ts';
import { canonical } from './record-hash.ts';
import { writeBack } from './write-back.ts';
import type { IntegrationService } from '../integrations/service.ts';
import type { AuditContext, AuditLog } from '../access/audit.ts';
import { newId } from '../store/ids.ts';
import { conflict, invalid, notFound } from '../errors/plugboard-error.ts';

/** What started a run: POST /sync, the manifest schedule, an inbound webhook, the daily reconcile. */
export type SyncTrigger = 'manual' | 'schedule' | 'webhook' | 'reconcile';

/** Queues sync work (implemented on Agenda by runtime/jobs). */
export interface SyncScheduler {
  /** One run of one stream, now (or at `at`). */
  queueSync(tenantId: string, integrationId: string, stream: string, opts: { fullRefresh: boolean; trigger: SyncTrigger; at?: Date }): Promise<void>;
  /** The recurring run of each stream on its manifest schedule (idempotent). */
  scheduleStreams(tenantId: string, integrationId: string, streams: Array<{ name: string; schedule: string }>): Promise<void>;
  /** The daily full-refresh reconcile of streams inbound webhooks trigger (idempotent). */
  scheduleReconcile(tenantId: string, integrationId: string, streams: string[]): Promise<void>;
}

export interface SyncOptions {
  /** How long a run's lease lasts without renewal (renewed at every page). */
  leaseMs: number;
  /** Names this process as lease holder. */
  holder: string;
  /** How long a webhook-triggered run waits, so a burst of events starts one run (default 10 s). */
  triggerDebounceMs?: number;
}

/** A trigger mark whose run has not started this long after it was due is taken as lost and replaced. */
const TRIGGER_STALE_MS = 10 * 60_000;

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
    private readonly events: EventPublisher & EventStager,
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
    const triggered = triggeredStreams(connector);
    if (triggered.length) await this.scheduler.scheduleReconcile(tenantId, integrationId, triggered);
  }

  /**
   * An inbound webhook says the stream changed at the provider: one incremental run, debounced (the
   * first event of a burst marks the stream and queues the run; the others find it marked). A run
   * that starts for any reason clears the mark, so events arriving during a run start one more.
   */
  async trigger(tenantId: string, integrationId: string, stream: string): Promise<boolean> {
    const now = Date.now();
    const due = now + (this.opts.triggerDebounceMs ?? 10_000);
    if (!(await this.store.sync.markTriggered(tenantId, integrationId, stream, due, now - TRIGGER_STALE_MS))) return false;
    try {
      await this.scheduler.queueSync(tenantId, integrationId, stream, { fullRefresh: false, trigger: 'webhook', at: new Date(due) });
    } catch (err) {
      await this.clearTrigger(tenantId, integrationId, stream);
      throw err;
    }
    return true;
  }

  async clearTrigger(tenantId: string, integrationId: string, stream: string): Promise<void> {
    await this.store.sync.clearTrigger(tenantId, integrationId, stream).catch((err: Error) => this.logger.warn({ integrationId, stream, err: err.message }, 'sync: cannot clear a trigger mark'));
  }

  /**
   * Schedules every active integration's streams (at worker start: integrations activated before
   * this version, or whose manifest gained streams, get their recurring runs too). Idempotent.
   */
  async scheduleAll(): Promise<number> {
    const providers = [...this.connectors].filter(([, c]) => [...(c.streams?.values() ?? [])].some((s) => s.schedule) || triggeredStreams(c).length).map(([name]) => name);
    const active = await this.store.integrations.activeOf(providers);
    for (const i of active) await this.scheduleFor(i.tenant_id, i.id);
    return active.length;
  }

  /**
   * Runs one stream: 'busy' when another process runs it right now, 'gone' when the integration (or
   * its stream) no longer exists, undefined when it is not active; otherwise the finished run.
   * Provider failures end the run as failed (the next run resumes from the last committed page);
   * they are recorded, not thrown.
   */
  async run(tenantId: string, integrationId: string, stream: string, opts: { fullRefresh?: boolean; trigger?: SyncTrigger } = {}): Promise<SyncRunRow | 'busy' | 'gone' | undefined> {
    const row = await this.store.integrations.get(tenantId, integrationId);
    const connector = row && this.connectors.get(row.provider);
    const spec = connector?.streams?.get(stream);
    if (!row || !connector || !spec) return 'gone';
    if (row.status !== 'active') {
      if (opts.trigger === 'webhook') await this.clearTrigger(tenantId, integrationId, stream);
      return undefined;
    }
    const holder = `${this.opts.holder}:${newId()}`;
    const now = Date.now();
    const state = await this.store.sync.acquire(tenantId, integrationId, stream, holder, now, now + this.opts.leaseMs);
    if (!state) return 'busy';
    // A run still recorded as the stream's current one lost its process (its lease expired): settle it.
    if (state.run_id) await this.settleInterrupted(tenantId, state.run_id).catch((err: Error) => this.logger.warn({ integrationId, stream, err: err.message }, 'sync: cannot settle an interrupted run'));
    const fullRefresh = opts.fullRefresh === true;
    // The stream's first successful run is its backfill: it announces itself with sync.completed
    // only; later runs also announce each record they create, change or delete.
    const backfill = !(await this.store.sync.hasSucceeded(tenantId, integrationId, stream));
    const run: SyncRunRow = {
      id: newId(), tenant_id: tenantId, integration_id: integrationId, stream, full_refresh: fullRefresh, status: 'running',
      started_at: new Date(now).toISOString(), finished_at: null, pages: 0, records_read: 0, records_created: 0, records_updated: 0, records_deleted: 0,
      records_invalid: 0, invalid_keys: [], cursor: state.cursor, error: null,
    };
    // The lease is renewed on a timer, not only between pages: one slow page (retries, Retry-After)
    // must not let another process start the same stream. A renewal that fails stops the run.
    const lease = { lost: false };
    const renewal = setInterval(() => {
      this.store.sync.renew(tenantId, integrationId, stream, holder, Date.now() + this.opts.leaseMs)
        .then((held) => { if (!held) lease.lost = true; }, () => undefined);
    }, Math.max(50, Math.floor(this.opts.leaseMs / 3)));
    try {
      await this.store.sync.startRun(run);
      let credentials: Record<string, unknown>;
      try {
        credentials = this.integrations.openCredentials(row);
      } catch (err) {
        return await this.finish(run, 'failed', (err as Error).message, undefined, state.cursor);
      }
      const scope: RecordScope | undefined = backfill ? undefined : { integrationId, provider: row.provider, stream, model: spec.model, runId: run.id };
      const read = await this.readPages({ row, connector, spec, stream, run, holder, credentials, lease, fullRefresh, state, scope });
      if (read.lost) return await this.finish(run, 'cancelled', 'the run lost its lease (another process took the stream over)', undefined, read.reached);
      // A truncated run (max_pages) keeps its resume point and deletes nothing: it has not seen everything.
      if (fullRefresh && !read.truncated) {
        const now = new Date().toISOString();
        const outbox = await this.outbox(tenantId, scope && ((keys: string[]) => deleteEvents(scope, keys, now)));
        await this.store.sync.deleteUnseen(tenantId, integrationId, stream, run.id, now, outbox?.build);
        outbox?.announce();
      }
      const done = await this.finish(run, 'succeeded', null, read.truncated ? undefined : holder, read.reached);
      if (read.truncated) this.logger.info({ integrationId, stream, pages: done.pages }, 'sync: stopped at max_pages; the next run continues from the page reached');
      await this.announce(done, row.provider, opts.trigger ?? 'schedule');
      return done;
    } catch (err) {
      this.logger.warn({ integrationId, stream, err: (err as Error).message }, 'sync run failed');
      return await this.finish(run, 'failed', (err as Error).message, undefined, undefined);
    } finally {
      clearInterval(renewal);
      await this.store.sync.release(tenantId, integrationId, stream, holder).catch(() => undefined);
    }
  }

  /**
   * Reads and commits pages. A stored resume point that fails before its first page (the provider
   * expired the page token, the base URL moved) is dropped once, and the read starts again at the
   * first page with the filter that run began with (never the cursor its pages already advanced).
   */
  private async readPages(a: { row: IntegrationRow; connector: Connector; spec: CompiledStream; stream: string; run: SyncRunRow; holder: string; credentials: Record<string, unknown>; lease: { lost: boolean }; fullRefresh: boolean; state: SyncStateRow; scope: RecordScope | undefined }) {
    const { row, stream } = a;
    const stored = a.fullRefresh || !a.state.resume ? null : (JSON.parse(a.state.resume) as PageRequest);
    const startFilter = a.fullRefresh ? null : stored && stored.cursor !== undefined ? stored.cursor : a.state.cursor;
    let resume = stored;
    let reached = startFilter;
    let committedPages = 0;
    for (;;) {
      try {
        for await (const page of this.engine.readStream(a.connector, stream, {
          credentials: a.credentials, integration: { id: row.id, environment: row.environment ?? undefined, metadata: row.metadata }, ...this.integrations.oauthRunOptions(row), cursor: startFilter, resume,
        })) {
          if (a.lease.lost) return { lost: true, truncated: false, reached };
          const now = new Date().toISOString();
          const scope = a.scope;
          const outbox = await this.outbox(row.tenant_id, scope && ((changes: RecordChanges) => changeEvents(scope, changes, now)));
          const committed = await this.store.sync.commitPage({
            tenantId: row.tenant_id, integrationId: row.id, provider: row.provider, stream, model: a.spec.model, runId: a.run.id, holder: a.holder,
            records: page.records.map((r) => ({ key: r.key, data: r.data, ...canonical(r.data) })),
            invalidKeys: page.invalid.map((i) => (i.key ?? '(no key)').slice(0, 200)), cursor: page.cursor, resume: page.next ? JSON.stringify(page.next) : null, now,
            ...(outbox ? { outbox: outbox.build } : {}),
          });
          if (!committed) return { lost: true, truncated: false, reached };
          outbox?.announce();
          committedPages++;
          reached = page.cursor;
          if (page.invalid.length) this.logger.warn({ integrationId: row.id, stream, invalid: page.invalid.slice(0, 5) }, 'sync: mapped records invalid against their model (not stored)');
          if (page.truncated) return { lost: false, truncated: true, reached };
        }
        return { lost: false, truncated: false, reached };
      } catch (err) {
        if (!resume || committedPages > 0) throw err;
        this.logger.warn({ integrationId: row.id, stream, err: (err as Error).message }, 'sync: the stored resume point failed; reading again from the first page');
        resume = null;
      }
    }
  }

  /**
   * The outbox callback of one write (its events, built inside the write's transaction from what it
   * changed) and, after the commit, the dispatcher's wake-up. Undefined when there is nothing to announce.
   */
  private async outbox<T>(tenantId: string, events: ((changes: T) => Array<{ type: string; data: Record<string, unknown> }>) | undefined) {
    if (!events) return undefined;
    const stage = await this.events.stage(tenantId, { source: 'sync' });
    let built: OutboxItem[] = [];
    return {
      build: (changes: T) => (built = stage.build(events(changes))),
      announce: () => stage.announce(built),
    };
  }

  /** A run whose process stopped mid-way: failed, keeping its counters and cursor (its committed pages stay; the next run resumes after them). */
  private async settleInterrupted(tenantId: string, runId: string): Promise<void> {
    const was = await this.store.sync.getRun(tenantId, runId);
    if (!was || was.status !== 'running') return;
    const error = 'interrupted: the process running it stopped before the run finished; the next run resumes after its last committed page';
    await this.store.sync.finishRun(tenantId, runId, { status: 'failed', error, finished_at: new Date().toISOString(), cursor: was.cursor });
  }

  /** Settles the run; answers it as stored (the store keeps its page and record counters). */
  private async finish(run: SyncRunRow, status: SyncRunRow['status'], error: string | null, holder: string | undefined, cursor: string | null | undefined): Promise<SyncRunRow> {
    const patch = { status, error, finished_at: new Date().toISOString(), cursor: cursor === undefined ? run.cursor : cursor };
    // A succeeded run leaves no resume point: the next one starts at the first page from its cursor.
    // A failed one keeps the page it reached (committed with its last page).
    await this.store.sync.finishRun(run.tenant_id, run.id, patch, status === 'succeeded' && holder ? { cursor: patch.cursor, resume: null } : undefined);
    return (await this.store.sync.getRun(run.tenant_id, run.id)) ?? { ...run, ...patch };
  }

  /** Every finished run announces itself once (per-record events are not built yet). */
  private async announce(run: SyncRunRow, provider: string, trigger: SyncTrigger): Promise<void> {
    await this.events.publish(run.tenant_id, 'sync.completed', {
      sync_run_id: run.id, integration_id: run.integration_id, provider, stream: run.stream, status: run.records_invalid ? 'partial' : 'succeeded',
      records_created: run.records_created, records_updated: run.records_updated, records_unchanged: Math.max(0, run.records_read - run.records_invalid - run.records_created - run.records_updated),
      pages: run.pages, started_at: run.started_at, finished_at: run.finished_at!, duration_ms: Date.parse(run.finished_at!) - Date.parse(run.started_at), cursor: run.cursor, trigger,
    }).catch((err: Error) => this.logger.error({ err: err.message }, 'cannot publish sync.completed'));
  }

  /** After a capability succeeded: its result into the stream's records, when the manifest says so (write-back.ts). Never throws. */
  async writeBack(tenantId: string, integrationId: string, capability: string, input: unknown, output: unknown): Promise<string | undefined> {
    try {
      return await writeBack({ store: this.store, connectors: this.connectors, events: this.events, logger: this.logger }, tenantId, integrationId, capability, input, output);
    } catch (err) {
      this.logger.error({ tenantId, integrationId, capability, err: (err as Error).message }, 'write-back failed; records catch up at the next sync run');
      return undefined;
    }
  }

  async runs(tenantId: string, integrationId: string, q: ListQuery & { stream?: string }): Promise<ListResult<SyncRunRow>> {
    if (!(await this.store.integrations.get(tenantId, integrationId))) throw notFound('Integration');
    return this.store.sync.runs(tenantId, integrationId, q);
  }

  async records(tenantId: string, f: ListQuery & { stream?: string; integration_id?: string; updated_since?: string }): Promise<ListResult<RecordRow>> {
    // Readers following changes (updated_since) see deletions too; a plain listing shows live records.
    // Stored times are UTC ISO strings compared as text: the bound is normalised to the same form.
    const since = f.updated_since === undefined ? undefined : new Date(f.updated_since);
    if (since && Number.isNaN(since.getTime())) throw invalid({ updated_since: ['must be a date-time'] });
    return this.store.sync.records(tenantId, { ...f, updated_since: since?.toISOString(), include_deleted: since !== undefined });
  }
}

/** Streams some inbound webhook event of the connector triggers. */
function triggeredStreams(c: Connector): string[] {
  return [...new Set([...(c.webhooks?.events.values() ?? [])].flatMap((e) => (e.triggers ? [e.triggers] : [])))];
}
