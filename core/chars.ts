/**
 * Character classes shared by the TypeScript normalizers and their SQL twins, written out once so that both
 * sides strip exactly the same characters (JavaScript's \s and PostgreSQL's [[:space:]] differ).
 */

/**
 * White space as JavaScript's \s knows it (ASCII, NBSP, the Unicode spaces, U+3000 and the BOM), plus the
 * invisible zero-width characters copy-paste from web pages and chat leaves inside cells (U+200B–U+200D, U+2060).
 */
export const WHITESPACE =
  ' \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b\u200c\u200d\u2060';

/** Quote marks Excel and copy-paste leave around numbers: the apostrophe text marker and its cousins. */
export const QUOTES = '\'"`\u2018\u2019\u201c\u201d';

/** Full-width digits and their ASCII counterparts, aligned. */
export const FULLWIDTH_DIGITS = '０１２３４５６７８９';
export const ASCII_DIGITS = '0123456789';

/** A full-width form (１, ，, Ｘ) as its ASCII character: a replacer for String.replace over such a class. */
export const halfWidth = (c: string): string => String.fromCharCode(c.charCodeAt(0) - 0xfee0);

/**
 * How a closed vocabulary's spelling is looked up: no white space, upper case — the TypeScript side of SQL
 * `upper(rh_key(raw))`, used for the spellings a feed or a county declares.
 */
export const vocabularyKey = (v: string): string => v.replace(SPACE_RUNS, '').toUpperCase();

/** A regular-expression character class of the given characters. */
export function charClass(chars: string): string {
  return `[${[...chars].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}]`;
}

const SPACE_RUNS = new RegExp(`${charClass(WHITESPACE)}+`, 'g');

/**
 * Whether a character takes two columns on screen and in a fixed-width cell: East Asian wide and full-width
 * characters (汉字, kana, Hangul, full-width punctuation such as ，（）), as terminals, Excel and Word draw them.
 */
export function isWide(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

/** Columns a text takes (wide characters two, the rest one): a terminal's columns, Excel's width unit. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += isWide(ch) ? 2 : 1;
  return w;
}
