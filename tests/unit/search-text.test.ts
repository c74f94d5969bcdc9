import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  MAX_QUERY_TERMS,
  MAX_TERM_CHARS,
  nameKeyOf,
  nameMatches,
  normaliseText,
  type SearchPlan,
  searchPlanOf,
  termsOf,
  tokensOf,
} from '../../lib/products/search';

describe('normaliseText', () => {
  it.each([
    ['Café', 'cafe'],
    ['ÉCLAIR crème brûlée', 'eclair creme brulee'],
    ['Straße', 'strasse'],
    ['Ørsted Łódź Æbleskiver', 'orsted lodz aebleskiver'],
    ['ﬁlter ＭＵＧ ①', 'filter mug 1'],
    ['Tiếng Việt', 'tieng viet'],
    ['ΟΔΟΣ', 'οδοσ'],
  ])('%s → %s', (input, output) => {
    expect(normaliseText(input)).toBe(output);
  });

  it('keeps the marks of other scripts, where they are letters rather than accents', () => {
    expect(normaliseText('ภาษาไทย')).toBe('ภาษาไทย');
    expect(normaliseText('हिन्दी')).toBe('हिन्दी');
    expect(normaliseText('Ёлка')).toBe('ёлка');
  });
});

describe('tokensOf', () => {
  it('cuts words, sequences of scripts without spaces, and pictographs; punctuation separates', () => {
    expect(tokensOf(normaliseText('Café ☕ 杯子, iPhone手机壳 e-mail'))).toEqual([
      { kind: 'word', text: 'cafe' },
      { kind: 'symbol', text: '☕' },
      { kind: 'seq', text: '杯子' },
      { kind: 'word', text: 'iphone' },
      { kind: 'seq', text: '手机壳' },
      { kind: 'word', text: 'e' },
      { kind: 'word', text: 'mail' },
    ]);
  });
});

describe('termsOf and nameKeyOf', () => {
  it('indexes word prefixes, sequence characters and pairs, and symbols', () => {
    expect(termsOf('Café ☕ 杯子').sort()).toEqual(['c', 'ca', 'caf', 'cafe', '☕', '杯', '杯子', '子'].sort());
    expect(nameKeyOf('  Café ☕ — 杯子!! ')).toBe('cafe ☕ 杯子');
  });

  it(`stops word prefixes at ${MAX_TERM_CHARS} characters`, () => {
    const terms = termsOf('Extraordinarily');
    expect(Math.max(...terms.map((t) => [...t].length))).toBe(MAX_TERM_CHARS);
    expect(terms).toHaveLength(MAX_TERM_CHARS);
  });
});

describe('searchPlanOf', () => {
  it('looks up a term per word and confirms what terms cannot prove on name_key', () => {
    expect(searchPlanOf('CAFÉ')).toEqual({ terms: ['cafe'], wordStarts: [], contains: [], matchesNothing: false });
    expect(searchPlanOf('extraordinarily')).toMatchObject({
      terms: ['extraordinar'],
      wordStarts: ['extraordinarily'],
    });
    expect(searchPlanOf('马克杯')).toMatchObject({ terms: ['克杯', '马克'], contains: ['马克杯'] });
    expect(searchPlanOf('?!').matchesNothing).toBe(true);
  });

  it(`looks up at most ${MAX_QUERY_TERMS} terms, the longest; the others are confirmed`, () => {
    const plan = searchPlanOf('a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh');
    expect(plan.terms).toEqual(['hhhhhhhh', 'ggggggg', 'ffffff', 'eeeee', 'dddd', 'ccc']);
    expect(plan.wordStarts.sort()).toEqual(['a', 'bb']);
  });
});

/** What the database does with a plan, evaluated in memory: terms present, name_key confirmations hold. */
function planMatches(plan: SearchPlan, name: string): boolean {
  if (plan.matchesNothing) return false;
  const terms = new Set(termsOf(name));
  const key = nameKeyOf(name);
  return (
    plan.terms.every((t) => terms.has(t)) &&
    plan.wordStarts.every((w) => ` ${key}`.includes(` ${w}`)) &&
    plan.contains.every((c) => key.includes(c))
  );
}

describe('the index agrees with the definition of a match', () => {
  // Small alphabets, so that random names and queries share prefixes, accents, sequences and symbols.
  const piece = fc.constantFrom(
    'a',
    'b',
    'ab',
    'abc',
    'é',
    'É',
    'ß',
    'ss',
    ' ',
    ' ',
    '-',
    '杯',
    '子',
    '马',
    '☕',
    '1',
    'abcdefghijklmn',
    'ABCDEFGHIJKLMNOP',
  );
  const text = fc.array(piece, { minLength: 1, maxLength: 10 }).map((parts) => parts.join(''));

  test.prop([text, text], { numRuns: 2_000 })(
    'planMatches(searchPlanOf(q), name) = nameMatches(name, q)',
    (name, q) => {
      expect(planMatches(searchPlanOf(q), name)).toBe(nameMatches(name, q));
    },
  );
});
