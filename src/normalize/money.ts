/**
 * Money in yuan (DOMAIN §5.3): '¥1,234.50', '1234.5元', '5000元整', 'RMB 800', full-width digits. Twin of SQL
 * rh_money. Thousands separators must stand where thousands are.
 * Returned as exact decimal text, never a float: the warehouse stores numeric.
 */
import type { ProblemCode } from '../../schemas/vocab.ts';
import { charClass, halfWidth, WHITESPACE } from './chars.ts';

export type MoneyResult = { ok: true; value: string } | { ok: false; problem: ProblemCode } | null;

const STRIP = new RegExp(`${charClass(WHITESPACE)}|[¥￥元]|RMB|整$`, 'g');
const PLAIN = /^-?[0-9]+(\.[0-9]+)?$/;
// Separators only where thousands are: '12,000.50' is read, '12,00' or '1,2345' is not guessed at.
const THOUSANDS = /^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$/;

export function parseMoney(raw: string | null | undefined): MoneyResult {
  if (raw == null) return null;
  const s = raw.replace(/[０-９，．]/g, halfWidth).replace(STRIP, '');
  if (s === '') return null;
  if (PLAIN.test(s)) return { ok: true, value: s };
  if (THOUSANDS.test(s)) return { ok: true, value: s.replace(/,/g, '') };
  return { ok: false, problem: 'money_unparseable' };
}
