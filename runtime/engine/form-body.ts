// application/x-www-form-urlencoded request bodies. qs writes them (nested objects, the three array
// styles); a flat object of strings, numbers and booleans (and arrays of them, repeated), which is
// what form manifests send, is written here with qs's output to the letter (RFC 1738: unreserved
// characters and ( ) kept, space as +, UTF-8 percent-encoded), at a fraction of its cost.
// test/unit/form-body.test.ts compares both over every character class.
import qs from 'qs';

export type FormArrays = 'indexed' | 'brackets' | 'repeat';

/** Stringify scalars for form and multipart bodies: booleans as true/false, objects as JSON. */
function formScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(formScalars);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = formScalars(v);
    return out;
  }
  return value;
}

const QS_DIFFERS = /[!'*]|%20/g;
const QS_WRITES: Record<string, string> = { '!': '%21', "'": '%27', '*': '%2A', '%20': '+' };

/** qs's encoder (RFC 1738 format): encodeURIComponent also keeps ! ' and *; a lone surrogate makes it throw (qs writes U+FFFD). */
function encode(value: string | number | boolean): string {
  return encodeURIComponent(value).replace(QS_DIFFERS, (c) => QS_WRITES[c]!);
}

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** The flat form, or undefined when qs must write it (nesting, other array styles, empty arrays, other types). */
function flatForm(value: unknown, arrays: FormArrays): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (isScalar(v)) {
      parts.push(`${encode(key)}=${encode(v)}`);
    } else if (Array.isArray(v) && arrays === 'repeat' && v.length > 0 && v.every(isScalar)) {
      const k = encode(key);
      for (const item of v) parts.push(`${k}=${encode(item)}`);
    } else {
      return undefined;
    }
  }
  return parts.join('&');
}

/** The body of a form request: `value` (null/undefined members left out) as qs writes it. */
export function encodeForm(value: unknown, arrays: FormArrays): string {
  try {
    const flat = flatForm(value ?? {}, arrays);
    if (flat !== undefined) return flat;
  } catch {
    // A lone surrogate (encodeURIComponent throws): qs writes U+FFFD.
  }
  return qs.stringify(formScalars(value ?? {}), { arrayFormat: arrays === 'repeat' ? 'repeat' : arrays === 'brackets' ? 'brackets' : 'indices', encodeValuesOnly: false, format: 'RFC1738' });
}
