/** Text as PostgreSQL stores it: counted and cut by character, and never holding NUL. */

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
