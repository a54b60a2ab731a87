/**
 * Spreadsheet cell values as the text the loader normalizes, the same for every workbook format: what a person
 * reading the sheet would type, nothing invented.
 */

/**
 * Excel serial day → ISO date. Excel counts 1900-02-29, a day that never was (the Lotus 1-2-3 leap-year
 * quirk): serials below 60 are one day later than the 1899-12-30 epoch suggests, and 60 itself is no date.
 */
export function excelSerialToDate(serial: number): string | null {
  const day = Math.floor(serial);
  if (day === 60 || day < 1 || day > 2958465) return null;
  const epoch = day < 60 ? Date.UTC(1899, 11, 31) : Date.UTC(1899, 11, 30);
  return new Date(epoch + day * 86_400_000).toISOString().slice(0, 10);
}

/** Text that is only white space is an empty cell (a space typed to clear a cell). */
export const textOrNull = (s: string) => (s.trim() === '' ? null : s);

/**
 * Built-in number formats that show a date or time: 14–22 and 45–47 in every locale, and 27–36 and 50–58,
 * which Excel in a Chinese (and Japanese, Korean) locale maps to its 年月日 formats.
 */
const BUILTIN_DATE = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54,
  55, 56, 57, 58,
]);

/** A format code that shows a date: y/m/d/h/s tokens outside quoted text, escapes and [..] sections. */
export const isDateFormat = (code: string) =>
  /[ymdhs]/i.test(code.replace(/"[^"]*"|\\.|\[[^\]]*\]/g, '').replace(/General/gi, ''));

export const isDateFormatId = (id: number) => BUILTIN_DATE.has(id);

const pad = (n: number) => String(n).padStart(2, '0');

/** A date-formatted serial as the date (and time, when it has one) it shows. */
export function serialText(serial: number, date1904: boolean): string | null {
  const s = date1904 ? serial + 1462 : serial;
  let day = Math.floor(s);
  let secs = Math.round((s - day) * 86_400);
  if (secs === 86_400) {
    day++;
    secs = 0;
  }
  const time = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
  if (day === 0 && !date1904) return time; // a time of day with no date
  const date = excelSerialToDate(day);
  if (date === null) return null;
  return secs === 0 ? date : `${date} ${time}`;
}

/**
 * Integers as plain digits. A number beyond 2^53 is an 18-digit ID stored as a number: its last digits are
 * already gone, so it is written in scientific notation, which the loader reports as unrecoverable
 * (id_sci_notation) instead of passing on digits Excel made up.
 */
export function numberText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) return n.toExponential().toUpperCase();
  return Number.isInteger(n) ? n.toFixed(0) : String(n);
}
