/**
 * A calendar year (参保年度) → 'YYYY': '2026', '2026年', '2026年度', full-width digits, or an Excel number
 * written as '2026.0'. Twin of SQL rh_year. Years outside 1900–2100 and any other form are rejected.
 */

import { charClass, halfWidth, WHITESPACE } from '../../core/chars.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import { YEAR as YEAR_PATTERN } from './patterns.ts';

export type YearResult = { ok: true; value: string } | { ok: false; problem: ProblemCode } | null;

const SPACE_ALL = new RegExp(`${charClass(WHITESPACE)}+`, 'g');
const YEAR = new RegExp(YEAR_PATTERN);

export function parseYear(raw: string | null | undefined): YearResult {
  if (raw == null) return null;
  const s = raw.replace(SPACE_ALL, '').replace(/[０-９]/g, halfWidth);
  if (s === '') return null;
  return YEAR.test(s) ? { ok: true, value: s.slice(0, 4) } : { ok: false, problem: 'number_unparseable' };
}
