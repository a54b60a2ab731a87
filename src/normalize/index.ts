/**
 * Pure normalization functions of DOMAIN §5, each the twin of an SQL normalizer in src/warehouse/functions (which
 * every load uses) and tested against it; single values read outside a load (IDs and dates in department answers
 * and person lookups) go through these, and so do the rows of a delimited file on the bulk path
 * (src/load/row-normalizer.ts). Each pattern and vocabulary both twins use is in ./patterns.ts.
 */
export { type BooleanResult, booleanOfKey, parseBoolean } from './boolean.ts';
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
export { type IntegerResult, parseInteger } from './integer.ts';
export { maskIdColumnValue, maskIdNumber, maskIdsInText, maskPhone } from './mask.ts';
export { type MoneyResult, parseMoney } from './money.ts';
export { nameKey, normalizeName, traditionalPairs } from './name.ts';
export { normalizeText, textKey } from './text.ts';
export { parseYear, type YearResult } from './year.ts';
