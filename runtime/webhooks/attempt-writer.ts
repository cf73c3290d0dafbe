// Write-behind for delivery attempts: attempts that finish while a write is running (or in the same
// turn of the event loop) are recorded together in one transaction, so a busy worker pays one commit
// for many deliveries instead of one each. Each caller still learns whether its own attempt was
// recorded (its lease may have been lost), and nothing is acknowledged before it is committed.
import type { Store, WebhookAttemptRow, AttemptUpdate } from '../store/types.ts';

type Item = { attempt: WebhookAttemptRow; update: AttemptUpdate; lease: number | null };
type Waiting = { item: Item; resolve: (recorded: boolean) => void; reject: (err: unknown) => void };

/** Attempts per transaction at most (a burst beyond it is split). */
const MAX_BATCH = 256;

export class AttemptWriter {
  private queue: Waiting[] = [];
  private writing = false;

  constructor(private readonly store: Store) {}

  /** Records one attempt with the next batch; true when it was recorded under its lease. */
  record(attempt: WebhookAttemptRow, update: AttemptUpdate, lease: number | null): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item: { attempt, update, lease }, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const done = await this.store.webhookDeliveries.recordAttempts(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(done[i] ?? false));
        } catch (err) {
          // One bad row must not fail the others (of any tenant): record them one by one.
          if (batch.length === 1) batch[0]!.reject(err);
          else for (const w of batch) await this.store.webhookDeliveries.recordAttempts([w.item]).then(([ok]) => w.resolve(ok ?? false), w.reject);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
