/**
 * Text analysis both adapters share: split on anything but letters, marks and
 * digits, lower-case, fold accents to ASCII. OpenSearch gets the same as a
 * pattern tokenizer with the lowercase and asciifolding filters; the embedded
 * adapter runs these functions. Text is NFC-normalised before either sees it.
 */

/** Java and JavaScript read this pattern alike. */
export const TOKEN_SEPARATOR = '[^\\p{L}\\p{M}\\p{N}]+';
const separator = new RegExp(TOKEN_SEPARATOR, 'u');

/** Letters whose decomposition holds no ASCII base, folded as Lucene's ASCIIFoldingFilter does. */
const LETTERS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ĳ: 'ij',
};

/** Longer terms are cut to this many UTF-16 units (Lucene's truncate filter does the same). */
export const MAX_TERM_LENGTH = 255;

const folded = new Map<string, string>();

/** A character folded to ASCII when it is an accented or ligated Latin one; itself otherwise. */
function foldChar(char: string): string {
  let result = folded.get(char);
  if (result === undefined) {
    const base = char.normalize('NFKD').replace(/\p{M}+/gu, '');
    result = LETTERS[char] ?? (/^[\x20-\x7e]+$/.test(base) ? base : char);
    folded.set(char, result);
  }
  return result;
}

/** One token as it is indexed and searched: lower case, accents folded, length capped. */
export function foldTerm(token: string): string {
  return token
    .toLowerCase()
    .replace(/[^ -~]/gu, foldChar)
    .slice(0, MAX_TERM_LENGTH);
}

/** The tokens of a text before folding, in order. */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFC')
    .split(separator)
    .filter((token) => token.length > 0);
}

/** The terms of a text, in order. */
export function analyze(text: string): string[] {
  return tokenize(text).map(foldTerm);
}

/**
 * Edits a term may be away from a word and still match it: OpenSearch's
 * fuzziness AUTO (0 up to 2 characters, 1 up to 5, 2 beyond).
 */
export function editDistanceFor(term: string): number {
  const length = [...term].length;
  return length <= 2 ? 0 : length <= 5 ? 1 : 2;
}
