// A record's stored hash is compared with the next run's: its format must never change (every stored
// record would look changed), and the sort reused across a page's records must not leak between shapes.
import { describe, expect, it } from 'vitest';
import { canonical } from '../../runtime/sync/record-hash.ts';

describe('canonical record hash', () => {
  it('keeps the stored format: sorted keys at every level, sha256 in base64url', () => {
    const r = canonical({ id: '100001', email: 'a@example.com', tags: [{ z: 1, a: 2 }], nested: { b: 1, a: null } });
    expect(r.json).toBe('{"email":"a@example.com","id":"100001","nested":{"a":null,"b":1},"tags":[{"a":2,"z":1}]}');
    expect(r.hash).toBe('jdXQI0mQLHVGeXJ2lZj1aYCSKvCnBwRE2ETl7_ky50U');
    expect(canonical({ b: 1, a: 2 }).hash).toBe('02JqwwqH5vemQoIzs8aCmZdoZfpVCOQmfFQVx2r3p3I');
  });

  it('gives one hash whatever the key order, and follows records whose keys change', () => {
    const shapes = [{ b: 1, a: 2 }, { a: 2, b: 1 }, { b: 1, a: 2, c: 3 }, { b: 1 }, { b: 1, a: 2 }, { b: 1, c: 2 }, { 10: 'x', 9: 'y', a: 1 }];
    const json = shapes.map((s) => canonical(s).json);
    expect(json).toEqual(['{"a":2,"b":1}', '{"a":2,"b":1}', '{"a":2,"b":1,"c":3}', '{"b":1}', '{"a":2,"b":1}', '{"b":1,"c":2}', '{"9":"y","10":"x","a":1}']);
  });
});
