/**
 * RDS Proxy pins a client session to its database connection for good once the session sends a
 * statement longer than 16 KB. Multi-row inserts and stored response bodies are split so that the
 * values of one statement stay under MAX_STATEMENT_BYTES, leaving 2 KB for the statement around them.
 */
export const MAX_STATEMENT_BYTES = 14 * 1024;

/**
 * The size of a string literal as mysql2 writes it: the quotes, the UTF-8 bytes, and one backslash
 * for each character it escapes (NUL, backspace, tab, newline, carriage return, ^Z, quotes,
 * backslash). One pass over the characters, no allocation: it runs for every value of every
 * statement an order sends. A lone surrogate counts 3 bytes, as Buffer.byteLength counts the
 * U+FFFD it becomes.
 */
function literalBytes(s: string): number {
  let bytes = 2;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      bytes +=
        c === 39 || c === 34 || c === 92 || c === 0 || c === 8 || c === 9 || c === 10 || c === 13 || c === 26 ? 2 : 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        bytes += 4; // a surrogate pair: one 4-byte character
        i++;
      } else bytes += 3;
    } else {
      bytes += 3;
    }
  }
  return bytes;
}

/** Decimal digits of a safe integer (with its sign), without making the string. */
function integerBytes(v: number): number {
  let x = v < 0 ? -v : v;
  let digits = v < 0 ? 2 : 1;
  while (x >= 10) {
    x = Math.floor(x / 10);
    digits++;
  }
  return digits;
}

/** A value's size in the SQL text mysql2 formats (dates as 'YYYY-MM-DD HH:MM:SS.mmm'). */
function valueBytes(value: unknown): number {
  if (typeof value === 'string') return literalBytes(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return integerBytes(value);
  if (value === null || value === undefined) return 4;
  if (value instanceof Date) return 25;
  return String(value).length;
}

/** The size of a statement as mysql2 sends it: its text with every `?` replaced by its value. */
export function sqlTextBytes(statement: { sql: string; parameters: readonly unknown[] }): number {
  const { sql, parameters } = statement;
  let bytes = Buffer.byteLength(sql, 'utf8') - parameters.length;
  for (let i = 0; i < parameters.length; i++) bytes += valueBytes(parameters[i]);
  return bytes;
}

/** `(v1, v2, …), ` */
function rowBytes(row: object): number {
  let bytes = 4;
  for (const key in row) bytes += valueBytes((row as Record<string, unknown>)[key]) + 2;
  return bytes;
}

/**
 * The items in order, in runs whose sizes (`sizeOf`) add up to at most `maxBytes` (one item at
 * least per run): rows of a multi-row INSERT, statements sent as one query.
 */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = sizeOf(item);
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The rows in order, in runs whose values add up to at most `maxBytes` of SQL text (one row at least). */
export function chunkRows<T extends object>(rows: readonly T[], maxBytes = MAX_STATEMENT_BYTES): T[][] {
  return chunkBySize(rows, rowBytes, maxBytes);
}

/**
 * `text` cut into pieces whose escaped SQL form is at most `maxBytes`, never inside a character
 * (a split surrogate pair would be stored as U+FFFD). Always at least one piece.
 */
export function splitText(text: string, maxBytes = MAX_STATEMENT_BYTES): string[] {
  const pieces: string[] = [];
  let current = '';
  let size = 0;
  for (const ch of text) {
    const bytes = literalBytes(ch) - 2;
    if (current !== '' && size + bytes > maxBytes) {
      pieces.push(current);
      current = '';
      size = 0;
    }
    current += ch;
    size += bytes;
  }
  pieces.push(current);
  return pieces;
}
