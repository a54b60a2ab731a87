/**
 * Spreadsheet formula injection: a text cell starting with = + - @ (or tab / CR, which some programs strip
 * before reading the next character) may be executed by Excel when the file is opened or re-saved as CSV —
 * and with their full-width forms ＝ ＋ － ＠, which a Chinese input method types and spreadsheet programs fold to
 * ASCII. Such text is written with a leading single quote, the guard Excel itself uses for "this is text".
 * Only what is written to a file is changed; the warehouse keeps the raw value. Every CSV and workbook the
 * system writes goes through this, the CLI's CSV output included.
 */
const DANGEROUS = /^[=+\-@\t\r＝＋－＠]/;

export function neutralize(value: string): string {
  return DANGEROUS.test(value) ? `'${value}` : value;
}

export function neutralizeCell<T>(value: T): T | string {
  return typeof value === 'string' ? neutralize(value) : value;
}
