// Money helpers registered as JSONata functions for every manifest expression: capability inputs
// carry amounts in the currency's minor unit (cents) as integers; some providers (PayPal, Xero,
// Mailgun-style APIs) want decimal strings. Exact: no floating-point arithmetic on amounts.
//
//   $minorToDecimal(1234, "usd") -> "12.34"    $minorToDecimal(1234, "jpy") -> "1234"
//   $minorToDecimal(1234, "kwd") -> "1.234"    $decimalToMinor("12.34", "usd") -> 1234

/** ISO 4217 currencies whose minor unit is not 1/100 (the others have two decimals). */
const EXPONENTS: Record<string, number> = {
  // zero decimals
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // three decimals
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // four decimals
  CLF: 4, UYW: 4,
};

/** Decimal places of a currency's minor unit (ISO 4217): 2 unless listed above. */
export function currencyExponent(currency: string): number {
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) throw new Error(`"${String(currency)}" is not an ISO 4217 currency code`);
  return EXPONENTS[currency.toUpperCase()] ?? 2;
}

function integerOf(amount: unknown): bigint {
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) return BigInt(amount);
  if (typeof amount === 'string' && /^-?\d+$/.test(amount)) return BigInt(amount);
  throw new Error(`$minorToDecimal: the amount must be an integer number of minor units, got ${JSON.stringify(amount)}`);
}

/** 1234 minor units of USD -> "12.34"; of JPY -> "1234"; of KWD -> "1.234". */
export function minorToDecimal(amount: unknown, currency: string): string | undefined {
  if (amount === undefined) return undefined; // like JSONata's own functions: no input, no output
  const exp = currencyExponent(currency);
  const n = integerOf(amount);
  const sign = n < 0n ? '-' : '';
  const digits = (n < 0n ? -n : n).toString().padStart(exp + 1, '0');
  return exp === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/** "12.34" (or 12.34) USD -> 1234 minor units; "1234" JPY -> 1234. More decimals than the currency has is an error. */
export function decimalToMinor(amount: unknown, currency: string): number | undefined {
  if (amount === undefined) return undefined;
  const exp = currencyExponent(currency);
  const text = typeof amount === 'number' && Number.isFinite(amount) ? String(amount) : amount;
  const m = typeof text === 'string' ? /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim()) : null;
  if (!m) throw new Error(`$decimalToMinor: the amount must be a decimal number like "12.34", got ${JSON.stringify(amount)}`);
  const [, sign, whole, frac = ''] = m;
  const fraction = frac.replace(/0+$/, '');
  if (fraction.length > exp) throw new Error(`$decimalToMinor: ${text} has more decimals than ${currency.toUpperCase()} allows (${exp})`);
  const minor = BigInt(whole + fraction.padEnd(exp, '0'));
  const value = Number(sign ? -minor : minor);
  if (!Number.isSafeInteger(value)) throw new Error(`$decimalToMinor: ${text} is too large`);
  return value;
}
