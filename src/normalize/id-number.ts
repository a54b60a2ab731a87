/**
 * Resident ID numbers (GB 11643-1999, DOMAIN §5.1). Pure functions; the SQL twin lives in
 * src/warehouse/functions/normalize-sql.ts (rh_id*) and a differential test keeps both in step.
 *
 * Nothing dirty is guessed: a number Excel turned into scientific notation has lost digits and is reported as
 * unrecoverable; a wrong check character is invalid, never "corrected".
 */
import type { ProblemCode } from '../../schemas/vocab.ts';
import { charClass, QUOTES, WHITESPACE } from './chars.ts';

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
  /** 残疾人证号 suffix: category (1st digit) and grade (2nd digit). */
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
  /** Treat a 20-character value as a 残疾人证号 (ID + category digit + grade digit). */
  disabilityCert?: boolean;
  /** 'YYYY-MM-DD'; a birth date after it is rejected. */
  today: string;
  /** Earliest plausible birth year (default 1900). */
  minBirthYear?: number;
}

const SPACE = `${charClass(WHITESPACE)}+`;
const QUOTE = `${charClass(QUOTES)}+`;
const FULLWIDTH = '[０-９ｘＸ]';
const SCI_RE = /^[0-9]+(\.[0-9]+)?E\+?[0-9]+$/;

/** Applies one repair when its pattern occurs, recording it. */
function repair(s: string, pattern: string, to: (m: string) => string, name: IdRepair, repairs?: IdRepair[]) {
  if (!new RegExp(pattern).test(s)) return s;
  repairs?.push(name);
  return s.replace(new RegExp(pattern, 'g'), to);
}

/** Cleaning of §5.1 without judging: white space, quote marks, full-width characters, x → X. */
export function cleanIdNumber(raw: string, repairs?: IdRepair[]): string {
  let s = repair(raw, SPACE, () => '', 'whitespace', repairs);
  s = repair(s, QUOTE, () => '', 'quote', repairs);
  s = repair(
    s,
    FULLWIDTH,
    (c) => (c === 'ｘ' || c === 'Ｘ' ? 'X' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)),
    'fullwidth',
    repairs,
  );
  s = repair(s, 'x', () => 'X', 'lowercase_x', repairs);
  return s.toUpperCase();
}

function ymdValid(y: number, m: number, d: number, minYear: number): boolean {
  if (y < minYear || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const EMPTY: Omit<IdResult, 'status' | 'problem'> = {
  id: null,
  repairs: [],
  sex: null,
  birthDate: null,
  disability: null,
};

export function normalizeIdNumber(raw: string | null | undefined, opts: IdOptions): IdResult {
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
  } else if (opts.disabilityCert && /^[0-9]{17}[0-9X][0-9]{2}$/.test(c)) {
    id = c.slice(0, 18);
    disability = { category: Number(c[18]), grade: Number(c[19]) };
    repairs.push('disability_cert');
  }

  const invalid = (problem: ProblemCode): IdResult => ({ ...EMPTY, repairs, status: 'invalid', problem });
  if (!/^[0-9]{17}[0-9X]$/.test(id)) return invalid('id_bad_format');
  if (!PROVINCE_PREFIXES.has(id.slice(0, 2))) return invalid('id_bad_region');
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (!ymdValid(y, m, d, opts.minBirthYear ?? 1900)) return invalid('id_bad_birth_date');
  const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (birthDate > opts.today) return invalid('id_future_birth_date');
  if (idCheckChar(id) !== id.charAt(17)) return invalid('id_bad_checksum');

  return {
    status: repairs.length > 0 ? 'recovered' : 'valid',
    id,
    problem: null,
    repairs,
    sex: Number(id.charAt(16)) % 2 === 1 ? 'M' : 'F',
    birthDate,
    disability,
  };
}

/** True for a canonical, valid 18-character number (no cleaning applied). */
export function isValidIdNumber(id: string, today: string): boolean {
  const r = normalizeIdNumber(id, { today });
  return r.status === 'valid';
}
