// Plugboard's job definitions on Agenda, and the scheduler the services use to queue work.
import type { Logger } from 'pino';
import type { Agenda, Job } from 'agenda';
import { VERIFY_INTEGRATION, REFRESH_OAUTH_TOKEN } from './agenda.ts';
import type { VerificationScheduler, IntegrationService } from '../integrations/service.ts';
import { refreshTimeFor, type OAuthTokens, type RefreshScheduler } from '../oauth/tokens.ts';

interface VerifyJobData {
  tenant_id: string;
  integration_id: string;
  credentials_version: number;
  /** 0 for the first try; transient failures are tried again after 15 s and 2 min. */
  retry?: number;
}

const VERIFY_RETRY_DELAYS_MS = [15_000, 120_000];

interface RefreshJobData {
  tenant_id: string;
  integration_id: string;
}

export class JobScheduler implements VerificationScheduler, RefreshScheduler {
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

  /** Cancels the integration's pending refresh-oauth-token job (on delete). */
  async cancelRefresh(tenantId: string, integrationId: string): Promise<void> {
    await this.agenda.cancel({ name: REFRESH_OAUTH_TOKEN, data: { tenant_id: tenantId, integration_id: integrationId } satisfies RefreshJobData });
  }
}

export function defineJobs(agenda: Agenda, deps: { integrations: IntegrationService; oauthTokens: OAuthTokens; logger: Logger; lockLifetimeMs: number }): void {
  const scheduler = new JobScheduler(agenda);
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
