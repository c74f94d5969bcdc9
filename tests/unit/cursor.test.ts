import { describe, expect, it } from 'vitest';
import { type Cursor, decodeCursor, encodeCursor, idCursor, specDigest } from '../../lib/products/cursor';

describe('product cursor', () => {
  it('round-trips a position and is URL-safe base64 without padding', () => {
    const text = encodeCursor(idCursor(123_456, 40));
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(idCursor(123_456, 40));
  });

  it('round-trips the extremes (after 0 at position 0, the largest safe id)', () => {
    expect(decodeCursor(encodeCursor(idCursor(0, 0)))).toEqual(idCursor(0, 0));
    const big = idCursor(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    expect(decodeCursor(encodeCursor(big))).toEqual(big);
  });

  it.each<Cursor>([
    { sort: 'price', filters: specDigest({ sort: 'price', minPriceCents: 100 }), key: 1999, after: 7, position: 3 },
    { sort: '-price', filters: specDigest({ sort: '-price' }), key: 0, after: 7, position: 3 },
    { sort: 'name', filters: specDigest({ sort: 'name', q: 'café' }), key: 'café ☕ 杯子 🍵', after: 1, position: 0 },
    { sort: '-name', filters: specDigest({ sort: '-name' }), key: '', after: 1, position: 0 },
    {
      sort: 'created_at',
      filters: specDigest({ sort: 'created_at', inStock: true }),
      key: 1_795_000_000_123,
      after: 9,
      position: 90,
    },
    { sort: '-created_at', filters: specDigest({ sort: '-created_at' }), key: 0, after: 9, position: 90 },
  ])('round-trips the sort value of $sort', (cursor) => {
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('is a versioned JSON payload inside, carrying the sort, a digest of the filters, the last key and id', () => {
    const json = JSON.parse(Buffer.from(encodeCursor(idCursor(7, 10)), 'base64url').toString('utf8'));
    expect(json).toEqual({ v: 2, s: 'id', f: specDigest({ sort: 'id' }), a: 7, n: 10 });
  });

  it('gives every different sort or filter another digest, and equal ones the same', () => {
    const specs = [
      { sort: 'id' as const },
      { sort: 'price' as const },
      { sort: 'id' as const, q: 'mug' },
      { sort: 'id' as const, q: 'mug ' },
      { sort: 'id' as const, minPriceCents: 0 },
      { sort: 'id' as const, maxPriceCents: 0 },
      { sort: 'id' as const, inStock: true },
      { sort: 'id' as const, inStock: false },
    ];
    expect(new Set(specs.map(specDigest)).size).toBe(specs.length);
    expect(specDigest({ sort: 'id', q: undefined })).toBe(specDigest({ sort: 'id' }));
  });

  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

  it('still honours a version 1 cursor (id order, no filters) issued before sorting existed', () => {
    expect(decodeCursor(b64('{"v":1,"a":7,"n":10}'))).toEqual(idCursor(7, 10));
  });

  const f = specDigest({ sort: 'price' });

  it.each([
    ['an empty string', ''],
    ['not base64url', 'abc$%^'],
    ['standard base64 with padding', `${Buffer.from('{"v":1,"a":7,"n":0}').toString('base64')}=`],
    ['base64 of non-JSON', b64('hello')],
    ['JSON that is not an object', b64('[1,2]')],
    ['another version', b64('{"v":3,"a":7,"n":0}')],
    ['version 2 without its sort', b64('{"v":2,"a":7,"n":0}')],
    ['an unknown sort', b64(`{"v":2,"s":"stock","f":"${f}","k":1,"a":7,"n":0}`)],
    ['a price sort without its key', b64(`{"v":2,"s":"price","f":"${f}","a":7,"n":0}`)],
    ['a price sort with a text key', b64(`{"v":2,"s":"price","f":"${f}","k":"1","a":7,"n":0}`)],
    ['a name sort with a number key', b64(`{"v":2,"s":"name","f":"${f}","k":1,"a":7,"n":0}`)],
    ['an id sort with a key', b64(`{"v":2,"s":"id","f":"${f}","k":1,"a":7,"n":0}`)],
    ['a malformed digest', b64('{"v":2,"s":"id","f":"short","a":7,"n":0}')],
    ['a negative id', b64('{"v":1,"a":-1,"n":0}')],
    ['a fractional id', b64('{"v":1,"a":1.5,"n":0}')],
    ['an id given as a string', b64('{"v":1,"a":"7","n":0}')],
    ['a missing position', b64('{"v":1,"a":7}')],
    ['an extra member', b64('{"v":1,"a":7,"n":0,"x":1}')],
    ['the same payload with other key order', b64('{"a":7,"v":1,"n":0}')],
    ['the same payload with whitespace', b64('{"v":1, "a":7, "n":0}')],
    ['an unsafe integer', b64('{"v":1,"a":9007199254740993,"n":0}')],
    ['an overlong string', 'A'.repeat(500)],
  ])('rejects %s', (_label, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });

  it('rejects a cursor whose last character was altered', () => {
    const text = encodeCursor(idCursor(5, 10));
    const last = text.at(-1) === 'A' ? 'B' : 'A';
    const tampered = text.slice(0, -1) + last;
    expect(decodeCursor(tampered)).toBeUndefined();
  });
});
