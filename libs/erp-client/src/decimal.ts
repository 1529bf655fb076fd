import type { Decimal } from './types.js';

// Exact decimal arithmetic on strings through BigInt: amounts never pass through a float.

interface Fixed {
  /** The digits, as an integer: value = units / 10^scale. */
  units: bigint;
  scale: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
/** Most digits kept after the point when a division does not end (SAP prices per N units). */
const MAX_SCALE = 6;

/** A decimal string (`"12.500"`, `"-3"`) or a JSON number, exactly; undefined when it is neither. */
export function parseDecimal(value: unknown): Fixed | undefined {
  let text: string;
  if (typeof value === 'number') {
    // The shortest text that reads back as this number: what was written, up to 15 significant digits.
    if (!Number.isFinite(value) || Math.abs(value) >= 1e15) return undefined;
    text = String(value);
    if (/e/i.test(text)) text = value.toFixed(20).replace(/0+$/, '');
  } else if (typeof value === 'string') text = value.trim();
  else return undefined;
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const units = BigInt(`${m[2]}${frac}`);
  return { units: m[1] === '-' ? -units : units, scale: frac.length };
}

/** The canonical text: no exponent, no trailing zeros, no point for a whole number. */
export function formatDecimal(d: Fixed): Decimal {
  const negative = d.units < 0n;
  let digits = (negative ? -d.units : d.units).toString();
  let scale = d.scale;
  while (scale > 0 && digits.endsWith('0') && digits.length > 1) {
    digits = digits.slice(0, -1);
    scale--;
  }
  if (scale > 0 && digits === '0') scale = 0;
  const padded = digits.padStart(scale + 1, '0');
  const text = scale === 0 ? padded : `${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
  return negative && text !== '0' ? `-${text}` : text;
}

export function multiply(a: Fixed, b: Fixed): Fixed {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** a / b, exact when it ends within MAX_SCALE digits, else rounded half away from zero to MAX_SCALE. */
export function divide(a: Fixed, b: Fixed): Fixed | undefined {
  if (b.units === 0n) return undefined;
  // a.units/10^as ÷ b.units/10^bs = (a.units × 10^(bs + MAX_SCALE - as)) / b.units, at scale MAX_SCALE.
  const shift = b.scale + MAX_SCALE - a.scale;
  const numerator = shift >= 0 ? a.units * 10n ** BigInt(shift) : a.units;
  const denominator = shift >= 0 ? b.units : b.units * 10n ** BigInt(-shift);
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  const abs = (x: bigint) => (x < 0n ? -x : x);
  const roundAway = abs(twice) >= abs(denominator);
  const sign = numerator < 0n !== denominator < 0n ? -1n : 1n;
  return { units: roundAway ? quotient + sign : quotient, scale: MAX_SCALE };
}

/** Canonical text of a decimal string or JSON number; undefined when it is not one. */
export function decimal(value: unknown): Decimal | undefined {
  const d = parseDecimal(value);
  return d === undefined ? undefined : formatDecimal(d);
}
