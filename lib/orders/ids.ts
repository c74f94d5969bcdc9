import { randomBytes } from 'node:crypto';

/** RFC 4648 base32 alphabet, lower-cased: 26 characters × 5 bits = 130 random bits. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_CHARS = 26;

/** An order id: `ord_` + 26 base32 characters (the one place this pattern is written). */
export const ORDER_ID_PATTERN = /^ord_[a-z2-7]{26}$/;

/**
 * A new unguessable order id from 130 bits of the OS CSPRNG: knowing one id tells nothing about
 * any other (no counter, no timestamp in it).
 */
export function newOrderId(): string {
  const bytes = randomBytes(17); // 136 bits; the first 130 are used
  let out = 'ord_';
  let buffer = 0;
  let bits = 0;
  let i = 0;
  while (out.length < 4 + ID_CHARS) {
    if (bits < 5) {
      buffer = ((buffer << 8) | (bytes[i++] ?? 0)) & 0xffff;
      bits += 8;
    }
    out += ALPHABET[(buffer >> (bits - 5)) & 31];
    bits -= 5;
  }
  return out;
}

export function isOrderId(value: string): boolean {
  return ORDER_ID_PATTERN.test(value);
}
