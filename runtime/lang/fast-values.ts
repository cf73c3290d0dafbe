// JSONata value semantics the fast evaluator (fast-expressions.ts) reproduces: truthiness
// (fn.boolean), `&` operands (fn.string), one name step (fn.lookup), and BAIL for values it does not
// model, which hands the decision back to JSONata.

export const BAIL: unique symbol = Symbol('jsonata-fast-bail');
export type Bail = typeof BAIL;

export const hasOwn = Object.prototype.hasOwnProperty;
export const isEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * Values JSONata treats specially or that this evaluator does not model: functions and
 * function-like objects (jsonata's isFunction), symbols, bigints, NaN and ±Infinity (isNumeric throws).
 */
export function isWeird(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return false;
    case 'number':
      return !Number.isFinite(v);
    case 'object':
      if (v === null) return false;
      return (v as { _jsonata_function?: unknown })._jsonata_function === true || (v as { _jsonata_lambda?: unknown })._jsonata_lambda === true;
    default:
      return true; // function, symbol, bigint
  }
}

/**
 * jsonata's fn.boolean (the effective boolean value), with undefined -> false as in boolize and
 * evaluateCondition. BAIL for values fn.boolean would throw on or treats as functions.
 */
export function truthy(v: unknown): boolean | Bail {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      if (!Number.isFinite(v)) return BAIL; // isNumeric throws D1001 on ±Infinity; NaN is not modelled
      return v !== 0;
    case 'object': {
      if (isWeird(v)) return BAIL;
      if (Array.isArray(v)) {
        if (v.length === 0) return false;
        if (v.length === 1) return truthy(v[0]);
        let any = false;
        for (const item of v) {
          const t = truthy(item);
          if (t === BAIL) return BAIL;
          if (t) any = true;
        }
        return any;
      }
      return Object.keys(v).length > 0;
    }
    default:
      return BAIL;
  }
}

/** jsonata's fn.string for the operand types `&` supports here; BAIL for arrays, objects and non-finite numbers. */
export function concatOperand(v: unknown): string | Bail {
  switch (typeof v) {
    case 'undefined':
      return '';
    case 'string':
      return v;
    case 'number':
      if (!Number.isFinite(v)) return BAIL; // D3001
      // fn.string: JSON.stringify with a replacer that rounds non-integers to 15 significant digits.
      return JSON.stringify(Number.isInteger(v) ? v : Number(v.toPrecision(15)));
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      return v === null ? 'null' : BAIL;
    default:
      return BAIL;
  }
}

/** One name step from a single value (fn.lookup). undefined ends the path; BAIL passes through. */
export function step(cur: unknown, name: string): unknown {
  if (cur === null || typeof cur !== 'object') return cur === BAIL ? BAIL : undefined; // lookup on a primitive, null or undefined
  if (Array.isArray(cur) || isWeird(cur)) return BAIL;
  return hasOwn.call(cur, name) ? (cur as Record<string, unknown>)[name] : undefined;
}

/** The value a path hands back. */
export function last(v: unknown): unknown {
  return isWeird(v) ? BAIL : v;
}
