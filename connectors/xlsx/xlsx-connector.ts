/**
 * Excel workbooks (.xlsx), streamed: rows are read one at a time with exceljs's streaming reader, so a
 * 200k-row sheet never sits in memory whole. The workbook is inspected first (guard.ts). Header found below
 * title rows by the feed's aliases; blank and totals rows skipped and counted; positions are the row numbers
 * Excel shows (title rows included). No bulk path: records go through the loader's COPY of records.
 */
import { basename } from 'node:path';
import type ExcelJS from 'exceljs';
import { z } from 'zod';
import { dataError } from '../../src/errors.ts';
import { excelSerialToDate } from '../../src/normalize/date.ts';
import type { CheckResult, Connector, ReadMessage, ReadOptions, StreamInfo } from '../connector.ts';
import { bestCandidate, headerFinder, isTotalsRow } from '../row-shape.ts';
import { cellText } from './cells.ts';
import { inspectWorkbook } from './guard.ts';
// Must run before exceljs creates its first zip parser.
import './unzip-end-fix.ts';

export const XlsxConfigSchema = z.object({ path: z.string().min(1) }).strict();
export type XlsxConfig = z.infer<typeof XlsxConfigSchema>;

type SheetReader = AsyncIterable<ExcelJS.Row> & { name: string; id: number };

async function* open(path: string): AsyncIterable<SheetReader> {
  // exceljs takes ~0.9 s to load: loaded on first use, so commands that write no workbook start faster.
  const { default: Excel } = await import('exceljs');
  yield* new Excel.stream.xlsx.WorkbookReader(path, {
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache', // needed to tell date-formatted numbers from plain ones
    worksheets: 'emit',
  }) as unknown as AsyncIterable<SheetReader>;
}

/** A number format that shows a date (y/m/d tokens outside quotes and [..] sections). */
const isDateFormat = (fmt: string | undefined) =>
  !!fmt && /[ymd]/i.test(fmt.replace(/"[^"]*"|\[[^\]]*\]/g, ''));

function cellsOf(row: ExcelJS.Row): (string | null)[] {
  const values = row.values as ExcelJS.CellValue[]; // 1-based, sparse
  const out: (string | null)[] = [];
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    // exceljs turns date-formatted plain numbers into Dates, but leaves a formula's numeric result a serial.
    if (
      v &&
      typeof v === 'object' &&
      'result' in v &&
      typeof v.result === 'number' &&
      isDateFormat(row.getCell(i).numFmt)
    ) {
      out.push(excelSerialToDate(v.result));
      continue;
    }
    out.push(cellText(v));
  }
  return out;
}

async function* readXlsx(cfg: XlsxConfig, options: ReadOptions = {}): AsyncGenerator<ReadMessage> {
  const { path } = XlsxConfigSchema.parse(cfg);
  const source = basename(path);
  await inspectWorkbook(path);
  if (options.sheet === undefined && options.isHeader) {
    yield* sheetsWithHeader(path, source, options, options.isHeader);
    return;
  }
  const wanted = options.sheet ?? 0;
  const seen: string[] = [];
  for await (const sheet of open(path)) {
    const index = seen.length;
    seen.push(sheet.name);
    if (typeof wanted === 'number' ? index !== wanted : sheet.name.trim() !== wanted.trim()) {
      await drain(sheet);
      continue;
    }
    yield* readSheet(sheet, source, options);
    return;
  }
  throw dataError(
    `${source}: no sheet ${typeof wanted === 'number' ? `number ${wanted}` : `named '${wanted}'`}; the workbook has ${seen.length ? seen.map((s, i) => `${i}: ${s}`).join(', ') : 'no sheets'}`,
  );
}

/** The streaming reader must consume a sheet to reach the next one. */
async function drain(sheet: SheetReader): Promise<void> {
  for await (const _ of sheet) {
    // nothing to keep
  }
}

/**
 * No sheet named: every sheet whose header row holds the feed's required columns is read, in order, as one
 * feed — a county's workbook often has a 填表说明 sheet first, or one sheet per township. Sheets without the
 * header are passed over (their rows are read to the end: the streaming reader reaches a sheet only through the
 * ones before it). A later sheet's columns are matched to the first sheet's by name, so their order may differ.
 * When no sheet has the header, the first sheet's likeliest header row is reported, and the import fails
 * naming the columns it misses.
 */
async function* sheetsWithHeader(
  path: string,
  source: string,
  options: ReadOptions,
  isHeader: (cells: readonly string[]) => boolean,
): AsyncGenerator<ReadMessage> {
  let main: readonly string[] | null = null;
  let fallback: ReadMessage | null = null;
  for await (const sheet of open(path)) {
    let reading = false;
    let remap: ((cells: readonly (string | null)[]) => (string | null)[]) | null = null;
    for await (const m of readSheet(sheet, source, options, true)) {
      if (m.type === 'header') {
        if (!isHeader(m.columns)) {
          fallback ??= m;
          continue;
        }
        reading = true;
        if (main) remap = columnsOf(main, m.columns);
        else {
          main = m.columns;
          yield m;
        }
        continue;
      }
      if (!reading) continue;
      yield m.type === 'record' && remap ? { ...m, cells: remap(m.cells) } : m;
    }
  }
  if (main) return;
  if (!fallback) throw dataError(`${source}: the workbook has no sheet with rows`);
  yield fallback;
}

/** Cells of a sheet whose header is `other`, rearranged into the columns of `main` (matched by name). */
function columnsOf(main: readonly string[], other: readonly string[]) {
  const key = (h: string) => h.replace(/\s+/g, '');
  const taken = new Set<number>();
  const from = main.map((h) => {
    const j = h === '' ? -1 : other.findIndex((o, k) => !taken.has(k) && key(o) === key(h));
    if (j >= 0) taken.add(j);
    return j;
  });
  return (cells: readonly (string | null)[]) => from.map((j) => (j >= 0 ? (cells[j] ?? null) : null));
}

async function* readSheet(
  sheet: SheetReader,
  source: string,
  options: ReadOptions,
  /** After giving up on finding the header, read the sheet to its end anyway (more sheets follow). */
  consumeAll = false,
): AsyncGenerator<ReadMessage> {
  const sheetName = sheet.name;
  let header: (string | null)[] | null = null;
  const find = headerFinder(options.isHeader ?? (() => true));
  let lastRow = 0;
  let gaveUp = false;
  for await (const row of sheet) {
    if (gaveUp) continue;
    const n = row.number;
    const cells = cellsOf(row);
    const empty = cells.every((c) => c === null);
    if (!header) {
      lastRow = n;
      if (empty) continue;
      const found = find(
        cells.map((c) => (c ?? '').trim()),
        n,
      );
      if (found === 'more') continue;
      if (found === 'give-up') {
        yield bestCandidate(find.candidates, { source, sheet: sheetName });
        if (!consumeAll) return;
        gaveUp = true;
        continue;
      }
      header = found.cells;
      yield { type: 'header', columns: found.cells, position: { source, sheet: sheetName, row: n } };
      continue;
    }
    // Rows absent from the sheet's XML are blank rows too.
    for (let gap = lastRow + 1; gap < n; gap++) {
      yield { type: 'skipped', reason: 'blank', position: { source, sheet: sheetName, row: gap } };
    }
    lastRow = n;
    const position = { source, sheet: sheetName, row: n };
    if (empty) {
      yield { type: 'skipped', reason: 'blank', position };
      continue;
    }
    if (isTotalsRow(cells)) {
      yield { type: 'skipped', reason: 'totals', position };
      continue;
    }
    let width = cells.length;
    while (width > header.length && cells[width - 1] === null) width--;
    if (width > header.length) {
      yield {
        type: 'problem',
        problem: 'ragged_row',
        detail: `values beyond the header's ${header.length} columns`,
        raw: cells.map((c) => c ?? '').join('\t'),
        position,
      };
      continue;
    }
    // Short rows are normal in Excel (trailing empty cells are not stored).
    const padded = cells.slice(0, header.length);
    while (padded.length < header.length) padded.push(null);
    yield { type: 'record', cells: padded, position };
  }
  if (!header && find.candidates.length && !gaveUp) {
    yield bestCandidate(find.candidates, { source, sheet: sheetName });
  } else if (!header && !consumeAll)
    throw dataError(`${source}: sheet '${sheetName}' is empty (no header row)`);
}

export const xlsxConnector: Connector<XlsxConfig> = {
  kind: 'xlsx',
  describe: () => XlsxConfigSchema,
  async check(cfg): Promise<CheckResult> {
    try {
      await inspectWorkbook(cfg.path);
      const sheets = await this.list(cfg);
      return {
        ok: true,
        message: `${basename(cfg.path)}: ${sheets.length} sheet(s): ${sheets.map((s) => s.name).join(', ')}`,
      };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  },
  async list(cfg): Promise<StreamInfo[]> {
    await inspectWorkbook(cfg.path);
    const out: StreamInfo[] = [];
    for await (const sheet of open(cfg.path)) {
      let rows = 0;
      for await (const _ of sheet) rows++;
      out.push({ name: sheet.name, rows });
    }
    return out;
  },
  read: readXlsx,
};
