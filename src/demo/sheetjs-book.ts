/**
 * Workbooks written by SheetJS (`@e965/xlsx`, the package the .xls reader uses) rather than exceljs: the demo's
 * binary .xls (BIFF8, as old department systems still export) and an .xlsx from another writer than the housing
 * feed's, so the readers meet packages laid out differently. SheetJS builds a whole workbook in memory, and its
 * BIFF8 writer slows with size (measured: 3k rows 0.2 s, 30k rows 5 s, 60k rows 16 s; .xlsx: 200k rows 1.8 s), so
 * the demo's SheetJS feeds are small ones: water (~4% of the focus population) and disability (~1%).
 */
import { writeFile } from 'node:fs/promises';
import type { CellObject } from '@e965/xlsx';

/**
 * A cell: text, a number, a date (YYYY-MM-DD, written as a date cell: a serial number in Excel's built-in short
 * date format, number 14, which a Chinese Excel shows as 2026/11/20).
 */
export type BookCell = string | number | { date: string } | null;

export interface BookSheet {
  name: string;
  rows: readonly (readonly BookCell[])[];
  /** A sheet the clerk hid: readers must pass it over unless it is named. */
  hidden?: boolean;
  /** Rows (0-based) whose first cell is merged across `width` columns: a title or a note across the table. */
  mergedRows?: readonly number[];
  width?: number;
}

/**
 * The most rows one BIFF8 sheet holds (65,536). A longer table continues on another sheet, as Excel 2003
 * users split one.
 */
export const BIFF8_MAX_ROWS = 65_536;

const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

function cellOf(c: BookCell): CellObject | null {
  if (c === null || c === '') return null;
  if (typeof c === 'string') return { t: 's', v: c };
  if (typeof c === 'number') return { t: 'n', v: c };
  const serial = (Date.parse(`${c.date}T00:00:00Z`) - EXCEL_EPOCH) / 86_400_000;
  // A built-in format, not a custom one: SheetJS adds a custom format string to its process-wide format table,
  // and writes that table into every later workbook, so the same input would no longer give the same bytes.
  return { t: 'n', v: serial, z: 'm/d/yy' };
}

/** Writes `sheets` to `path` as BIFF8 .xls or .xlsx. Same input, same bytes (no timestamps in either). */
export async function writeSheetJsBook(
  path: string,
  bookType: 'biff8' | 'xlsx',
  sheets: readonly BookSheet[],
): Promise<string> {
  // Loaded on first use, as the .xls reader does (a 1 MB module).
  const X = await import('@e965/xlsx');
  const book = X.utils.book_new();
  for (const s of sheets) {
    // Dense sheets: an array of rows instead of one object key per cell, a fraction of the memory.
    const ws = X.utils.aoa_to_sheet(
      s.rows.map((r) => r.map(cellOf)),
      { dense: true },
    );
    if (s.mergedRows?.length) {
      const last = (s.width ?? 1) - 1;
      ws['!merges'] = s.mergedRows.map((r) => ({ s: { r, c: 0 }, e: { r, c: last } }));
    }
    X.utils.book_append_sheet(book, ws, s.name);
  }
  book.Workbook = { Sheets: sheets.map((s) => ({ Hidden: s.hidden ? 1 : 0 })) };
  await writeFile(path, X.write(book, { type: 'buffer', bookType }) as Buffer);
  return path;
}
