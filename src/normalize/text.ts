/** Text as PostgreSQL stores it: counted and cut by character, and never holding NUL; free text and lookup keys. */
import { charClass, WHITESPACE } from '../../core/chars.ts';

/**
 * The first `max` characters of `s`, counted and cut as PostgreSQL's left() does: by code point. A cut by UTF-16
 * unit (String.slice) can split a surrogate pair — CJK Extension B (𠀀), emoji — and the half left over is
 * stored as U+FFFD.
 */
export function firstChars(s: string, max: number): string {
  if (s.length <= max) return s;
  let units = 0;
  for (let chars = 0; chars < max && units < s.length; chars++) {
    units += s.codePointAt(units)! > 0xffff ? 2 : 1;
  }
  return s.slice(0, units);
}

/** PostgreSQL's text cannot hold U+0000: a message quoting a file's NUL shows it as `\0` instead of failing. */
export const withoutNul = (s: string) => (s.includes('\0') ? s.replaceAll('\0', '\\0') : s);

const EDGE_SPACE = new RegExp(`^${charClass(WHITESPACE)}+|${charClass(WHITESPACE)}+$`, 'g');
const ANY_SPACE = new RegExp(`${charClass(WHITESPACE)}+`, 'g');
const SPACE_CODES = new Set([...WHITESPACE].map((c) => c.charCodeAt(0)));

/**
 * Whether the UTF-16 unit at `i` of `s` is one of WHITESPACE (all of which are single units). Printable ASCII and
 * U+3001–U+FEFE (CJK among them) hold none of them: answered without the set lookup, which is most of a value.
 */
export const isSpaceAt = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  if ((c > 0x20 && c < 0x7f) || (c > 0x3000 && c < 0xfeff)) return false;
  return SPACE_CODES.has(c);
};

/** Free text: trimmed of WHITESPACE at both ends; empty → null. Twin of SQL rh_text. */
export function normalizeText(raw: string | null | undefined): string | null {
  if (raw == null || raw === '') return null;
  // Most values have nothing to trim: two lookups instead of a regular expression.
  if (!isSpaceAt(raw, 0) && !isSpaceAt(raw, raw.length - 1)) return raw;
  const s = raw.replace(EDGE_SPACE, '');
  return s === '' ? null : s;
}

/** A value as a vocabulary looks it up, before upper-casing: no white space at all; empty → null. Twin of SQL rh_key. */
export function textKey(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  const s = raw.replace(ANY_SPACE, '');
  return s === '' ? null : s;
}
