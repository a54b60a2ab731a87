/**
 * The one mask of DOMAIN §9 for ID numbers and anything that may be one, applied wherever such a value is shown
 * (quarantine, identity review, findings and their details, lineage, error messages, API responses): first 4 and
 * last 4 characters of an ID kept, the middle replaced by asterisks of the same length, so a masked 18-character
 * number still reads as 18 characters. What a value shows is never more than a masked ID shows:
 *
 *   - an ID of 15 or 18 characters (after spaces): first 4 + last 4 of its characters, every other one starred
 *     ('4312 2619 7001 0110 12' keeps its spaces);
 *   - 8 characters or fewer: everything starred ("first 4 + last 4" of them would be all of them);
 *   - an ID Excel wrote in scientific notation ('4.31226197001011E+17'): only the first 4 digits of the mantissa
 *     are kept, and the exponent. Its last digits are not the ID's last digits but its middle ones — the birth
 *     date — so "last 4 characters" would show them; a truncated or over-long ID likewise: its first 4 digits
 *     kept, every other digit starred.
 */

/** A digit, ASCII or full-width (an ID typed with a Chinese input method). */
const DIGIT = /[0-9０-９]/;
/** The check character X, in any case or width. */
const CHECK_X = /[XxＸｘ]/;
/** An ID written as a number in scientific notation; asterisks too, so that masking a masked value changes nothing. */
const SCI_NOTATION = /^[0-9０-９][.,．]?[0-9０-９*]*[eEｅＥ][+＋]?[0-9０-９]{1,3}$/;
const SPACE = /\s/;

export function maskIdNumber(value: string): string {
  const chars = [...value];
  if (SCI_NOTATION.test(value.trim())) return keepFirstDigits(chars, value.search(/[eEｅＥ]/));
  // An asterisk stands for a digit: a masked ID masked again is the same (a screen may mask what a query did).
  const idChars = chars.flatMap((c, i) => (DIGIT.test(c) || CHECK_X.test(c) || c === '*' ? [i] : []));
  const shape = chars
    .filter((c) => !SPACE.test(c))
    .map((c) => (DIGIT.test(c) || c === '*' ? '9' : CHECK_X.test(c) ? 'X' : c))
    .join('');
  if (/^(9{15}|9{17}[9X])$/.test(shape)) {
    const shown = new Set([...idChars.slice(0, 4), ...idChars.slice(-4)]);
    return chars.map((c, i) => (shown.has(i) || !idChars.includes(i) ? c : '*')).join('');
  }
  if (chars.length <= 8) return '*'.repeat(chars.length);
  return keepFirstDigits(chars, chars.length);
}

/** The characters with every digit (and X) before `end` after the first four starred; the rest kept. */
function keepFirstDigits(chars: readonly string[], end: number): string {
  let digits = 0;
  return chars
    .map((c, i) => {
      if (i >= end || !(DIGIT.test(c) || CHECK_X.test(c))) return c;
      digits += 1;
      return digits <= 4 && DIGIT.test(c) ? c : '*';
    })
    .join('');
}

/**
 * An ID-like run in free text (a raw CSV line, an error message, a JSON string): 15 or more digits, possibly
 * full-width, spaced or ending in X; or a number in scientific notation of 10^12 or more — no department's amount
 * (src/normalize/patterns.ts MONEY_TOO_LARGE), so an ID Excel turned into a number. The notation is tried first:
 * the 15 digits after the point of '4.312261970010107E+17' are the ID's middle, not an ID.
 */
const ID_IN_TEXT =
  /[0-9０-９][.,．][0-9０-９]+[eEｅＥ][+＋]?[0-9０-９]{1,3}|[0-9０-９](?:[0-9０-９ \u3000]){13,}[0-9０-９XxＸｘ]/g;

/** Masks every ID-like run in free text with maskIdNumber. */
export function maskIdsInText(text: string): string {
  return text.replace(ID_IN_TEXT, (m) => {
    const exponent = /[eEｅＥ][+＋]?([0-9０-９]+)$/.exec(m);
    if (exponent) return Number(exponent[1]!.normalize('NFKC')) >= 12 ? maskIdNumber(m) : m;
    return maskIdNumber(m.replace(/[ \u3000]/g, ''));
  });
}

/**
 * A raw value from an ID column, as quarantine and identity review show it: masked when it says anything about a
 * person — six digits or more (a region code and beyond) or scientific notation; shown as written otherwise
 * (无, 待补, a formula a spreadsheet put there), which is what an operator needs to see to fix it.
 */
export function maskIdColumnValue(raw: string): string {
  const digits = [...raw].filter((c) => DIGIT.test(c)).length;
  return digits >= 6 || SCI_NOTATION.test(raw.trim()) ? maskIdNumber(raw) : maskIdsInText(raw);
}

/** A copy of `fields` (a finding's details) with every string under a key naming an `id_number` masked. */
export function maskIdNumberFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = { ...fields };
  for (const [k, v] of Object.entries(out))
    if (typeof v === 'string' && /id_number/.test(k)) out[k] = maskIdNumber(v);
  return out;
}

/**
 * A phone number as a lookup shows it: the first 3 and last 4 digits (138****5678), as Chinese services print
 * one. The bureau sees whose number it is, not the number (it is in the roster for the township to call).
 */
export function maskPhone(value: string): string {
  const chars = [...value.trim()];
  if (chars.length <= 7) return '*'.repeat(chars.length);
  return chars.slice(0, 3).join('') + '*'.repeat(chars.length - 7) + chars.slice(-4).join('');
}
