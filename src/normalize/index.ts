/**
 * Pure normalization functions of DOMAIN §5, each the twin of an SQL normalizer in src/warehouse/functions (which
 * every load uses) and tested against it; single values read outside a load (IDs and dates in department answers
 * and person lookups) go through these. Integers and yes/no have SQL normalizers only.
 */
export { type DateResult, excelSerialToDate, parseDate, ymd } from './date.ts';
export {
  cleanIdNumber,
  type IdResult,
  type IdStatus,
  idCheckChar,
  isValidIdNumber,
  normalizeIdNumber,
  PROVINCE_PREFIXES,
} from './id-number.ts';
export { maskIdNumber, maskPhone } from './mask.ts';
export { type MoneyResult, parseMoney } from './money.ts';
export { nameKey, normalizeName, traditionalPairs } from './name.ts';
export { parseYear, type YearResult } from './year.ts';
