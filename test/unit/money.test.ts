// Issue 8, item 16: $minorToDecimal / $decimalToMinor, registered by the runtime for every manifest
// expression; exact (no floating point), per ISO 4217 minor units.
import { describe, it, expect } from 'vitest';
import { minorToDecimal, decimalToMinor, currencyExponent } from '../../runtime/lang/money.ts';
import { compileExpression } from '../../runtime/lang/expressions.ts';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';

describe('minor units', () => {
  it('knows the exponent of zero-, two-, three- and four-decimal currencies', () => {
    expect(['usd', 'EUR', 'gbp'].map(currencyExponent)).toEqual([2, 2, 2]);
    expect(['jpy', 'KRW', 'clp', 'vnd'].map(currencyExponent)).toEqual([0, 0, 0, 0]);
    expect(['bhd', 'KWD', 'jod', 'tnd'].map(currencyExponent)).toEqual([3, 3, 3, 3]);
    expect(currencyExponent('clf')).toBe(4);
    expect(() => currencyExponent('dollars')).toThrow(/not an ISO 4217 currency code/);
  });

  it('$minorToDecimal formats exactly', () => {
    expect(minorToDecimal(1234, 'usd')).toBe('12.34');
    expect(minorToDecimal(5, 'usd')).toBe('0.05');
    expect(minorToDecimal(-5, 'usd')).toBe('-0.05');
    expect(minorToDecimal(1200, 'eur')).toBe('12.00');
    expect(minorToDecimal(1234, 'jpy')).toBe('1234');
    expect(minorToDecimal(1234, 'krw')).toBe('1234');
    expect(minorToDecimal(1234, 'bhd')).toBe('1.234');
    expect(minorToDecimal(5, 'kwd')).toBe('0.005');
    expect(minorToDecimal('999999999999999999', 'usd')).toBe('9999999999999999.99');
    expect(minorToDecimal(undefined, 'usd')).toBeUndefined();
    expect(() => minorToDecimal(12.5, 'usd')).toThrow(/integer number of minor units/);
  });

  it('$decimalToMinor parses exactly and refuses extra decimals', () => {
    expect(decimalToMinor('12.34', 'usd')).toBe(1234);
    expect(decimalToMinor('12.3', 'usd')).toBe(1230);
    expect(decimalToMinor('12', 'usd')).toBe(1200);
    expect(decimalToMinor(0.29, 'usd')).toBe(29); // 0.29 * 100 is 28.999999999999996 in floating point
    expect(decimalToMinor('-0.05', 'usd')).toBe(-5);
    expect(decimalToMinor('1234', 'jpy')).toBe(1234);
    expect(decimalToMinor('1.234', 'kwd')).toBe(1234);
    expect(decimalToMinor('12.340', 'usd')).toBe(1234);
    expect(() => decimalToMinor('12.345', 'usd')).toThrow(/more decimals than USD allows/);
    expect(() => decimalToMinor('12.5', 'jpy')).toThrow(/more decimals than JPY allows/);
    expect(() => decimalToMinor('12,34', 'usd')).toThrow(/decimal number/);
    expect(decimalToMinor(undefined, 'usd')).toBeUndefined();
  });

  it('round-trips', () => {
    for (const [amount, currency] of [[1, 'usd'], [987654321, 'eur'], [7, 'jpy'], [1001, 'kwd'], [0, 'usd']] as const) {
      expect(decimalToMinor(minorToDecimal(amount, currency), currency)).toBe(amount);
    }
  });
});

describe('in manifest expressions', () => {
  it('are callable from JSONata, and the fast evaluator leaves them to JSONata', async () => {
    const body = compileExpression('{ "value": $minorToDecimal(input.amount, input.currency), "currency_code": $uppercase(input.currency) }');
    expect(body.fast).toBe(false); // the fast subset does not know these functions: the whole expression goes to JSONata
    expect(await body.evaluate({ input: { amount: 1234, currency: 'jpy' } })).toEqual({ value: '1234', currency_code: 'JPY' });
    expect(await body.evaluate({ input: { amount: 1999, currency: 'usd' } })).toEqual({ value: '19.99', currency_code: 'USD' });
    const mapping = compileExpression('{ "amount": $decimalToMinor(amount.value, amount.currency_code) }');
    expect(mapping.fast).toBe(false);
    expect(await mapping.evaluate({ amount: { value: '10.50', currency_code: 'EUR' } })).toEqual({ amount: 1050 });
    expect(await mapping.evaluate({})).toEqual({});
  });

  it('a bad amount fails the evaluation with the reason', async () => {
    await expect(compileExpression('$decimalToMinor("1.999", "usd")').evaluate({})).rejects.toThrow(/more decimals than USD allows/);
  });
});

describe('initiate_payment output', () => {
  it('has an optional redirect_url that must be a URI', () => {
    const { validateOutput } = loadCapabilitySchemas().get('initiate_payment')!;
    const base = { payment_id: 'pi_1', status: 'requires_action' };
    expect(validateOutput(base)).toBe(true);
    expect(validateOutput({ ...base, redirect_url: 'https://www.sandbox.paypal.com/checkoutnow?token=5O190127TN364715T' })).toBe(true);
    expect(validateOutput({ ...base, redirect_url: 'not a url' })).toBe(false);
  });
});
