import fc from 'fast-check';
import { format } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { chunkRows, MAX_STATEMENT_BYTES, splitText, sqlTextBytes } from '../../lib/db/statement-size';

const escapedBytes = (s: string) => Buffer.byteLength(s.replace(/['"\\]/g, '\\$&'), 'utf8');

describe('chunkRows', () => {
  it('keeps a usual order in one statement and splits long-named rows under the limit, in order', () => {
    const short = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `Mug ${i}` }));
    expect(chunkRows(short)).toEqual([short]);

    const long = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `${i} ${"杯'".repeat(127)}` }));
    const chunks = chunkRows(long);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(long);
    for (const chunk of chunks) {
      const text = chunk.map((r) => `(${r.id}, '${r.name.replace(/'/g, "\\'")}')`).join(', ');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
    }
  });

  it('gives a row larger than the limit a statement of its own', () => {
    const rows = [{ a: 'x' }, { a: 'y'.repeat(20_000) }, { a: 'z' }];
    expect(chunkRows(rows)).toEqual([[rows[0]], [rows[1]], [rows[2]]]);
  });
});

describe('splitText', () => {
  it('cuts between characters, never inside one, and the pieces join back to the text', () => {
    const text = `${'😀"\\杯'.repeat(3_000)}end`;
    const pieces = splitText(text, 1_000);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) {
      expect(escapedBytes(p)).toBeLessThanOrEqual(1_000);
      expect(p).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/); // no half of a surrogate pair at a cut
    }
  });

  it('returns one piece for a short or empty text', () => {
    expect(splitText('{"id":"ord_x"}')).toEqual(['{"id":"ord_x"}']);
    expect(splitText('')).toEqual(['']);
  });
});

describe('sqlTextBytes', () => {
  // The reference: the statement as mysql2 formats it, measured in UTF-8 bytes.
  const formatted = (sql: string, parameters: unknown[]) =>
    Buffer.byteLength(format(sql, parameters as Parameters<typeof format>[1]), 'utf8');

  it('is the byte length of the statement mysql2 sends, for every kind of value an order writes', () => {
    const sql = 'INSERT INTO t (a, b, c, d, e, f, g) VALUES (?, ?, ?, ?, ?, ?, ?)';
    const cases: unknown[][] = [
      ['ord_abcdefghijklmnopqrstuvwxyz', 42, -7, 0, null, new Date('2026-11-30T10:00:00.123Z'), 'Mug'],
      ['O\'Brien "quoted" \\ back', 9_007_199_254_740_991, -9_007_199_254_740_991, 1.5, true, 'tab\there', 'nl\nx'],
      ['Café ☕ 杯 😀', 10, 100, 1000, 'NUL\0^Z\x1a bs\b cr\r', '\uD800 lone', 'end \uDFFF'],
    ];
    for (const parameters of cases) expect(sqlTextBytes({ sql, parameters })).toBe(formatted(sql, parameters));
  });

  it('agrees with mysql2 on any string, any integer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.maxSafeInteger(), (text, n) => {
        const parameters = [text, n, -n];
        const sql = 'SELECT ?, ?, ?';
        expect(sqlTextBytes({ sql, parameters })).toBe(formatted(sql, parameters));
      }),
      { numRuns: 2_000 },
    );
  });
});
