/**
 * The old binary workbooks many department systems still export: Excel 97–2003 .xls (BIFF8, and BIFF5 with
 * its code page), WPS .et (the same compound-file format), and the ".xls" files that are really an HTML table
 * or an XML Spreadsheet 2003 — read by SheetJS (its community build, republished to the npm registry as
 * `@e965/xlsx`; the registry's own `xlsx` 0.18 is unmaintained). SheetJS reads a whole file into memory, so the
 * file's size is bounded (MAX_BYTES): a BIFF8 sheet holds at most 65,536 rows, and real exports are a few MB.
 * Rows then go through the same sheet reading as .xlsx (connectors/workbook.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { dataError } from '../../src/errors.ts';
import { isDateFormat, isDateFormatId, numberText, serialText, textOrNull } from '../cell-text.ts';
import { type SheetRow, type SheetSource, type WorkbookSource, workbookConnector } from '../workbook.ts';

/**
 * Measured: a 100k-row, 12-column .xls (two sheets, 22 MB) peaks at ~400 MB of memory while SheetJS reads it.
 * Larger files are refused with what to do instead.
 */
export const MAX_BYTES = 32 * 1024 ** 2;

type SheetJS = typeof import('@e965/xlsx');
let sheetjs: Promise<SheetJS> | null = null;

/** Loaded on first use (a 1 MB module), with the code pages BIFF5 files and HTML exports need. */
function loadSheetJS(): Promise<SheetJS> {
  sheetjs ??= (async () => {
    const x = await import('@e965/xlsx');
    const cp = await import('@e965/xlsx/dist/cpexcel.full.mjs');
    x.set_cptable(cp);
    return x;
  })();
  return sheetjs;
}

type Cell = { t: string; v?: unknown; w?: string; z?: string | number };

const isDate = (z: string | number) => (typeof z === 'number' ? isDateFormatId(z) : isDateFormat(z));

function cellText(cell: Cell | undefined, date1904: boolean) {
  if (!cell || cell.v === undefined || cell.v === null) return null;
  switch (cell.t) {
    case 's':
      return textOrNull(String(cell.v));
    case 'b':
      return cell.v ? 'TRUE' : 'FALSE';
    case 'e':
      return cell.w ?? null;
    case 'n': {
      const n = Number(cell.v);
      return cell.z !== undefined && isDate(cell.z) ? serialText(n, date1904) : numberText(n);
    }
    default:
      return textOrNull(String(cell.v));
  }
}

export async function openXls(path: string): Promise<WorkbookSource> {
  const file = basename(path);
  const { size } = await stat(path);
  if (size > MAX_BYTES) {
    throw dataError(
      `${file}: refused: ${Math.round(size / 1024 ** 2)} MiB is more than an old-format workbook (.xls/.et) may be here (${MAX_BYTES / 1024 ** 2} MiB); save it as .xlsx or CSV, which are read as a stream`,
    );
  }
  const X = await loadSheetJS();
  let book: ReturnType<SheetJS['read']>;
  try {
    book = X.read(await readFile(path), {
      type: 'buffer',
      dense: true,
      cellNF: true, // number formats, to tell date cells from numbers
      cellDates: false, // dates as serials: converted here the same way as in .xlsx
      cellFormula: false, // a formula's cached value only
      cellHTML: false,
      cellStyles: false,
    });
  } catch (err) {
    throw dataError(
      `${file}: not a readable .xls/.et workbook (${(err as Error).message}); save it as .xlsx or CSV`,
    );
  }
  const date1904 = Boolean(book.Workbook?.WBProps?.date1904);
  const sheets: SheetSource[] = book.SheetNames.map((name, i) => {
    const hidden = (book.Workbook?.Sheets?.[i]?.Hidden ?? 0) !== 0;
    return {
      name,
      hidden,
      async *rows(): AsyncGenerator<SheetRow> {
        const sheet = book.Sheets[name];
        const data = (sheet?.['!data'] ?? []) as (Cell[] | undefined)[];
        for (let r = 0; r < data.length; r++) {
          const row = data[r];
          if (!row) continue;
          const cells: (string | null)[] = [];
          for (let c = 0; c < row.length; c++) cells.push(cellText(row[c], date1904));
          while (cells.length && cells.at(-1) === null) cells.pop();
          if (cells.length) yield { number: r + 1, cells };
        }
      },
    };
  });
  if (!sheets.length) throw dataError(`${file}: the workbook has no sheets`);
  return { sheets, close: () => {} };
}

export const xlsConnector = workbookConnector('xls', openXls);
