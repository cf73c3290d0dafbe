// Values opened from sealed bytes (an integration's webhook signing secret, a subscription's secrets),
// kept briefly in memory: opening (unwrap the data key, decrypt, parse) on every request was a
// measured 7% of an inbound webhook's CPU. An entry answers only for the exact sealed bytes and tag it
// was opened from, so a change in any process (rotation, new credentials, another master key) is
// seen by the next request. Memory only: never logged or stored. The keyring of a process does not
// change while it runs, so an entry can never outlive the key that opened it.
export class OpenedCache<T> {
  private readonly entries = new Map<string, { sealed: Buffer; tag: string; value: T; until: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly max = 10_000,
  ) {}

  /** The value opened from `sealed` (with `tag`: whatever else it depends on), opening it on a miss. */
  get(key: string, sealed: Buffer, tag: string, open: () => T): T {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now && hit.tag === tag && hit.sealed.equals(sealed)) return hit.value;
    this.entries.delete(key); // before opening: a failure (unavailable master key) leaves no entry behind
    const value = open();
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { sealed: Buffer.from(sealed), tag, value, until: now + this.ttlMs });
    return value;
  }

  /** Forgets an entry at once (its owner was deleted). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
