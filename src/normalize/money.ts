/**
 * Money in yuan (DOMAIN §5.3): '¥1,234.50', '1234.5元', '5000元整', 'RMB 800', full-width digits. Twin of SQL
 * rh_money. Thousands separators must stand where thousands are.
 * Returned as exact decimal text, never a float: the warehouse stores numeric.
 */

import { charClass, halfWidth, WHITESPACE } from '../../core/chars.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import { MONEY_NOISE, MONEY_PLAIN, MONEY_SUB_CENT, MONEY_THOUSANDS, MONEY_TOO_LARGE } from './patterns.ts';

export type MoneyResult = { ok: true; value: string } | { ok: false; problem: ProblemCode } | null;

const STRIP = new RegExp(`${charClass(WHITESPACE)}|${MONEY_NOISE}`, 'g');
const PLAIN = new RegExp(MONEY_PLAIN);
const THOUSANDS = new RegExp(MONEY_THOUSANDS);
const TOO_LARGE = new RegExp(MONEY_TOO_LARGE);
const SUB_CENT = new RegExp(MONEY_SUB_CENT);

export function parseMoney(raw: string | null | undefined): MoneyResult {
  if (raw == null) return null;
  const s = raw.replace(/[０-９，．]/g, halfWidth).replace(STRIP, '');
  if (s === '') return null;
  const v = PLAIN.test(s) ? s : THOUSANDS.test(s) ? s.replace(/,/g, '') : null;
  if (v === null) return { ok: false, problem: 'money_unparseable' };
  // The columns hold numeric(14,2): cents, below a trillion yuan (a 13-digit amount is a shifted column or an ID).
  if (TOO_LARGE.test(v)) return { ok: false, problem: 'money_out_of_range' };
  if (!SUB_CENT.test(v)) return { ok: true, value: v };
  const rounded = roundToCents(v); // 999999999999.995 rounds to a trillion
  return /^-?[0-9]{13,}/.test(rounded)
    ? { ok: false, problem: 'money_out_of_range' }
    : { ok: true, value: rounded };
}

/**
 * A decimal rounded to two places as PostgreSQL's round(numeric, 2) does it — half away from zero, on the
 * digits, never through a float (an Excel formula's 1234.5600000000001 is 1234.56).
 */
function roundToCents(v: string): string {
  const negative = v.startsWith('-');
  const [whole = '', fraction = ''] = v.replace(/^-/, '').split('.');
  const cents = BigInt(whole + fraction.slice(0, 2)) + (fraction.charCodeAt(2) >= 53 ? 1n : 0n); // '5' is 53
  const digits = cents.toString().padStart(3, '0');
  return `${negative && cents !== 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
