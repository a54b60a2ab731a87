/**
 * The patterns and vocabularies each TypeScript normalizer shares with its SQL twin
 * (src/warehouse/functions/normalize-sql.ts), written once: the TypeScript side compiles them with `new RegExp`,
 * the SQL side puts them in its functions as literals. Only what the two regular-expression engines read alike
 * is used — anchors, groups, alternation, bracket expressions of ASCII and CJK characters, bounded repetition and
 * `\.` — so one string means one set of values in both (test/integration/normalize-sql.test.ts holds the twins
 * equal).
 */

/** An ID written in scientific notation by Excel (after upper-casing): digits are lost, never recovered. */
export const ID_SCI_NOTATION = '^[0-9]+(\\.[0-9]+)?E\\+?[0-9]+$';

/** Dates (§5.3), in the order both twins try them. Year, month, day with a separator or 年月日. */
export const DATE_YMD_SEP = '^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})[日号]?$';
export const DATE_COMPACT = '^([0-9]{4})([0-9]{2})([0-9]{2})$';
/**
 * Excel on Windows writes a date-time cell to CSV as '2023/5/1 0:00': any of the date separators before a time,
 * and '2023年5月1日 20:00'.
 */
export const DATE_LOCAL_TS =
  '^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})([日号] ?|[T ])[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$';
/** An Excel serial day typed into a CSV. */
export const DATE_SERIAL = '^[0-9]{1,7}(\\.[0-9]+)?$';
/**
 * With a zone: Z, UTC/GMT, or an offset written +08, +0800 or +08:00, after the time or a space (PostgreSQL
 * writes '2026-05-31 18:30:00+00'). Hours, minutes and offsets are range-checked here so that both twins agree.
 */
export const DATE_ZONED_TS =
  '^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})[T ]([01]?[0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9])(\\.[0-9]+)?)? ?(Z|UTC|GMT|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)$';
/** Day and month in an order that cannot be told (05/01/2023: May or January?): rejected, never guessed. */
export const DATE_AMBIGUOUS = [
  '^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}$',
  '^[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$',
] as const;

/** Money (yuan): what is stripped before reading, after full-width digits and marks became ASCII. */
export const MONEY_NOISE = '[¥￥元]|RMB|整$';
export const MONEY_PLAIN = '^-?[0-9]+(\\.[0-9]+)?$';
/** Separators only where thousands are: '12,000.50' is read, '12,00' or '1,2345' is not guessed at. */
export const MONEY_THOUSANDS = '^-?[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]+)?$';
/** The columns hold numeric(14,2): cents, below a trillion yuan (13 digits is a shifted column or an ID). */
export const MONEY_TOO_LARGE = '^-?0*[1-9][0-9]{12,}';
/** More decimals than cents (an Excel formula's 1234.5600000000001): rounded as the column would. */
export const MONEY_SUB_CENT = '\\.[0-9]{3,}$';

/** An integer of up to 9 digits (fits the integer column), after white space went and digits became ASCII. */
export const INTEGER = '^-?[0-9]{1,9}$';

/** A year (参保年度): 1900–2100, optionally 年 or 年度 after it, or an Excel number written as 2026.0. */
export const YEAR = '^(19[0-9]{2}|20[0-9]{2}|2100)(年度?|\\.0+)?$';

/** Yes and no as departments write them, as looked up: white space removed, upper case. */
export const BOOLEAN_TRUE = ['是', 'Y', 'YES', 'TRUE', '1', '√', '安全', '已消除'] as const;
export const BOOLEAN_FALSE = ['否', 'N', 'NO', 'FALSE', '0', '×', '不安全', '未消除'] as const;

/** Middle-dot variants a name is written with (each becomes '·'), and the Han ranges a hyphen between two of is one. */
export const NAME_DOTS = '•.‧・･∙';
export const HAN_RANGES = '\\u3400-\\u4dbf\\u4e00-\\u9fff';

/**
 * The field kinds whose normalizer can reject a value (its result then starts with '!', the problem's code): the
 * others (names, text) only clean. One list for both twins' callers (src/load/normalize-staged.ts, the SQL
 * statement; src/load/row-normalizer.ts, the rows normalized in Node).
 */
export const VALIDATING_KINDS: ReadonlySet<string> = new Set([
  'id_number',
  'date',
  'money',
  'integer',
  'year',
  'boolean',
  'enum',
]);
