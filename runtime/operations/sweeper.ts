// Settles operations whose process died mid-call: once their lease has expired they (and their
// attempts in progress) become `unknown` (DESIGN §6). Reads settle lazily too; this sweep makes
// sure nothing stays in progress when nobody asks.
import type { Logger } from 'pino';
import { PollingWorker } from '../webhooks/polling-worker.ts';
import type { OperationService } from './service.ts';

export class OperationSweeper extends PollingWorker {
  constructor(
    private readonly operations: OperationService,
    private readonly logger: Logger,
  ) {
    // Half a lease: an expired lease is settled at most 1.5 leases after the last renewal.
    super(Math.min(30_000, Math.max(50, Math.floor(operations.leaseMs / 2))), (err) => logger.error({ err: (err as Error).message }, 'operation sweep failed'));
  }

  protected async round(): Promise<boolean> {
    const settled = await this.operations.settleExpired();
    if (settled) this.logger.warn({ settled }, 'operations left in progress by a stopped process settled as unknown');
    return settled > 0;
  }
}
