// Row ids: lower-case ULIDs (26 chars, sortable by creation time), DESIGN §3.
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

// ulid's default source makes one crypto call per character (16 per id) and looks itself up again on
// every call; the same bytes drawn from a pooled buffer of crypto-random bytes cost a fraction.
const pool = Buffer.alloc(4096);
let next = pool.length;

function randomFraction(): number {
  if (next >= pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

export function newId(): string {
  return ulid(undefined, randomFraction).toLowerCase();
}
