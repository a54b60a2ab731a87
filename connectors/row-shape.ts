/**
 * How a department's sheet is shaped, the same for every file connector: title rows above the header, blank
 * rows, totals rows (合计/总计/小计) at the bottom. Connectors skip and count these; they are not records.
 */

/** Candidate rows examined for the header before the first one is taken (so the loader can name what's missing). */
export const MAX_TITLE_ROWS = 10;

const TOTALS = /^(合计|总计|小计)/;

/** A totals row: its first non-empty cell starts with 合计, 总计 or 小计 (white space ignored). */
export function isTotalsRow(cells: readonly (string | null)[]): boolean {
  const first = cells.find((c) => c !== null && c.trim() !== '');
  return first !== undefined && first !== null && TOTALS.test(first.replace(/\s+/g, ''));
}
