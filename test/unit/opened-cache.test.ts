// OpenedCache (runtime/crypto/opened-cache.ts): an opened secret answers only for the sealed bytes and
// tag it was opened from, for a while, in a bounded map; a failed open leaves nothing behind.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { OpenedCache } from '../../runtime/crypto/opened-cache.ts';

afterEach(() => vi.useRealTimers());

describe('OpenedCache', () => {
  it('opens once for the same bytes and tag, again when either changes', () => {
    const cache = new OpenedCache<string>();
    const open = vi.fn(() => `v${open.mock.calls.length}`);
    const a = Buffer.from('sealed-a');
    expect(cache.get('k', a, 't', open)).toBe('v1');
    expect(cache.get('k', Buffer.from('sealed-a'), 't', open)).toBe('v1');
    expect(open).toHaveBeenCalledTimes(1);
    expect(cache.get('k', Buffer.from('sealed-b'), 't', open)).toBe('v2');
    expect(cache.get('k', Buffer.from('sealed-b'), 'other', open)).toBe('v3');
    expect(open).toHaveBeenCalledTimes(3);
  });

  it('keeps a copy of the bytes: a caller reusing its buffer cannot make a stale entry match', () => {
    const cache = new OpenedCache<string>();
    const buf = Buffer.from('sealed-a');
    cache.get('k', buf, '', () => 'a');
    buf.write('sealed-b');
    expect(cache.get('k', Buffer.from('sealed-b'), '', () => 'b')).toBe('b');
  });

  it('opens again after the time to live, and after delete', () => {
    vi.useFakeTimers();
    const cache = new OpenedCache<number>(1000);
    let n = 0;
    const open = () => ++n;
    const s = Buffer.from('x');
    expect(cache.get('k', s, '', open)).toBe(1);
    vi.advanceTimersByTime(999);
    expect(cache.get('k', s, '', open)).toBe(1);
    vi.advanceTimersByTime(2);
    expect(cache.get('k', s, '', open)).toBe(2);
    cache.delete('k');
    expect(cache.get('k', s, '', open)).toBe(3);
  });

  it('leaves no entry when opening fails, and holds at most `max` entries', () => {
    const cache = new OpenedCache<string>(60_000, 2);
    const s = Buffer.from('x');
    expect(() => cache.get('k', s, '', () => { throw new Error('master key unavailable'); })).toThrow('master key unavailable');
    expect(cache.get('k', s, '', () => 'opened')).toBe('opened');
    cache.get('a', s, '', () => 'a');
    cache.get('b', s, '', () => 'b'); // evicts the oldest, k
    const open = vi.fn(() => 'k again');
    expect(cache.get('k', s, '', open)).toBe('k again');
    expect(open).toHaveBeenCalledTimes(1);
  });
});
