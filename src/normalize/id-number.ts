/**
 * Resident ID numbers (GB 11643-1999, DOMAIN §5.1). Pure functions; the SQL twin lives in
 * src/warehouse/functions/normalize-sql.ts (rh_id*) and a differential test keeps both in step.
 *
 * Nothing dirty is guessed: a number Excel turned into scientific notation has lost digits and is reported as
 * unrecoverable; a wrong check character is invalid, never "corrected".
 *
 * A 残疾人证号 (the ID number + category digit + grade digit) is read as the ID in every feed's ID column, not
 * only the disability feed's: departments copy it wherever an ID is asked for (送教上门 lists do), and the person is
 * the same. Its first 18 characters are judged like any ID, so it is accepted only when they are a valid one.
 */

import { charClass, halfWidth, QUOTES, WHITESPACE } from '../../core/chars.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import { ID_SCI_NOTATION } from './patterns.ts';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

/** Province-level prefixes of the national division code (incl. 71 Taiwan, 81/82 HK/Macau, 83/91 residence permits). */
export const PROVINCE_PREFIXES: ReadonlySet<string> = new Set(
  [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
    61, 62, 63, 64, 65, 71, 81, 82, 83, 91,
  ].map(String),
);

/** Check character for the first 17 digits. */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARS.charAt(sum % 11);
}

export type IdStatus = 'valid' | 'recovered' | 'invalid' | 'unrecoverable' | 'missing';

export interface IdResult {
  status: IdStatus;
  /** Canonical 18 characters when status is valid or recovered; otherwise null. */
  id: string | null;
  /** Why the value was rejected (or null when usable). */
  problem: ProblemCode | null;
  /** What was repaired to reach the canonical form, for recovered values. */
  repairs: IdRepair[];
  sex: 'M' | 'F' | null;
  birthDate: string | null;
  /** 残疾人证号 suffix, when the value was one: category (1st digit) and grade (2nd digit). */
  disability: { category: number; grade: number } | null;
}

export type IdRepair =
  | 'whitespace'
  | 'quote'
  | 'fullwidth'
  | 'lowercase_x'
  | 'upgraded_15'
  | 'disability_cert';

export interface IdOptions {
  /** 'YYYY-MM-DD'; a birth date after it is rejected. */
  today: string;
  /** Earliest plausible birth year (default 1900). */
  minBirthYear?: number;
}

// Compiled once: this runs millions of times per import.
const SPACE_TEST = new RegExp(charClass(WHITESPACE));
const SPACE_ALL = new RegExp(`${charClass(WHITESPACE)}+`, 'g');
const QUOTE_TEST = new RegExp(charClass(QUOTES));
const QUOTE_ALL = new RegExp(`${charClass(QUOTES)}+`, 'g');
const FULLWIDTH_TEST = /[０-９ｘＸ]/;
const FULLWIDTH_ALL = /[０-９ｘＸ]/g;
const SCI_RE = new RegExp(ID_SCI_NOTATION);
const CLEAN_18 = /^[0-9]{17}[0-9X]$/;
const CERT_20 = /^[0-9]{17}[0-9X][0-9]{2}$/;

/** Cleaning of §5.1 without judging: white space, quote marks, full-width characters, x → X. */
export function cleanIdNumber(raw: string, repairs?: IdRepair[]): string {
  if (CLEAN_18.test(raw)) return raw; // the common case: nothing to repair
  let s = raw;
  if (SPACE_TEST.test(s)) {
    repairs?.push('whitespace');
    s = s.replace(SPACE_ALL, '');
  }
  if (QUOTE_TEST.test(s)) {
    repairs?.push('quote');
    s = s.replace(QUOTE_ALL, '');
  }
  if (FULLWIDTH_TEST.test(s)) {
    repairs?.push('fullwidth');
    s = s.replace(FULLWIDTH_ALL, (c) => (c === 'ｘ' || c === 'Ｘ' ? 'X' : halfWidth(c)));
  }
  if (s.includes('x')) {
    repairs?.push('lowercase_x');
    s = s.replace(/x/g, 'X');
  }
  return s.toUpperCase();
}

/** Lookup by the two-digit prefix as a number: cheaper than a Set of substrings on the hot path. */
const PROVINCE_BY_NUMBER: readonly boolean[] = Array.from({ length: 100 }, (_, n) =>
  PROVINCE_PREFIXES.has(String(n).padStart(2, '0')),
);

/** 'YYYY-MM-DD' → YYYYMMDD as a number, remembered for the last date seen (a whole load shares one). */
let lastDay = '';
let lastDayNumber = 0;
function dayNumber(iso: string): number {
  if (iso !== lastDay) {
    lastDay = iso;
    lastDayNumber = Number(iso.replace(/-/g, ''));
  }
  return lastDayNumber;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function ymdValid(y: number, m: number, d: number, minYear: number): boolean {
  if (y < minYear || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : (DAYS_IN_MONTH[m - 1] ?? 0));
}

const EMPTY: Omit<IdResult, 'status' | 'problem'> = {
  id: null,
  repairs: [],
  sex: null,
  birthDate: null,
  disability: null,
};

function invalid(repairs: IdRepair[], problem: ProblemCode): IdResult {
  return { id: null, repairs, sex: null, birthDate: null, disability: null, status: 'invalid', problem };
}

export function normalizeIdNumber(raw: string | null | undefined, opts: IdOptions): IdResult {
  // Most values are already 18 clean characters: straight to the checks, without the repair steps' tests.
  if (raw != null && CLEAN_18.test(raw)) return checked(raw, [], null, opts);
  const repairs: IdRepair[] = [];
  const c = raw == null ? '' : cleanIdNumber(raw, repairs);
  if (c === '') return { ...EMPTY, status: 'missing', problem: 'id_missing' };
  if (SCI_RE.test(c)) return { ...EMPTY, status: 'unrecoverable', problem: 'id_sci_notation' };

  let id = c;
  let disability: IdResult['disability'] = null;
  if (/^[0-9]{15}$/.test(c)) {
    const first17 = `${c.slice(0, 6)}19${c.slice(6)}`;
    id = first17 + idCheckChar(first17);
    repairs.push('upgraded_15');
  } else if (CERT_20.test(c)) {
    id = c.slice(0, 18);
    disability = { category: Number(c[18]), grade: Number(c[19]) };
    repairs.push('disability_cert');
  }

  if (!CLEAN_18.test(id)) return invalid(repairs, 'id_bad_format');
  return checked(id, repairs, disability, opts);
}

const digitAt = (s: string, i: number) => s.charCodeAt(i) - 48;

/** Region, birth date and check character of a canonical 18-character candidate. */
function checked(
  id: string,
  repairs: IdRepair[],
  disability: IdResult['disability'],
  opts: IdOptions,
): IdResult {
  if (!PROVINCE_BY_NUMBER[(id.charCodeAt(0) - 48) * 10 + id.charCodeAt(1) - 48]) {
    return invalid(repairs, 'id_bad_region');
  }
  // digits are ASCII here (CLEAN_18): arithmetic on char codes avoids substring allocation (a function of the
  // module, not a closure made per value: this runs millions of times a load)
  const y = digitAt(id, 6) * 1000 + digitAt(id, 7) * 100 + digitAt(id, 8) * 10 + digitAt(id, 9);
  const m = digitAt(id, 10) * 10 + digitAt(id, 11);
  const d = digitAt(id, 12) * 10 + digitAt(id, 13);
  if (!ymdValid(y, m, d, opts.minBirthYear ?? 1900)) return invalid(repairs, 'id_bad_birth_date');
  if (y * 10000 + m * 100 + d > dayNumber(opts.today)) return invalid(repairs, 'id_future_birth_date');
  const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (idCheckChar(id) !== id.charAt(17)) return invalid(repairs, 'id_bad_checksum');

  return {
    status: repairs.length > 0 ? 'recovered' : 'valid',
    id,
    problem: null,
    repairs,
    sex: digitAt(id, 16) % 2 === 1 ? 'M' : 'F',
    birthDate,
    disability,
  };
}

/** True for a canonical, valid 18-character number (no cleaning applied). */
export function isValidIdNumber(id: string, today: string): boolean {
  const r = normalizeIdNumber(id, { today });
  return r.status === 'valid';
}
