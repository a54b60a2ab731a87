/**
 * Money in yuan (DOMAIN §5.3): '¥1,234.50', '1234.5元', 'RMB 800', full-width digits. Twin of SQL rh_money.
 * Returned as exact decimal text, never a float: the warehouse stores numeric.
 */
import type { ProblemCode } from '../../schemas/vocab.ts';
import { charClass, WHITESPACE } from './chars.ts';

export type MoneyResult = { ok: true; value: string } | { ok: false; problem: ProblemCode } | null;

const STRIP = new RegExp(`${charClass(WHITESPACE)}|[¥￥元,]|RMB`, 'g');

export function parseMoney(raw: string | null | undefined): MoneyResult {
  if (raw == null) return null;
  const s = raw
    .replace(/[０-９，．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(STRIP, '');
  if (s === '') return null;
  return /^-?[0-9]+(\.[0-9]+)?$/.test(s)
    ? { ok: true, value: s }
    : { ok: false, problem: 'money_unparseable' };
}
