// Plugboard's job definitions on Agenda, and the scheduler the services use to queue work.
import type { Logger } from 'pino';
import type { Agenda, Job } from 'agenda';
import { VERIFY_INTEGRATION } from './agenda.ts';
import type { VerificationScheduler, IntegrationService } from '../integrations/service.ts';

interface VerifyJobData {
  tenant_id: string;
  integration_id: string;
  credentials_version: number;
  /** 0 for the first try; transient failures are tried again after 15 s and 2 min. */
  retry?: number;
}

const VERIFY_RETRY_DELAYS_MS = [15_000, 120_000];

export class JobScheduler implements VerificationScheduler {
  constructor(private readonly agenda: Agenda) {}

  async scheduleVerification(tenantId: string, integrationId: string, credentialsVersion: number): Promise<void> {
    // Saved to the jobs store before this resolves: a crash after the API answered loses nothing.
    await this.agenda.now(VERIFY_INTEGRATION, { tenant_id: tenantId, integration_id: integrationId, credentials_version: credentialsVersion } satisfies VerifyJobData);
  }
}

export function defineJobs(agenda: Agenda, deps: { integrations: IntegrationService; logger: Logger; lockLifetimeMs: number }): void {
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
