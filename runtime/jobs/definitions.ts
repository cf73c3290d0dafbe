// Plugboard's job definitions on Agenda, and the scheduler the services use to queue work.
import type { Logger } from 'pino';
import type { Agenda, Job } from 'agenda';
import { VERIFY_INTEGRATION } from './agenda.ts';
import type { VerificationScheduler, IntegrationService } from '../integrations/service.ts';

interface VerifyJobData {
  tenant_id: string;
  integration_id: string;
  credentials_version: number;
}

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
      const { tenant_id, integration_id, credentials_version } = job.attrs.data;
      const status = await deps.integrations.runVerification(tenant_id, integration_id, credentials_version);
      deps.logger.debug({ job: VERIFY_INTEGRATION, integrationId: integration_id, status }, 'job done');
    },
    { concurrency: 4, lockLifetime: deps.lockLifetimeMs },
  );
}
