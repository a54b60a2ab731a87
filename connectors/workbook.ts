/**
 * What every workbook connector shares, whatever the file format (.xlsx, .xls/.et): a workbook is a list of
 * named sheets, each a stream of numbered rows of cell text. On top of that, the same sheet reading for all of
 * them: the header found below title rows by the feed's aliases, blank, totals and footer rows skipped and
 * counted, positions as the row numbers a spreadsheet shows, damaged text quarantined, and — with no sheet
 * named — every visible sheet that holds the header read as one feed.
 *
 * A format adds itself with one function that opens a file as a `WorkbookSource`; `workbookConnector` makes
 * the connector.
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { dataError } from '../core/errors.ts';
import type { CheckResult, Connector, ReadMessage, ReadOptions, StreamInfo } from './connector.ts';
import { bestCandidate, headerFinder, headerLikeness, skipReason, titlesAbove } from './row-shape.ts';
import { recordOf } from './text-damage.ts';

export interface SheetRow {
  /** 1-based, as the spreadsheet shows it. */
  number: number;
  /** Cell text by 0-based column; null for an empty cell. Trailing cells may be missing. */
  cells: (string | null)[];
  /** Columns whose text holds a U+FFFD that the file's bytes do not (undecodable bytes). */
  damaged?: number[];
}

export interface SheetSource {
  name: string;
  /** Hidden sheets are read only when named. */
  hidden: boolean;
  rows(): AsyncIterable<SheetRow>;
}

export interface WorkbookSource {
  sheets: SheetSource[];
  close(): void;
}

export const WorkbookConfigSchema = z.object({ path: z.string().min(1) }).strict();
export type WorkbookConfig = z.infer<typeof WorkbookConfigSchema>;

export function workbookConnector(
  kind: string,
  openWorkbook: (path: string) => Promise<WorkbookSource>,
): Connector<WorkbookConfig> {
  const withBook = async <T>(path: string, use: (book: WorkbookSource) => Promise<T>): Promise<T> => {
    const book = await openWorkbook(path);
    try {
      return await use(book);
    } finally {
      book.close();
    }
  };
  return {
    kind,
    async check(cfg): Promise<CheckResult> {
      try {
        const sheets = await this.list(cfg);
        return {
          ok: true,
          message: `${basename(cfg.path)}: ${sheets.length} sheet(s): ${sheets.map((s) => s.name).join(', ')}`,
        };
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
    },
    list: (cfg) =>
      withBook(WorkbookConfigSchema.parse(cfg).path, async (book) => {
        const out: StreamInfo[] = [];
        for (const sheet of book.sheets) {
          let rows = 0;
          for await (const _ of sheet.rows()) rows++;
          out.push({ name: sheet.name, rows, ...(sheet.hidden ? { hidden: true } : {}) });
        }
        return out;
      }),
    async *read(cfg, options: ReadOptions = {}) {
      const { path } = WorkbookConfigSchema.parse(cfg);
      const source = basename(path);
      const book = await openWorkbook(path);
      try {
        if (options.sheet === undefined && options.isHeader) {
          yield* sheetsWithHeader(book, source, options, options.isHeader);
          return;
        }
        const wanted = options.sheet ?? firstVisible(book);
        const sheet = book.sheets[pickSheet(book.sheets, wanted)];
        if (!sheet) {
          const names = book.sheets.map((s, i) => `${i}: ${s.name}${s.hidden ? ' (hidden)' : ''}`);
          throw dataError(
            `${source}: no sheet ${typeof wanted === 'number' ? `number ${wanted}` : `named '${wanted}'`}; the workbook has ${names.length ? names.join(', ') : 'no sheets'}`,
          );
        }
        yield* readSheet(sheet, source, options);
      } finally {
        book.close();
      }
    },
  };
}

/**
 * The sheet `--sheet` names: a name first, even one that is a number (a sheet named 2025), compared trimmed; then
 * a 0-based index, counting hidden sheets. -1 when there is none.
 */
export function pickSheet(sheets: readonly { name: string }[], wanted: string | number): number {
  const byName = sheets.findIndex((s) => s.name.trim() === String(wanted).trim());
  if (byName >= 0) return byName;
  return typeof wanted === 'number' && wanted >= 0 && wanted < sheets.length ? wanted : -1;
}

const firstVisible = (book: WorkbookSource) =>
  Math.max(
    0,
    book.sheets.findIndex((s) => !s.hidden),
  );

/**
 * No sheet named: every visible sheet whose header row holds the feed's required columns is read, in order, as
 * one feed — a county's workbook often has a 填表说明 sheet first, or one sheet per township. Sheets without the
 * header are passed over. A later sheet's columns are matched to the first sheet's by name, so their order may
 * differ. When no sheet has the header, the likeliest header row of the sheet that looks most like the feed's
 * table is reported (headerLikeness: a 填表说明 sheet's one line of instructions loses to a table whose header
 * lacks one spelling), and the import fails naming the columns it misses and the ones that sheet has.
 */
async function* sheetsWithHeader(
  book: WorkbookSource,
  source: string,
  options: ReadOptions,
  isHeader: (cells: readonly string[]) => boolean,
): AsyncGenerator<ReadMessage> {
  let main: readonly string[] | null = null;
  let fallback: Extract<ReadMessage, { type: 'header' }> | null = null;
  for (const sheet of book.sheets) {
    if (sheet.hidden) continue;
    let reading = false;
    let remap: ReturnType<typeof columnsOf> | null = null;
    for await (const m of readSheet(sheet, source, options, true)) {
      if (m.type === 'header') {
        if (!isHeader(m.columns)) {
          // the earlier sheet on a tie
          if (!fallback || headerLikeness(m.columns) > headerLikeness(fallback.columns)) fallback = m;
          break; // the rest of this sheet is not the feed's
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
      yield m.type === 'record' && remap ? remap(m) : m;
    }
  }
  if (main) return;
  if (!fallback) throw dataError(`${source}: the workbook has no sheet with rows`);
  yield fallback;
}

/** A record of a sheet whose header is `other`, its cells rearranged into the columns of `main` (by name). */
function columnsOf(main: readonly string[], other: readonly string[]) {
  const key = (h: string) => h.replace(/\s+/g, '');
  const taken = new Set<number>();
  const from = main.map((h) => {
    const j = h === '' ? -1 : other.findIndex((o, k) => !taken.has(k) && key(o) === key(h));
    if (j >= 0) taken.add(j);
    return j;
  });
  return (m: Extract<ReadMessage, { type: 'record' }>) =>
    recordOf(
      from.map((j) => (j >= 0 ? (m.cells[j] ?? null) : null)),
      m.position,
      from.flatMap((j, i) => (j >= 0 && m.damaged?.includes(j) ? [i] : [])),
    );
}

/** The row as one line of text, for quarantine. */
const rawLine = (cells: readonly (string | null)[]) => cells.map((c) => c ?? '').join('\t');

async function* readSheet(
  sheet: SheetSource,
  source: string,
  options: ReadOptions,
  /** Several sheets are read as one feed: a sheet without the header ends with its best candidate, no error. */
  lenient = false,
): AsyncGenerator<ReadMessage> {
  const sheetName = sheet.name;
  let header: (string | null)[] | null = null;
  const find = headerFinder(options.isHeader ?? (() => true));
  let lastRow = 0;
  for await (const { number: n, cells, damaged } of sheet.rows()) {
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
        return;
      }
      header = found.cells;
      const titles = titlesAbove(find.candidates, n, { source, sheet: sheetName });
      yield {
        type: 'header',
        columns: found.cells,
        position: { source, sheet: sheetName, row: n },
        ...(titles.length ? { titles } : {}),
      };
      continue;
    }
    // Rows absent from the sheet are blank rows too.
    for (let gap = lastRow + 1; gap < n; gap++) {
      yield { type: 'skipped', reason: 'blank', position: { source, sheet: sheetName, row: gap } };
    }
    lastRow = n;
    const position = { source, sheet: sheetName, row: n };
    const skip = skipReason(cells);
    if (skip) {
      yield { type: 'skipped', reason: skip, position };
      continue;
    }
    let width = cells.length;
    while (width > header.length && cells[width - 1] === null) width--;
    if (width > header.length) {
      yield {
        type: 'problem',
        problem: 'ragged_row',
        detail: `values beyond the header's ${header.length} columns`,
        raw: rawLine(cells),
        position,
      };
      continue;
    }
    // Short rows are normal in a workbook (trailing empty cells are not stored).
    const padded = cells.slice(0, header.length);
    while (padded.length < header.length) padded.push(null);
    yield recordOf(padded, position, damaged ?? []);
  }
  if (!header && find.candidates.length) {
    yield bestCandidate(find.candidates, { source, sheet: sheetName });
  } else if (!header && !lenient) throw dataError(`${source}: sheet '${sheetName}' is empty (no header row)`);
}
