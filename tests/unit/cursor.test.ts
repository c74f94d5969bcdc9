import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../lib/products/cursor';

describe('product cursor', () => {
  it('round-trips a position and is URL-safe base64 without padding', () => {
    const text = encodeCursor({ after: 123_456, position: 40 });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual({ after: 123_456, position: 40 });
  });

  it('round-trips the extremes (after 0 at position 0, the largest safe id)', () => {
    expect(decodeCursor(encodeCursor({ after: 0, position: 0 }))).toEqual({ after: 0, position: 0 });
    const big = { after: Number.MAX_SAFE_INTEGER, position: Number.MAX_SAFE_INTEGER };
    expect(decodeCursor(encodeCursor(big))).toEqual(big);
  });

  it('is a versioned JSON payload inside', () => {
    const json = JSON.parse(Buffer.from(encodeCursor({ after: 7, position: 10 }), 'base64url').toString('utf8'));
    expect(json).toEqual({ v: 1, a: 7, n: 10 });
  });

  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

  it.each([
    ['an empty string', ''],
    ['not base64url', 'abc$%^'],
    ['standard base64 with padding', `${Buffer.from('{"v":1,"a":7,"n":0}').toString('base64')}=`],
    ['base64 of non-JSON', b64('hello')],
    ['JSON that is not an object', b64('[1,2]')],
    ['another version', b64('{"v":2,"a":7,"n":0}')],
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
    const text = encodeCursor({ after: 5, position: 10 });
    const last = text.at(-1) === 'A' ? 'B' : 'A';
    const tampered = text.slice(0, -1) + last;
    expect(decodeCursor(tampered)).toBeUndefined();
  });
});
