// Rejected inbound requests (bad or missing signatures) come from anyone who knows an integration
// id: a row each would let them write to the database at will. They are counted in memory per
// integration and reason code and flushed now and then in one transaction: counters plus a bounded
// sample of the most recent rejections (reason only, never the unauthenticated body).
import type { Store, InboundEventRow, InboundRejectionCount, ListQuery } from '../store/types.ts';
import { newId } from '../store/ids.ts';

/** Rejected events kept per integration (the newest); older ones are only counted. */
export const REJECTION_SAMPLES_PER_INTEGRATION = 20;
const FLUSH_MS = 1000;

export interface Rejection {
  tenant_id: string;
  integration_id: string;
  provider: string;
  content_type: string | null;
  code: string;
  reason: string;
}

export class InboundRejections {
  private counts = new Map<string, InboundRejectionCount>();
  private samples = new Map<string, InboundEventRow[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly flushMs = FLUSH_MS,
  ) {}

  /** Counts one rejection; true when it is the first of its integration and reason since the last flush. */
  record(r: Rejection): boolean {
    const at = new Date().toISOString();
    const key = `${r.tenant_id}|${r.integration_id}|${r.code}`;
    const c = this.counts.get(key);
    if (c) {
      c.count++;
      c.last_at = at;
      c.last_reason = r.reason;
    } else {
      this.counts.set(key, { tenant_id: r.tenant_id, integration_id: r.integration_id, provider: r.provider, code: r.code, count: 1, first_at: at, last_at: at, last_reason: r.reason });
    }
    const list = this.samples.get(r.integration_id) ?? [];
    list.push({
      id: newId(), tenant_id: r.tenant_id, integration_id: r.integration_id, provider: r.provider, provider_event_id: null, provider_event_type: null,
      status: 'rejected', reason: `${r.code}: ${r.reason}`, content_type: r.content_type, body: '', normalized_event_id: null,
      next_attempt_at: null, locked_until: null, attempts: 0, received_at: at, processed_at: null,
    });
    if (list.length > REJECTION_SAMPLES_PER_INTEGRATION) list.shift();
    this.samples.set(r.integration_id, list);
    this.schedule();
    return !c;
  }

  private schedule(): void {
    // A failed flush must never become an unhandled rejection (it would end the process).
    this.timer ??= setTimeout(() => void this.flush().catch(this.onError), this.flushMs).unref();
  }

  /** Writes what was counted since the last flush (one transaction); flushes never overlap. */
  flush(): Promise<void> {
    const run = this.flushing.catch(() => undefined).then(() => this.write());
    this.flushing = run;
    return run;
  }

  private async write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.counts.size) return;
    const counts = [...this.counts.values()];
    const samples = [...this.samples.values()].flat();
    this.counts = new Map();
    this.samples = new Map();
    try {
      await this.store.inboundEvents.addRejections(counts, samples, REJECTION_SAMPLES_PER_INTEGRATION);
    } catch (err) {
      // Keep the counts for the next flush (samples are a nicety and may be dropped).
      for (const c of counts) {
        const now = this.counts.get(`${c.tenant_id}|${c.integration_id}|${c.code}`);
        if (now) {
          now.count += c.count;
          now.first_at = c.first_at;
        } else this.counts.set(`${c.tenant_id}|${c.integration_id}|${c.code}`, c);
      }
      this.schedule();
      throw err;
    }
  }

  /** Counters per integration and reason code, including what this process has not flushed yet. */
  async list(tenantId: string, q: ListQuery & { integration_id?: string }) {
    await this.flush();
    return this.store.inboundEvents.rejections(tenantId, q);
  }
}
