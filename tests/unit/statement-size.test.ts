import { describe, expect, it } from 'vitest';
import { chunkRows, MAX_STATEMENT_BYTES, splitText } from '../../lib/db/statement-size';

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
