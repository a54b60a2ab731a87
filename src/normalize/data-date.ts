/**
 * The date a department's file says its data describes, where the file states it: a title row above the header
 * holding 导出日期 / 统计截至 / 数据截至 / 截至日期 / 统计日期 followed by a date in the forms departments write —
 * 2026-11-01, 2026/11/1, 2026.11.1, 2026年11月1日, 20261101 — with `：`, `:` or nothing between (full-width digits
 * and colons read as their ASCII forms). Pure: the loader decides what a date later than the load's day means.
 *
 * Example:
 * ```ts
 * statedDataDate([{ cells: ['学籍名册（导出日期：2026年11月1日）'], position: { source: 'a.csv', row: 1 } }])
 * // → { date: '2026-11-01', label: '导出日期', text: '2026年11月1日', position: { source: 'a.csv', row: 1 } }
 * ```
 */
import type { ReadMessage, SourcePosition, TitleRow } from '../../connectors/connector.ts';
import { configError } from '../../core/errors.ts';
import { ymd } from './date.ts';

export const DATA_DATE_LABELS = ['导出日期', '统计截至', '数据截至', '截至日期', '统计日期'] as const;

export interface StatedDataDate {
  /** YYYY-MM-DD, or null when what follows the label is not a date of one of the forms. */
  date: string | null;
  /** The title row's label (导出日期 …), or the name of the source's data-date column. */
  label: string;
  /** Stated in a column of the records (a source's `data_date_column`), not in a title row. */
  column?: boolean;
  /** What follows the label (its first characters), as the file writes it. */
  text: string;
  position: SourcePosition;
}

const LABEL = new RegExp(`(${DATA_DATE_LABELS.join('|')})\\s*:?\\s*`);
const FORMS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)/,
  /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?!\d)/,
  /^(\d{4})\.(\d{1,2})\.(\d{1,2})(?!\d)/,
  /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日/,
  /^(\d{4})(\d{2})(\d{2})(?!\d)/,
];

/** The forms accepted, for a message. */
export const DATA_DATE_FORMS = 'YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or YYYYMMDD';

/** A date written in one of the forms at the start of `text`, or null. */
export function parseStatedDate(text: string): string | null {
  for (const form of FORMS) {
    const m = form.exec(text);
    // The date normalizer's calendar check (2026-02-30 is no day).
    if (m) return ymd(m[1]!, m[2]!, m[3]!);
  }
  return null;
}

/** The first statement of a data date in the title rows (a row's cells read as one line), or null. */
export function statedDataDate(titles: readonly TitleRow[] | undefined): StatedDataDate | null {
  for (const t of titles ?? []) {
    const line = t.cells.join(' ').normalize('NFKC');
    const m = LABEL.exec(line);
    if (!m) continue;
    const after = line.slice(m.index + m[0].length);
    return {
      date: parseStatedDate(after),
      label: m[1]!,
      text: firstChars(after).trim(),
      position: t.position,
    };
  }
  return null;
}

/**
 * Where a stated date stands, for the ledger's data_date_from and messages: "file 名册.xlsx sheet 'S' row 1", or
 * for a source's column "source mysql:death_reg row 7 column 'export_date'".
 */
export function statedWhere(p: SourcePosition, column?: string): string {
  if (column !== undefined) return `source ${p.source} row ${p.row} column '${column}'`;
  return `file ${p.source}${p.sheet !== undefined ? ` sheet '${p.sheet}'` : ''} row ${p.row}`;
}

/** Where `s` stands (statedWhere of its position, and its column when a column states it). */
export const whereStated = (s: StatedDataDate): string =>
  statedWhere(s.position, s.column ? s.label : undefined);

/**
 * The data date a source states in a column of its records (`data_date_column`: an export date, a 统计日期): the
 * latest date among the rows read — a snapshot exported on the 1st describes the 1st, however old some of its rows
 * are. Its records pass through `watch` unchanged; `stated()` then gives the latest date and the row holding it,
 * or the first value that is no date of the forms (the load refuses it, naming row and column), or null when
 * the column is empty in every row (the load takes its day). A column the source does not have is a config error.
 */
export function statedInColumn(column: string): {
  watch(messages: AsyncIterable<ReadMessage>): AsyncIterable<ReadMessage>;
  stated(): StatedDataDate | null;
} {
  let found: StatedDataDate | null = null;
  return {
    async *watch(messages) {
      let index = -1;
      for await (const m of messages) {
        if (m.type === 'header') {
          index = m.columns.indexOf(column);
          if (index < 0)
            throw configError(
              `${m.position.source}: data_date_column '${column}' is not among its columns (${m.columns.join(', ')})`,
            );
        } else if (m.type === 'record' && found?.date !== null) {
          // after a value that is no date, nothing more to learn: the load refuses the first one
          const text = m.cells[index]?.trim() ?? '';
          if (text !== '') {
            const date = parseStatedDate(text.normalize('NFKC'));
            if (date === null || found === null || date > found.date!)
              found = { date, label: column, column: true, text: firstChars(text), position: m.position };
          }
        }
        yield m;
      }
    },
    stated: () => found,
  };
}

const firstChars = (text: string) => [...text].slice(0, 16).join('');

/**
 * A stated date as a load may take it: the date, or why not in one line naming file, sheet, row and what was
 * expected — not a date of the forms, or later than the load's local date `loadDay`.
 */
export function checkStatedDate(s: StatedDataDate, loadDay: string): { date: string } | { error: string } {
  const where = s.column ? whereStated(s) : statedWhere(s.position).slice('file '.length);
  if (s.date === null)
    return {
      error: `${where}: ${s.label} '${s.text}' is not a date; expected ${DATA_DATE_FORMS} (or give --data-date)`,
    };
  if (s.date > loadDay)
    return {
      error: `${where}: ${s.label} ${s.date} is later than the load's date ${loadDay}; expected a date on or before it (or give --data-date)`,
    };
  return { date: s.date };
}
