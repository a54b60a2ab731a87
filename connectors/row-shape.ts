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

/** A row examined as a possible header: its trimmed cells and its row number in the file. */
export interface HeaderCandidate {
  cells: string[];
  row: number;
}

/**
 * Finds the header among the first rows of a sheet or file, fed one non-empty row at a time: the first row that
 * holds every required column — alone, or with its empty cells completed from the row directly above, where a
 * header cell is merged down from a two-row header's group row (Excel keeps a merged cell's text in its top-left
 * cell only, in the sheet and in a CSV saved from it). 'give-up' after MAX_TITLE_ROWS rows.
 */
export function headerFinder(isHeader: (cells: readonly string[]) => boolean) {
  const candidates: HeaderCandidate[] = [];
  const find = (text: string[], row: number): HeaderCandidate | 'more' | 'give-up' => {
    const above = candidates.at(-1);
    // Only empty cells are filled: a header cell of its own always wins over the group row's text.
    const cells = above?.row === row - 1 ? text.map((c, i) => c || above.cells[i] || '') : text;
    if (isHeader(cells)) return { cells, row };
    candidates.push({ cells: text, row });
    return candidates.length < MAX_TITLE_ROWS ? 'more' : 'give-up';
  };
  return Object.assign(find, { candidates });
}

/**
 * No row holds every required column: the row with the most filled cells is reported as the header (the real
 * header row short of one unknown spelling, rather than the title above it), so the error names what is missing.
 */
export function bestCandidate(
  candidates: readonly HeaderCandidate[],
  where: { source: string; sheet?: string },
): { type: 'header'; columns: string[]; position: { source: string; sheet?: string; row: number } } {
  const filled = (c: string[]) => c.filter((x) => x !== '').length;
  const best = candidates.reduce((a, b) => (filled(b.cells) > filled(a.cells) ? b : a));
  return { type: 'header', columns: best.cells, position: { ...where, row: best.row } };
}
