// Form bodies: the flat fast path writes exactly what qs writes (RFC 1738) for every ASCII character,
// UTF-8 of 2, 3 and 4 bytes, lone surrogates, numbers and booleans, repeated arrays, and hands nested
// values and the other array styles to qs.
import { describe, it, expect } from 'vitest';
import qs from 'qs';
import { encodeForm, type FormArrays } from '../../runtime/engine/form-body.ts';

function scalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scalars);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, scalars(v)]));
  return value;
}

const reference = (value: unknown, arrays: FormArrays) =>
  qs.stringify(scalars(value ?? {}), { arrayFormat: arrays === 'repeat' ? 'repeat' : arrays === 'brackets' ? 'brackets' : 'indices', encodeValuesOnly: false, format: 'RFC1738' });

const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
const STRINGS = [ascii, 'é ü ß', '日本語 テキスト', '😀 + 🚀', 'a\uD800b', '\uDC00x', 'end\uD83D', '', ' ', '100% (sure)!', "it's *bold*", '+15005550006', 'a&b=c'];
const SCALARS: unknown[] = [...STRINGS, 0, -0, 1.5, -42, 1e21, Number.NaN, true, false];

describe('form bodies as qs writes them', () => {
  it('flat objects of every scalar, keys included, in every array style', () => {
    for (const arrays of ['indexed', 'brackets', 'repeat'] as const) {
      for (let i = 0; i < SCALARS.length; i++) {
        const key = STRINGS[i % STRINGS.length] || 'k';
        const value = { To: '+14155550123', [key]: SCALARS[i], Skip: undefined, Gone: null, Body: SCALARS[(i + 3) % SCALARS.length] };
        expect(encodeForm(value, arrays), JSON.stringify(value)).toBe(reference(value, arrays));
      }
    }
  });

  it('arrays, nesting and odd values go the way qs goes', () => {
    const values: unknown[] = [
      { MediaUrl: ['https://example.com/a.png', 'https://example.com/b c.png'], To: 'x' },
      { a: [], b: 'x' }, { a: [1, null, 'z'] }, { a: { b: { c: 'd e' } }, f: [{ g: 1 }] }, { d: new Date(0) },
      {}, undefined, null, { 'k[0]': 'v' }, Object.assign(Object.create(null), { a: 'b' }),
    ];
    for (const arrays of ['indexed', 'brackets', 'repeat'] as const) {
      for (const value of values) expect(encodeForm(value, arrays), `${arrays} ${JSON.stringify(value)}`).toBe(reference(value, arrays));
    }
    expect(encodeForm({ To: '+1 415', Body: "Hi! it's *me* (ok) ~x" }, 'repeat')).toBe('To=%2B1+415&Body=Hi%21+it%27s+%2Ame%2A+(ok)+~x');
  });
});
