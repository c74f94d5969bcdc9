/**
 * RDS Proxy pins a client session to its database connection for good once the session sends a
 * statement longer than 16 KB. Multi-row inserts and stored response bodies are split so that every
 * statement stays under MAX_STATEMENT_BYTES, leaving room for the statement around the values.
 */
export const MAX_STATEMENT_BYTES = 12 * 1024;

/** Upper bound of a value's size in SQL text: escaping at most doubles a string. */
function valueBytes(value: unknown): number {
  if (typeof value === 'string') return 2 * Buffer.byteLength(value, 'utf8') + 2;
  if (value === null || value === undefined) return 4;
  if (value instanceof Date) return 26;
  return 24;
}

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
    const bytes = 2 * Buffer.byteLength(ch, 'utf8');
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
