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
import type { SourcePosition, TitleRow } from '../../connectors/connector.ts';
import { ymd } from './date.ts';

export const DATA_DATE_LABELS = ['导出日期', '统计截至', '数据截至', '截至日期', '统计日期'] as const;

export interface StatedDataDate {
  /** YYYY-MM-DD, or null when what follows the label is not a date of one of the forms. */
  date: string | null;
  label: string;
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
      text: [...after].slice(0, 16).join('').trim(),
      position: t.position,
    };
  }
  return null;
}

/** Where a stated date stands, for the ledger's data_date_from and messages: "file 名册.xlsx sheet 'S' row 1". */
export function statedWhere(p: SourcePosition): string {
  return `file ${p.source}${p.sheet !== undefined ? ` sheet '${p.sheet}'` : ''} row ${p.row}`;
}

/**
 * A stated date as a load may take it: the date, or why not in one line naming file, sheet, row and what was
 * expected — not a date of the forms, or later than the load's local date `loadDay`.
 */
export function checkStatedDate(s: StatedDataDate, loadDay: string): { date: string } | { error: string } {
  const where = statedWhere(s.position).slice('file '.length);
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
