/**
 * Excel cell values as the text the loader normalizes (src/warehouse/functions): every value becomes what a
 * person reading the sheet would type, except that nothing lost is invented.
 */
import type { CellValue } from 'exceljs';

const pad = (n: number) => String(n).padStart(2, '0');

export function cellText(v: CellValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') return numberText(v);
  // exceljs turns date-formatted serials into Dates in UTC (and handles the 1904 date system).
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return null;
    const day = `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())}`;
    const secs = v.getUTCHours() * 3600 + v.getUTCMinutes() * 60 + v.getUTCSeconds();
    return secs === 0
      ? day
      : `${day} ${pad(v.getUTCHours())}:${pad(v.getUTCMinutes())}:${pad(v.getUTCSeconds())}`;
  }
  if (typeof v === 'object') {
    if ('richText' in v) return cellText(v.richText.map((r) => r.text).join(''));
    if ('error' in v) return String(v.error);
    // Formulas: the cached result, never the formula.
    if ('result' in v) return cellText(v.result as CellValue);
    if ('formula' in v || 'sharedFormula' in v) return null;
    if ('text' in v) return cellText(typeof v.text === 'string' ? v.text : String(v.text));
  }
  return String(v);
}

/**
 * Integers as plain digits. A number beyond 2^53 is an 18-digit ID stored as a number: its last digits are
 * already gone, so it is written in scientific notation, which the loader reports as unrecoverable
 * (id_sci_notation) instead of passing on digits Excel made up.
 */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) return n.toExponential().toUpperCase();
  return Number.isInteger(n) ? n.toFixed(0) : String(n);
}
