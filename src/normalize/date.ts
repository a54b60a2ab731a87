/**
 * Dates of DOMAIN §5.3 → 'YYYY-MM-DD'. Twin of SQL rh_date; same inputs, same answers (differential test).
 * Ambiguous forms (05/01/2023: May or January?) are rejected with a reason, never guessed.
 */

import { excelSerialToDate } from '../../connectors/cell-text.ts';
import { charClass, halfWidth, WHITESPACE } from '../../core/chars.ts';
import { dayIn } from '../../core/clock.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import {
  DATE_AMBIGUOUS,
  DATE_COMPACT,
  DATE_LOCAL_TS,
  DATE_SERIAL,
  DATE_YMD_SEP,
  DATE_ZONED_TS,
} from './patterns.ts';

export type DateResult = { ok: true; value: string } | { ok: false; problem: ProblemCode } | null;

const FULLWIDTH_DIGIT = /[０-９]/g;
const EDGE_SPACE = new RegExp(`^${charClass(WHITESPACE)}+|${charClass(WHITESPACE)}+$`, 'g');

/** Calendar-checked 'YYYY-MM-DD', or null when no such day. */
export function ymd(y: string, m: string, d: string, minYear = 1900): string | null {
  const yy = Number(y);
  const mm = Number(m);
  const dd = Number(d);
  if (!/^[0-9]{4}$/.test(y) || !/^[0-9]{1,2}$/.test(m) || !/^[0-9]{1,2}$/.test(d)) return null;
  if (yy < minYear || mm < 1 || mm > 12 || dd < 1) return null;
  if (dd > new Date(Date.UTC(yy, mm, 0)).getUTCDate()) return null;
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

// Excel serial days are read in the workbook connectors (a date cell) and here (a serial typed into a CSV).
export { excelSerialToDate };

// The forms, in the order both twins try them (src/normalize/patterns.ts).
const YMD_SEP = new RegExp(DATE_YMD_SEP);
const COMPACT = new RegExp(DATE_COMPACT);
const SERIAL = new RegExp(DATE_SERIAL);
const LOCAL_TS = new RegExp(DATE_LOCAL_TS);
const ZONED_TS = new RegExp(DATE_ZONED_TS);

/** '+08' / '+0800' / '+08:00' / 'Z' / 'UTC' → '+08:00' or 'Z'. */
function isoOffset(zone: string): string {
  if (zone === 'Z' || zone === 'UTC' || zone === 'GMT') return 'Z';
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
}
const AMBIGUOUS = DATE_AMBIGUOUS.map((p) => new RegExp(p));

const BAD: DateResult = { ok: false, problem: 'date_unparseable' };
const checked = (v: string | null): DateResult => (v == null ? BAD : { ok: true, value: v });
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * 'YYYY-MM-DD' as most files write it, read from its character codes (the regular expressions and Date of the
 * general path cost several times more, millions of times a load); undefined for any other text.
 */
function isoDay(s: string): DateResult | undefined {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  let y = 0;
  let m = 0;
  let d = 0;
  for (let i = 0; i < 10; i++) {
    if (i === 4 || i === 7) continue;
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    if (i < 4) y = y * 10 + c;
    else if (i < 7) m = m * 10 + c;
    else d = d * 10 + c;
  }
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const last = m === 2 && leap ? 29 : (DAYS_IN_MONTH[m - 1] ?? 0);
  return y < 1900 || m < 1 || m > 12 || d < 1 || d > last ? BAD : { ok: true, value: s };
}

export function parseDate(raw: string | null | undefined, timeZone = 'Asia/Shanghai'): DateResult {
  if (raw == null) return null;
  const iso = isoDay(raw);
  if (iso !== undefined) return iso;
  const s = raw.replace(EDGE_SPACE, '').replace(FULLWIDTH_DIGIT, halfWidth);
  if (s === '') return null;
  const bad = BAD;

  let m = YMD_SEP.exec(s) ?? COMPACT.exec(s) ?? LOCAL_TS.exec(s);
  if (m) return checked(ymd(m[1] ?? '', m[2] ?? '', m[3] ?? ''));
  if (SERIAL.test(s)) return checked(excelSerialToDate(Number(s)));
  m = ZONED_TS.exec(s);
  if (m) {
    const day = ymd(m[1] ?? '', m[2] ?? '', m[3] ?? '');
    if (day == null) return bad;
    const time = `${(m[4] ?? '').padStart(2, '0')}:${m[5]}:${m[7] ?? '00'}`;
    const instant = new Date(`${day}T${time}${isoOffset(m[9] ?? 'Z')}`);
    return Number.isNaN(instant.getTime()) ? bad : { ok: true, value: dayIn(timeZone, instant) };
  }
  if (AMBIGUOUS.some((re) => re.test(s))) return { ok: false, problem: 'date_ambiguous' };
  return bad;
}
