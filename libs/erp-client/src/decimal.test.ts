import { describe, expect, it } from 'vitest';
import { decimal, divide, formatDecimal, multiply, parseDecimal } from './decimal.js';

const d = (v: unknown) => parseDecimal(v)!;

describe('exact decimals', () => {
  it.each([
    ['12.500', '12.5'],
    ['0005.000', '5'],
    ['-0.120', '-0.12'],
    ['0.000', '0'],
    [1.0, '1'],
    [62.5, '62.5'],
    [0.1, '0.1'],
    [1e-7, '0.0000001'],
  ])('%s reads as %s', (input, text) => {
    expect(decimal(input)).toBe(text);
  });

  it.each([['1e5'], ['12,5'], [''], [Number.NaN], [1e16], [null], ['0x10']])('%s is not a decimal', (input) => {
    expect(decimal(input)).toBeUndefined();
  });

  it('multiplies without a float: 0.1 × 3 is 0.3, 5.000 × 12.500 is 62.5', () => {
    expect(formatDecimal(multiply(d(0.1), d(3)))).toBe('0.3');
    expect(formatDecimal(multiply(d('5.000'), d('12.500')))).toBe('62.5');
    expect(formatDecimal(multiply(d('99999999.999'), d('999999999.999')))).toBe('99999999998900000.000001');
  });

  it('divides exactly when it ends, else rounds half away from zero at 6 decimals', () => {
    expect(formatDecimal(divide(d('125.000'), d('10'))!)).toBe('12.5');
    expect(formatDecimal(divide(d('1'), d('3'))!)).toBe('0.333333');
    expect(formatDecimal(divide(d('2'), d('3'))!)).toBe('0.666667');
    expect(formatDecimal(divide(d('-2'), d('3'))!)).toBe('-0.666667');
    expect(divide(d('1'), d('0'))).toBeUndefined();
  });
});
