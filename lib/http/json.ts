import { parse } from 'lossless-json';
import { MalformedJsonError, ValidationError } from '../errors';

/**
 * Request JSON, parsed once with lossless-json, which hands each number's source text to us. It
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

/** Parses a request body's text; throws MalformedJsonError or (too deep) ValidationError. */
export function parseRequestJson(source: string): unknown {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  // Depth ≤ length, so short bodies (every usual order) skip the scan and are read once.
  if (text.length > MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ValidationError([
      { path: '', message: `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep` },
    ]);
  }
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
