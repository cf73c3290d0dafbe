// The poll loop both webhook workers run: one round of work, then a sleep that notify() cuts
// short. A notify() arriving while a round runs is never lost: the next sleep returns at once.
export class Wakeup {
  private poked = false;
  private wake: (() => void) | undefined;

  notify(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Resolves after `ms`, or at once if notified since the last wait. */
  async wait(ms: number): Promise<void> {
    if (!this.poked) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, ms);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
    }
    this.poked = false;
  }
}

export abstract class PollingWorker {
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly wakeup = new Wakeup();

  constructor(
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Started and not stopped. */
  protected get active(): boolean {
    return this.running;
  }

  /** One round; answers true when another round should follow at once. */
  protected abstract round(): Promise<boolean>;

  /** Something new is due: look now instead of at the next poll. */
  notify(): void {
    this.wakeup.notify();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = (async () => {
      while (this.running) {
        let again = false;
        try {
          again = await this.round();
        } catch (err) {
          this.onError(err); // a failed round must not end the worker
        }
        if (!again) await this.wakeup.wait(this.pollMs);
      }
    })();
  }

  /** Stops after the current round. */
  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loopDone;
  }
}
