/**
 * Catalogue search text: how a product name is normalised and cut into index terms when it is
 * written, and how a search `q` is cut the same way when it is read (docs/decisions/0011-catalogue-search.md).
 * The two sides share every function here, so they cannot disagree.
 *
 * - Normalised text: NFKD, combining marks dropped after Latin letters (é → e, ﬁ → fi), a few Latin
 *   letters that have no decomposition folded (ß → ss, ø → o, ł → l …), lower case.
 * - Tokens: runs of letters, digits and marks; a run in a script written without spaces (Han,
 *   kana, Thai …) is a token of its own (`seq`), as is each pictograph or emoji (`symbol`).
 *   Everything else (spaces, punctuation) separates tokens.
 * - Index terms of a name: every prefix of each word, up to MAX_TERM_CHARS characters (so "every
 *   word of q starts a word of the name" is one equality lookup per q word); for a `seq`, each
 *   character and each pair of neighbouring characters (so a substring of any length is found by
 *   its pairs and confirmed on `name_key`); a symbol itself.
 * - `name_key`: the tokens joined by single spaces; it orders `sort=name` and confirms the rare
 *   matches that the terms alone cannot prove (words longer than MAX_TERM_CHARS, sequences longer
 *   than two characters).
 */

/** Longest index term, in characters: longer q words are looked up by this prefix and confirmed. */
export const MAX_TERM_CHARS = 12;
/** Longest `name_key` kept (characters); the column is VARCHAR(NAME_KEY_CHARS). */
export const NAME_KEY_CHARS = 512;
/** At most this many terms are looked up per search (each is a join); the rest are confirmed on name_key. */
export const MAX_QUERY_TERMS = 6;

const FOLD: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
  ŀ: 'l',
  ĸ: 'k',
  ſ: 's',
};
const FOLDABLE = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'g');

/** Scripts written without spaces between words: matched anywhere, not only at word starts. */
const SEQ_CHAR =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\u30fc]/u;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const SYMBOL_CHAR = /\p{So}/u;

/** Case- and (Latin) accent-folded text, as both the index and the queries see it. */
export function normaliseText(text: string): string {
  return (
    text
      .normalize('NFKD')
      // Accents go only from Latin letters: marks carry meaning in other scripts (Thai vowels, Devanagari).
      .replace(/(\p{Script=Latin})\p{M}+/gu, '$1')
      .normalize('NFC')
      .toLowerCase()
      .replace(FOLDABLE, (ch) => FOLD[ch] ?? ch)
      // Greek final sigma is a form of σ.
      .replaceAll('ς', 'σ')
  );
}

export type TokenKind = 'word' | 'seq' | 'symbol';
export interface Token {
  kind: TokenKind;
  text: string;
}

/** The tokens of already-normalised text, in order. */
export function tokensOf(normalised: string): Token[] {
  const tokens: Token[] = [];
  let current: Token | undefined;
  const flush = () => {
    if (current) tokens.push(current);
    current = undefined;
  };
  for (const ch of normalised) {
    if (SYMBOL_CHAR.test(ch)) {
      flush();
      tokens.push({ kind: 'symbol', text: ch });
      continue;
    }
    if (!WORD_CHAR.test(ch)) {
      flush();
      continue;
    }
    // A mark continues whatever it follows; a letter or digit starts a new token when the kind changes.
    const kind: TokenKind = SEQ_CHAR.test(ch) ? 'seq' : 'word';
    const isMark = /\p{M}/u.test(ch);
    if (current && (isMark || current.kind === kind)) current.text += ch;
    else {
      flush();
      current = { kind, text: ch };
    }
  }
  flush();
  return tokens;
}

const codePoints = (s: string): string[] => [...s];

/** `name_key` of a product name: its tokens joined by spaces, at most NAME_KEY_CHARS characters. */
export function nameKeyOf(name: string): string {
  const key = tokensOf(normaliseText(name))
    .map((t) => t.text)
    .join(' ');
  const chars = codePoints(key);
  return chars.length <= NAME_KEY_CHARS ? key : chars.slice(0, NAME_KEY_CHARS).join('');
}

/** The distinct index terms of a product name (see the file comment). */
export function termsOf(name: string): string[] {
  const terms = new Set<string>();
  for (const token of tokensOf(normaliseText(name))) {
    const chars = codePoints(token.text);
    if (token.kind === 'word') {
      for (let n = 1; n <= Math.min(chars.length, MAX_TERM_CHARS); n++) terms.add(chars.slice(0, n).join(''));
    } else if (token.kind === 'seq') {
      for (let i = 0; i < chars.length; i++) {
        terms.add(chars[i] as string);
        if (i + 1 < chars.length) terms.add(`${chars[i]}${chars[i + 1]}`);
      }
    } else {
      terms.add(token.text);
    }
  }
  return [...terms];
}

/**
 * What a search `q` asks of a product:
 *   terms:     every one must be among the product's index terms (an equality lookup each);
 *   wordStarts: texts that must start a word of name_key (words longer than MAX_TERM_CHARS);
 *   contains:  texts that must appear in name_key (sequences longer than two characters);
 * A `q` without any letter, digit or symbol matches nothing (`matchesNothing`).
 */
export interface SearchPlan {
  terms: string[];
  wordStarts: string[];
  contains: string[];
  matchesNothing: boolean;
}

export function searchPlanOf(q: string): SearchPlan {
  const terms = new Set<string>();
  const wordStarts = new Set<string>();
  const contains = new Set<string>();
  const tokens = tokensOf(normaliseText(q));
  for (const token of tokens) {
    const chars = codePoints(token.text);
    if (token.kind === 'word') {
      terms.add(chars.slice(0, MAX_TERM_CHARS).join(''));
      if (chars.length > MAX_TERM_CHARS) wordStarts.add(token.text);
    } else if (token.kind === 'seq') {
      if (chars.length === 1) terms.add(token.text);
      else {
        for (let i = 0; i + 1 < chars.length; i++) terms.add(`${chars[i]}${chars[i + 1]}`);
        if (chars.length > 2) contains.add(token.text);
      }
    } else {
      terms.add(token.text);
    }
  }
  // Each looked-up term is a join: keep the most selective few (longest first), prove the rest on name_key.
  const ranked = [...terms].sort((a, b) => codePoints(b).length - codePoints(a).length || (a < b ? -1 : 1));
  const kept = ranked.slice(0, MAX_QUERY_TERMS);
  for (const dropped of ranked.slice(MAX_QUERY_TERMS)) {
    if (tokens.some((t) => t.kind === 'seq' && t.text.includes(dropped))) contains.add(dropped);
    else wordStarts.add(dropped);
  }
  return {
    terms: kept,
    wordStarts: [...wordStarts],
    contains: [...contains],
    matchesNothing: tokens.length === 0,
  };
}

/**
 * Whether a product name matches `q`, by the definition rather than the index: every q token is
 * the start of a name word (a word token), inside a name sequence (a seq token) or a name symbol.
 * The property tests use it as the model the database must agree with.
 */
export function nameMatches(name: string, q: string): boolean {
  const qTokens = tokensOf(normaliseText(q));
  if (qTokens.length === 0) return false;
  const nameTokens = tokensOf(normaliseText(name));
  return qTokens.every((qt) =>
    nameTokens.some((nt) => {
      if (qt.kind === 'word') return nt.kind === 'word' && nt.text.startsWith(qt.text);
      if (qt.kind === 'seq') return nt.kind === 'seq' && nt.text.includes(qt.text);
      return nt.kind === 'symbol' && nt.text === qt.text;
    }),
  );
}
