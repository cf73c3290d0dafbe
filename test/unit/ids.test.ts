// Row ids: lower-case ULIDs whose random part comes from pooled CSPRNG bytes (runtime/store/ids.ts).
import { describe, it, expect } from 'vitest';
import { decodeTime, isValid } from 'ulid';
import { newId } from '../../runtime/store/ids.ts';

describe('newId', () => {
  it('makes valid lower-case ULIDs stamped with the current time', () => {
    const before = Date.now();
    const id = newId();
    expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
    expect(isValid(id.toUpperCase())).toBe(true);
    expect(decodeTime(id.toUpperCase())).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id.toUpperCase())).toBeLessThanOrEqual(Date.now());
  });

  it('never repeats across several refills of the random pool, and uses all 32 characters evenly', () => {
    const ids = Array.from({ length: 5000 }, newId); // 80,000 random characters: about 20 pool refills
    expect(new Set(ids).size).toBe(ids.length);
    const counts = new Map<string, number>();
    for (const id of ids) for (const ch of id.slice(10)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(32);
    // 2,500 expected per character; a stuck or biased source lands far outside this band.
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(2000);
      expect(n).toBeLessThan(3000);
    }
  });
});
