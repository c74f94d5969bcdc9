import { describe, expect, it } from 'vitest';
import { etagOf, ifMatchVersions, ifNoneMatchHits, strongEtag } from '../../lib/http/etag';
import { fromCents, hasAtMostTwoDecimals, toCents } from '../../lib/money';

describe('money', () => {
  it('round-trips two-decimal prices through integer cents exactly', () => {
    for (const p of [0.01, 0.1, 0.29, 1.15, 19.99, 4.35, 99_999_999.99]) {
      expect(fromCents(toCents(p))).toBe(p);
      expect(JSON.stringify(fromCents(toCents(p)))).toBe(String(p));
    }
  });

  it('sums in cents, never in floats', () => {
    const total = [toCents(0.1), toCents(0.2)].reduce((a, b) => a + b, 0);
    expect(fromCents(total)).toBe(0.3);
  });

  it('knows what has at most two decimals', () => {
    expect(hasAtMostTwoDecimals(19.99)).toBe(true);
    expect(hasAtMostTwoDecimals(5)).toBe(true);
    expect(hasAtMostTwoDecimals(19.999)).toBe(false);
    expect(hasAtMostTwoDecimals(0.1 + 0.2)).toBe(false);
    expect(hasAtMostTwoDecimals(1e-7)).toBe(false);
    expect(hasAtMostTwoDecimals(Number.POSITIVE_INFINITY)).toBe(false);
    expect(hasAtMostTwoDecimals(Number.NaN)).toBe(false);
  });
});

describe('ETags', () => {
  it('are strong, quoted and depend on every byte', () => {
    const a = strongEtag('{"a":1}');
    expect(a).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(strongEtag('{"a":2}')).not.toBe(a);
    expect(strongEtag('{"a":1}')).toBe(a);
  });

  it('If-None-Match uses weak comparison and lists', () => {
    const e = strongEtag('x');
    expect(ifNoneMatchHits(e, e)).toBe(true);
    expect(ifNoneMatchHits(`W/${e}`, e)).toBe(true);
    expect(ifNoneMatchHits(`"other", ${e}`, e)).toBe(true);
    expect(ifNoneMatchHits('*', e)).toBe(true);
    expect(ifNoneMatchHits('"other"', e)).toBe(false);
    expect(ifNoneMatchHits(undefined, e)).toBe(false);
  });

  it('If-Match becomes the expected versions, with strong comparison', () => {
    expect(etagOf('v1')).toBe('"v1"');
    expect(ifMatchVersions('"v1"')).toEqual(['v1']);
    expect(ifMatchVersions('"nope", "v1"')).toEqual(['nope', 'v1']);
    // A weak or malformed tag expects no version, so it never matches.
    expect(ifMatchVersions('W/"v1"')).toEqual([]);
    expect(ifMatchVersions('v1')).toEqual([]);
    expect(ifMatchVersions('"a", *')).toBe('*');
    expect(ifMatchVersions(undefined)).toBeUndefined();
  });
});
