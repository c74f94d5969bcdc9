import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InexactNumber, parseLossless, parseRequestJson } from '../../lib/http/json';

/**
 * parseRequestJson reads most bodies with JSON.parse after a scan proves it equivalent
 * (lib/http/json.ts, parsePlain). Whatever the text, it must give exactly what the lossless parse
 * gives: the same value (InexactNumber, -0 and key order included) or the same error.
 */
function outcome(parse: (text: string) => unknown, text: string): { value: unknown } | { error: string } {
  try {
    return { value: parse(text) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

function agree(text: string): void {
  const fast = outcome(parseRequestJson, text);
  const reference = outcome(parseLossless, text);
  expect(fast).toStrictEqual(reference);
  if ('value' in fast && 'value' in reference) {
    // Key order is what zod and the stored response see.
    expect(JSON.stringify(fast.value)).toBe(JSON.stringify(reference.value));
  }
}

// Number texts, plain and not: exact, inexact, non-canonical, out of range, malformed.
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom(
    '0',
    '-0',
    '1.0',
    '19.990',
    '1e1',
    '1E5',
    '1e400',
    '1e-400',
    '9007199254740993',
    '123456789012345',
    '1234567890123456',
    '0.1',
    '-5',
    '05',
    '-',
    '1.',
    '.5',
    '1e+2',
    '19.999999999999999',
  ),
);

const keyText = fc.oneof(
  fc.constantFrom('"a"', '"b"', '"product_id"', '"quantity"', '"__proto__"', '"\\u0061"'),
  fc.string().map((s) => JSON.stringify(s)),
);
const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ', '\u00a0');

// JSON-like text built from pieces, with repeated keys, odd numbers and odd spacing likely.
const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberText,
    fc.constantFrom('true', 'false', 'null', '"x"', '"a\\"b"', '"19.99"', '"\\ud800"', '"é"', 'nul'),
    fc.array(tie('value'), { maxLength: 4 }).chain((items) => space.map((s) => `[${s}${items.join(`,${s}`)}]`)),
    fc
      .array(fc.tuple(keyText, tie('value'), space), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v, s]) => `${s}${k}${s}:${s}${v}`).join(',')}}`),
  ),
})).value;

describe('the JSON fast path agrees with lossless-json', () => {
  test.prop([valueText], { numRuns: 3000 })('on built texts', (text) => agree(text));
  test.prop([fc.jsonValue()], { numRuns: 1000 })('on any JSON value, compact and indented', (value) => {
    agree(JSON.stringify(value));
    agree(JSON.stringify(value, null, 2));
  });
  test.prop([fc.string()], { numRuns: 1000 })('on arbitrary text', (text) => agree(text));

  it('on the cases that must not take it', () => {
    for (const text of [
      '{"a":1,"a":1}',
      '{"a":1,"a":2}',
      '{"a":{"b":1,"b":1}}',
      '{"q":1.0}',
      '{"q":-0}',
      '{"q":1e400}',
      '{"q":9007199254740993}',
      '{"q":19.999999999999999}',
      '[1,2,]',
      '{"a" 1}',
      '{"__proto__":{"x":1}}',
      '{"a":"b":1}',
    ]) {
      agree(text);
    }
    expect(parseRequestJson('{"q":9007199254740993}')).toStrictEqual({ q: new InexactNumber('9007199254740993') });
    expect(() => parseRequestJson('{"a":1,"a":2}')).toThrow('repeats a key');
    expect(parseRequestJson('\ufeff{"products":[{"product_id":12,"quantity":1}]}')).toStrictEqual({
      products: [{ product_id: 12, quantity: 1 }],
    });
  });
});
