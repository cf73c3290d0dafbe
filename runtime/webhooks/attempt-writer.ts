// Write-behind for delivery attempts: attempts that finish while a write is running (or in the same
// turn of the event loop) are recorded together in one transaction, so a busy worker pays one commit
// for many deliveries instead of one each. Each caller still learns whether its own attempt was
// recorded (its lease may have been lost), and nothing is acknowledged before it is committed.
// With a Claimer, the same transaction also claims the deliveries that take the batch's places.
import type { Store, WebhookAttemptRow, AttemptUpdate, ClaimQuery, ClaimedDelivery } from '../store/types.ts';

type Item = { attempt: WebhookAttemptRow; update: AttemptUpdate; lease: number | null };
type Waiting = { item: Item; owned: boolean; resolve: (r: Recorded) => void; reject: (err: unknown) => void };
/** `replaced`: a claim for the attempt's place ran in the same transaction. */
export type Recorded = { recorded: boolean; replaced: boolean };

/** The dispatcher's side of a combined write: what to claim, and where the claimed rows go. */
export interface Claimer {
  /** The claim to run after recording a batch of which `finishing` attempts are the claimer's own (null: none). */
  take(finishing: number): ClaimQuery | null;
  /** Called once per `take` that returned a query, with what it claimed (nothing when the write failed). */
  give(claimed: ClaimedDelivery[], q: ClaimQuery): void;
  /** The claimer's attempts running now (sending, or waiting here to be recorded). */
  running(): number;
}

/** Attempts per transaction at most (a burst beyond it is split). */
const MAX_BATCH = 256;
/** Turns of the event loop a write waits at most for more answers. */
const GATHER_TURNS = 3;

export class AttemptWriter {
  private queue: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly store: Store,
    private readonly claimer?: Claimer,
  ) {}

  /** Records one attempt with the next batch; `owned`: a delivery the claimer claimed (its place is claimed again). */
  record(attempt: WebhookAttemptRow, update: AttemptUpdate, lease: number | null, owned = false): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item: { attempt, update, lease }, owned, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => this.gather(1));
      }
    });
  }

  /**
   * Waits up to GATHER_TURNS turns of the event loop while fewer than half of the claimer's running
   * attempts are waiting: answers that arrive together then share one commit (and one claim).
   */
  private gather(turn: number): void {
    const waiting = this.queue.filter((w) => w.owned).length;
    if (turn < GATHER_TURNS && this.claimer && waiting * 2 < this.claimer.running()) setImmediate(() => this.gather(turn + 1));
    else void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const items = batch.map((w) => w.item);
        const owned = batch.filter((w) => w.owned).length;
        const q = owned ? (this.claimer?.take(owned) ?? null) : null;
        let done: boolean[];
        try {
          if (q) {
            const r = await this.store.webhookDeliveries.recordAttemptsAndClaim(items, q).catch((err: unknown) => {
              this.claimer!.give([], q);
              throw err;
            });
            // Handed over before the callers learn their outcome: the claimed rows are counted as
            // in flight before the finished ones stop being counted.
            this.claimer!.give(r.claimed, q);
            done = r.recorded;
          } else done = await this.store.webhookDeliveries.recordAttempts(items);
        } catch (err) {
          // One bad row must not fail the others (of any tenant): record them one by one.
          if (batch.length === 1) batch[0]!.reject(err);
          else for (const w of batch) await this.store.webhookDeliveries.recordAttempts([w.item]).then(([ok]) => w.resolve({ recorded: ok ?? false, replaced: false }), w.reject);
          continue;
        }
        // Only as many owned attempts as the claim had places for count as replaced (it may ask for
        // fewer than finished): the others still wake the worker when they end.
        let places = q?.limit ?? 0;
        batch.forEach((w, i) => w.resolve({ recorded: done[i] ?? false, replaced: w.owned && places-- > 0 }));
      }
    } finally {
      this.writing = false;
    }
  }
}
