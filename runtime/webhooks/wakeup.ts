// A poll loop's sleep that a notify() cuts short, and that never loses a notify() arriving while
// the loop is busy (between its last look and the next wait).
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
