/** Pure normalization functions of DOMAIN §5, each with an SQL twin in src/warehouse/functions. */
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
