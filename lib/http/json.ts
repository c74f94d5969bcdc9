import { parse } from 'lossless-json';
import { MalformedJsonError, ValidationError } from '../errors';

/**
 * Request JSON, read as lossless-json reads it, which hands each number's source text to us. It
 * rejects what JSON.parse rejects; beyond that:
 *
 * - A number whose text no double holds exactly (`19.999999999999999`, `1e400`, `1e-400`,
 *   `9007199254740993`) becomes an InexactNumber, which every number schema refuses (400). So a
 *   price is judged by what the client wrote, not by the double it rounds to, and a quantity of
 *   `1.0000000000000001` is not taken for 1. `19.990` and `1e1` are exact (19.99, 10).
 * - A key repeated with a different value is malformed (which one would count?); repeated with the
 *   same value it is harmless and accepted.
 * - A leading byte order mark is ignored (RFC 8259 §8.1 allows it).
 * - Arrays and objects nested more than MAX_JSON_DEPTH deep are a 400 before parsing (the parser
 *   recurses and would overflow the stack at a few thousand levels; 64 KiB allows 32,000).
 *
 * Most bodies take a fast path (parsePlain below): JSON.parse, when a scan of the text proves it
 * gives the same value. The rest, and every error, go through lossless-json.
 */
export const MAX_JSON_DEPTH = 1_000;

/** A JSON number whose text does not survive becoming a double. Schemas see a non-number. */
export class InexactNumber {
  constructor(readonly text: string) {}
}

/** `-12.50e3` → `-125e2`: the decimal value as sign, digits without leading/trailing zeros, exponent. */
function decimalKey(text: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  let digits = (m[2] + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let exponent = Number(m[4] ?? 0) - fraction.length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${m[1]}${digits}e${exponent}`;
}

/** The number, or InexactNumber when its text and the double differ in value. */
function parseNumber(text: string): number | InexactNumber {
  const n = Number(text);
  // Fast path: the text is the double's own shortest form (`19.99`, `2`, `100`).
  if (String(n) === text) return n;
  return Number.isFinite(n) && decimalKey(String(n)) === decimalKey(text) ? n : new InexactNumber(text);
}

/** True when arrays/objects nest deeper than `limit` (text inside strings is skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

const NOT_PLAIN = Symbol('not plain');

/** JSON whitespace (RFC 8259 §2): space, tab, line feed, carriage return. */
const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** A character that can continue a number token: digits, `.`, `e`, `E`, `+`, `-`. */
const isNumberPart = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;

/** How many keys the objects in a JSON.parse result have, all levels. */
function keysIn(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const item of value) n += keysIn(item);
    return n;
  }
  for (const key in value) n += 1 + keysIn((value as Record<string, unknown>)[key]);
  return n;
}

/**
 * The fast path: JSON.parse, when it provably gives what the lossless parse gives. One pass over
 * the text (strings skipped) checks that every number is written as its double's own shortest form
 * (`19.99`, `2`: exact, so parseNumber would return that same double) and counts the keys; the
 * parsed value must have as many, so no key was repeated (JSON.parse would keep the last silently).
 * Anything else (`1.0`, `1e400`, a repeated key, text JSON.parse refuses) is
 * NOT_PLAIN and goes the lossless way, which decides it and words any error as before.
 */
function parsePlain(text: string): unknown {
  const n = text.length;
  let keys = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      let j = i + 1;
      while (j < n && isJsonSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 0x3a /* : */) keys++;
    } else if (c === 0x2d /* - */ || isDigit(c)) {
      const first = c === 0x2d ? i + 1 : i;
      let j = first;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const digits = j - first;
      while (j < n && isNumberPart(text.charCodeAt(j))) j++;
      // 1 to 15 digits, no leading zero (nor `-0`), nothing after: an integer written as String() writes it.
      const plainInteger =
        j === first + digits &&
        digits >= 1 &&
        digits <= 15 &&
        (text.charCodeAt(first) !== 0x30 || (digits === 1 && first === i));
      if (!plainInteger) {
        const token = text.slice(i, j);
        if (String(Number(token)) !== token) return NOT_PLAIN;
      }
      i = j - 1;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_PLAIN;
  }
  return keysIn(value) === keys ? value : NOT_PLAIN;
}

/**
 * The lossless parse alone (the reference the fast path must agree with; tests compare them):
 * the value, or MalformedJsonError.
 */
export function parseLossless(text: string): unknown {
  try {
    return parse(text, null, parseNumber);
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (message.startsWith('Duplicate key')) {
      throw new MalformedJsonError('The request body repeats a key with different values');
    }
    // The parser's message names what it found and where ("… at position 7"): worth a client's
    // reading, and short (a long key or string is cut).
    throw new MalformedJsonError(`The request body is not valid JSON: ${message.slice(0, 120)}`);
  }
}

/** Parses a request body's text; throws MalformedJsonError or (too deep) ValidationError. */
export function parseRequestJson(source: string): unknown {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  // Depth ≤ length, so short bodies (every usual order) skip the scan and are read once.
  if (text.length > MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ValidationError([
      { path: '', message: `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep` },
    ]);
  }
  const plain = parsePlain(text);
  return plain === NOT_PLAIN ? parseLossless(text) : plain;
}
