/**
 * A count (household size, months) → its digits: up to 9, an optional minus, white space anywhere and full-width
 * digits allowed. Twin of SQL rh_integer; the digits are returned as written ('007'), the column's cast reads them.
 */
import { charClass, halfWidth, WHITESPACE } from '../../core/chars.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import { INTEGER } from './patterns.ts';

export type IntegerResult = { ok: true; value: string } | { ok: false; problem: ProblemCode } | null;

const SPACE_ALL = new RegExp(`${charClass(WHITESPACE)}+`, 'g');
const FULLWIDTH_DIGIT = /[０-９]/g;
const INTEGER_RE = new RegExp(INTEGER);

export function parseInteger(raw: string | null | undefined): IntegerResult {
  if (raw == null) return null;
  const s = raw.replace(SPACE_ALL, '').replace(FULLWIDTH_DIGIT, halfWidth);
  if (s === '') return null;
  return INTEGER_RE.test(s) ? { ok: true, value: s } : { ok: false, problem: 'number_unparseable' };
}
