/**
 * Names (DOMAIN §5.2). `normalizeName` is the stored form; `nameKey` is the comparison key that treats
 * traditional and simplified forms as equal, from OpenCC's character table (opencc-js data, not a hand-made
 * list). The SQL twins are rh_name / rh_name_key; both are built from the same table (`traditionalPairs`).
 *
 * Everything works on code points, so rare characters outside the BMP (GB 18030-2022, e.g. 𠮷) pass untouched.
 */
import { CustomConverter } from 'opencc-js/core';
import TS_CHARACTERS from 'opencc-js/dict/TSCharacters';
import { charClass, WHITESPACE } from '../../core/chars.ts';
import { HAN_RANGES, NAME_DOTS } from './patterns.ts';

const SPACES = new RegExp(`${charClass(WHITESPACE)}+`, 'g');
const DOT_VARIANTS = new RegExp(`[${NAME_DOTS}]`, 'g');
const HYPHEN_BETWEEN_HAN = new RegExp(`([${HAN_RANGES}])[-－](?=[${HAN_RANGES}])`, 'g');

/** Stored form: no white space anywhere, middle-dot variants and a hyphen between Han characters → '·'. */
/** Anything normalizeName changes: white space, a dot variant, a hyphen. Most names hold none of them. */
const CHANGES = new RegExp(`${charClass(WHITESPACE)}|[${NAME_DOTS}]|[-－]`);

export function normalizeName(raw: string | null | undefined): string | null {
  if (raw == null || raw === '') return null;
  if (!CHANGES.test(raw)) return raw;
  const s = raw.replace(SPACES, '').replace(DOT_VARIANTS, '·').replace(HYPHEN_BETWEEN_HAN, '$1·');
  return s === '' ? null : s;
}

/**
 * Built on first use, not at import: building it from the table takes 15–40 ms, and most commands load this
 * module without comparing a name (through the migrations, to check the schema; README, "Start-up").
 */
let toSimplified: ((s: string) => string) | undefined;

/** Comparison key: the normalized name with traditional characters mapped to simplified (莊 = 庄). */
export function nameKey(raw: string | null | undefined): string | null {
  const n = normalizeName(raw);
  if (n == null) return null;
  toSimplified ??= CustomConverter(TS_CHARACTERS);
  return toSimplified(n);
}

/**
 * The single-character traditional → simplified pairs as two aligned strings, for SQL translate().
 * Entries with several candidates take the first, as OpenCC's converter does.
 */
export function traditionalPairs(): { from: string; to: string } {
  let from = '';
  let to = '';
  for (const entry of TS_CHARACTERS.split('|')) {
    const [t, s] = entry.split(' ');
    if (t && s && [...t].length === 1 && [...s].length === 1) {
      from += t;
      to += s;
    }
  }
  return { from, to };
}
