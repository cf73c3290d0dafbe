// Plugboard's job definitions on Agenda, and the scheduler the services use to queue work.
import type { Logger } from 'pino';
import type { Agenda, Job } from 'agenda';
import { VERIFY_INTEGRATION, REFRESH_OAUTH_TOKEN, SYNC_STREAM } from './agenda.ts';
import type { VerificationScheduler, IntegrationService } from '../integrations/service.ts';
import { refreshTimeFor, type OAuthTokens, type RefreshScheduler } from '../oauth/tokens.ts';
import type { SyncScheduler, SyncService, SyncTrigger } from '../sync/service.ts';

interface VerifyJobData {
  tenant_id: string;
  integration_id: string;
  credentials_version: number;
  /** 0 for the first try; transient failures are tried again after 15 s and 2 min. */
  retry?: number;
}

const VERIFY_RETRY_DELAYS_MS = [15_000, 120_000];

interface SyncJobData {
  tenant_id: string;
  integration_id: string;
  stream: string;
  full_refresh?: boolean;
  trigger: SyncTrigger;
  /** Times a manual run found the stream busy and waited (it runs once the current run ends). */
  waited?: number;
}

/** A manual run that finds its stream running waits this long, this many times, then runs after it. */
const SYNC_BUSY_DELAY_MS = 15_000;
const SYNC_BUSY_TRIES = 40;

interface RefreshJobData {
  tenant_id: string;
  integration_id: string;
}

export class JobScheduler implements VerificationScheduler, RefreshScheduler, SyncScheduler {
  constructor(private readonly agenda: Agenda) {}

  async scheduleVerification(tenantId: string, integrationId: string, credentialsVersion: number): Promise<void> {
    // Saved to the jobs store before this resolves: a crash after the API answered loses nothing.
    await this.agenda.now(VERIFY_INTEGRATION, { tenant_id: tenantId, integration_id: integrationId, credentials_version: credentialsVersion } satisfies VerifyJobData);
  }

  /** One pending refresh-oauth-token job per integration: a later schedule moves it. */
  async scheduleRefresh(tenantId: string, integrationId: string, at: Date): Promise<void> {
    await this.agenda
      .create(REFRESH_OAUTH_TOKEN, { tenant_id: tenantId, integration_id: integrationId } satisfies RefreshJobData)
      .unique({ name: REFRESH_OAUTH_TOKEN, 'data.integration_id': integrationId })
      .schedule(at)
      .save();
  }

  async queueSync(tenantId: string, integrationId: string, stream: string, opts: { fullRefresh: boolean; trigger: SyncTrigger; at?: Date }): Promise<void> {
    const data = { tenant_id: tenantId, integration_id: integrationId, stream, full_refresh: opts.fullRefresh, trigger: opts.trigger } satisfies SyncJobData;
    if (opts.at) await this.agenda.schedule(opts.at, SYNC_STREAM, data);
    else await this.agenda.now(SYNC_STREAM, data);
  }

  /** The daily full-refresh reconcile run of streams inbound webhooks keep up to date (catches what they missed). */
  async scheduleReconcile(tenantId: string, integrationId: string, streams: string[]): Promise<void> {
    for (const stream of streams) {
      await this.agenda
        .create(SYNC_STREAM, { tenant_id: tenantId, integration_id: integrationId, stream, full_refresh: true, trigger: 'reconcile' } satisfies SyncJobData)
        .repeatEvery('1 day', { skipImmediate: true })
        // insertOnly: saving again (every worker start) must not push the next run back a day.
        .unique({ name: SYNC_STREAM, 'data.integration_id': integrationId, 'data.stream': stream, 'data.trigger': 'reconcile' }, { insertOnly: true })
        .save();
    }
  }

  /** One recurring sync-stream job per integration and stream, on the manifest's schedule (a later call moves it). */
  async scheduleStreams(tenantId: string, integrationId: string, streams: Array<{ name: string; schedule: string }>): Promise<void> {
    for (const s of streams) {
      await this.agenda
        .create(SYNC_STREAM, { tenant_id: tenantId, integration_id: integrationId, stream: s.name, trigger: 'schedule' } satisfies SyncJobData)
        .repeatEvery(s.schedule, { skipImmediate: false })
        .unique({ name: SYNC_STREAM, 'data.integration_id': integrationId, 'data.stream': s.name, 'data.trigger': 'schedule' })
        .save();
    }
  }

  /** Cancels the integration's pending refresh-oauth-token job (on delete). */
  async cancelRefresh(tenantId: string, integrationId: string): Promise<void> {
    await this.agenda.cancel({ name: REFRESH_OAUTH_TOKEN, data: { tenant_id: tenantId, integration_id: integrationId } satisfies RefreshJobData });
  }
}

export function defineJobs(agenda: Agenda, deps: { integrations: IntegrationService; oauthTokens: OAuthTokens; sync: SyncService; logger: Logger; lockLifetimeMs: number }): void {
  const scheduler = new JobScheduler(agenda);
  agenda.define(
    SYNC_STREAM,
    async (job: Job<SyncJobData>) => {
      const d = job.attrs.data;
      // A long run keeps its Agenda lock (the stream's own lease keeps other processes out meanwhile).
      const touching = setInterval(() => void job.touch().catch(() => undefined), Math.max(1000, Math.floor(deps.lockLifetimeMs / 3)));
      const run = await deps.sync.run(d.tenant_id, d.integration_id, d.stream, { fullRefresh: d.full_refresh === true, trigger: d.trigger }).finally(() => clearInterval(touching));
      deps.logger.debug({ job: SYNC_STREAM, integrationId: d.integration_id, stream: d.stream, status: typeof run === 'object' ? run.status : run ?? 'skipped' }, 'job done');
      // A deleted integration (or a stream its manifest dropped) takes its recurring job with it.
      if (run === 'gone') return job.remove();
      // A recurring job stays (its next run is due on its schedule). A reconcile that found its stream
      // busy (a webhook-triggered run, likely) is retried soon by a one-off copy, not a day later.
      if ((d.trigger === 'schedule' || d.trigger === 'reconcile') && d.waited === undefined) {
        if (run === 'busy' && d.trigger === 'reconcile') await agenda.schedule(new Date(Date.now() + SYNC_BUSY_DELAY_MS), SYNC_STREAM, { ...d, waited: 1 } satisfies SyncJobData);
        return;
      }
      await job.remove();
      if (run !== 'busy') return;
      if ((d.waited ?? 0) < SYNC_BUSY_TRIES) await agenda.schedule(new Date(Date.now() + SYNC_BUSY_DELAY_MS), SYNC_STREAM, { ...d, waited: (d.waited ?? 0) + 1 } satisfies SyncJobData);
      else {
        deps.logger.warn({ integrationId: d.integration_id, stream: d.stream, waitedMs: SYNC_BUSY_DELAY_MS * SYNC_BUSY_TRIES }, 'sync: a requested run gave up waiting for the stream\'s current run to end');
        // A given-up webhook run must not leave its mark: the next event starts a run again.
        if (d.trigger === 'webhook') await deps.sync.clearTrigger(d.tenant_id, d.integration_id, d.stream);
      }
    },
    { concurrency: 2, lockLifetime: deps.lockLifetimeMs },
  );
  agenda.define(
    REFRESH_OAUTH_TOKEN,
    async (job: Job<RefreshJobData>) => {
      const { tenant_id, integration_id } = job.attrs.data;
      const { outcome, expiresAt } = await deps.oauthTokens.refreshIfDue(tenant_id, integration_id);
      deps.logger.debug({ job: REFRESH_OAUTH_TOKEN, integrationId: integration_id, outcome }, 'job done');
      // This run is done; the next one is queued from the token it leaves (a failed try retries in a minute).
      await job.remove();
      if (expiresAt) await scheduler.scheduleRefresh(tenant_id, integration_id, outcome === 'failed' ? new Date(Date.now() + 60_000) : refreshTimeFor(expiresAt));
    },
    { concurrency: 4, lockLifetime: deps.lockLifetimeMs },
  );
  agenda.define(
    VERIFY_INTEGRATION,
    async (job: Job<VerifyJobData>) => {
      const { tenant_id, integration_id, credentials_version, retry = 0 } = job.attrs.data;
      const status = await deps.integrations.runVerification(tenant_id, integration_id, credentials_version, VERIFY_RETRY_DELAYS_MS[retry]);
      if (typeof status === 'object') {
        // The integration already shows this time as metadata.next_verification_at.
        await agenda.schedule(status.retryAt, VERIFY_INTEGRATION, { tenant_id, integration_id, credentials_version, retry: retry + 1 } satisfies VerifyJobData);
      }
      deps.logger.debug({ job: VERIFY_INTEGRATION, integrationId: integration_id, status }, 'job done');
      // Done jobs are not kept: the integration row holds the outcome.
      await job.remove();
    },
    { concurrency: 4, lockLifetime: deps.lockLifetimeMs },
  );
}
