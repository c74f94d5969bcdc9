/**
 * RDS Proxy pins a client session to its database connection for good once the session sends a
 * statement longer than 16 KB. Multi-row inserts and stored response bodies are split so that the
 * values of one statement stay under MAX_STATEMENT_BYTES, leaving 2 KB for the statement around them.
 */
export const MAX_STATEMENT_BYTES = 14 * 1024;

/** Characters mysql2 escapes with a backslash inside a string literal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL, backspace and ^Z are among them
const ESCAPED = /[\0\b\t\n\r\x1a'"\\]/g;

/** The size of a string literal as mysql2 writes it: quotes, UTF-8 bytes, one backslash per escape. */
const literalBytes = (s: string): number => Buffer.byteLength(s, 'utf8') + (s.match(ESCAPED)?.length ?? 0) + 2;

/** A value's size in the SQL text mysql2 formats (dates as 'YYYY-MM-DD HH:MM:SS.mmm'). */
function valueBytes(value: unknown): number {
  if (typeof value === 'string') return literalBytes(value);
  if (value === null || value === undefined) return 4;
  if (value instanceof Date) return 25;
  return String(value).length;
}

/** The size of a statement as mysql2 sends it: its text with every `?` replaced by its value. */
export function sqlTextBytes(statement: { sql: string; parameters: readonly unknown[] }): number {
  let bytes = Buffer.byteLength(statement.sql, 'utf8') - statement.parameters.length;
  for (const v of statement.parameters) bytes += valueBytes(v);
  return bytes;
}

/** `(v1, v2, …), ` */
const rowBytes = (row: object): number => Object.values(row).reduce<number>((sum, v) => sum + valueBytes(v) + 2, 4);

/** The rows in order, in runs whose values add up to at most `maxBytes` of SQL text (one row at least). */
export function chunkRows<T extends object>(rows: readonly T[], maxBytes = MAX_STATEMENT_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const row of rows) {
    const bytes = rowBytes(row);
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
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
