/**
 * Dates of DOMAIN §5.3 → 'YYYY-MM-DD'. Twin of SQL rh_date; same inputs, same answers (differential test).
 * Ambiguous forms (05/01/2023: May or January?) are rejected with a reason, never guessed.
 */

import { excelSerialToDate } from '../../connectors/cell-text.ts';
import { charClass, halfWidth, WHITESPACE } from '../../core/chars.ts';
import { dayIn } from '../../core/clock.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';

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

const YMD_SEP = /^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})[日号]?$/;
const COMPACT = /^([0-9]{4})([0-9]{2})([0-9]{2})$/;
const SERIAL = /^[0-9]{1,7}(\.[0-9]+)?$/;
// Excel on Windows writes a date-time cell to CSV as '2023/5/1 0:00': any of the date separators before a time,
// and '2023年5月1日 20:00'.
const LOCAL_TS =
  /^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})([日号] ?|[T ])[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$/;
// With a zone: Z, UTC/GMT, or an offset written +08, +0800 or +08:00, after the time or a space (PostgreSQL writes
// '2026-05-31 18:30:00+00'). Hours, minutes and offsets are range-checked here so that both twins agree.
const ZONED_TS =
  /^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})[T ]([01]?[0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9])(\.[0-9]+)?)? ?(Z|UTC|GMT|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)$/;

/** '+08' / '+0800' / '+08:00' / 'Z' / 'UTC' → '+08:00' or 'Z'. */
function isoOffset(zone: string): string {
  if (zone === 'Z' || zone === 'UTC' || zone === 'GMT') return 'Z';
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
}
const AMBIGUOUS = [/^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}$/, /^[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$/];

export function parseDate(raw: string | null | undefined, timeZone = 'Asia/Shanghai'): DateResult {
  if (raw == null) return null;
  const s = raw.replace(EDGE_SPACE, '').replace(FULLWIDTH_DIGIT, halfWidth);
  if (s === '') return null;
  const bad: DateResult = { ok: false, problem: 'date_unparseable' };
  const checked = (v: string | null): DateResult => (v == null ? bad : { ok: true, value: v });

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
