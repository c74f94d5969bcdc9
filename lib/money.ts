/**
 * Money is integer cents inside the program. Prices arrive as JSON numbers with at most two
 * decimals (validated by the schema) and leave as numbers again; no float is ever summed.
 */
export const MAX_PRICE = 99_999_999.99;

/** True when `x` is written with at most two decimal places (`19.99`, not `19.999` or `1e-7`). */
export function hasAtMostTwoDecimals(x: number): boolean {
  return Number.isFinite(x) && /^-?\d+(\.\d{1,2})?$/.test(String(x));
}

export function toCents(amount: number): number {
  const cents = Math.round(amount * 100);
  if (!Number.isSafeInteger(cents)) throw new RangeError(`Amount out of range: ${amount}`);
  return cents;
}

/** The JSON number for an amount in cents: 1999 → 19.99 (the nearest double prints exactly). */
export function fromCents(cents: number): number {
  return cents / 100;
}
