/**
 * Reads a department's returned list (workbook or CSV) into answer rows, tolerating what people do to a
 * list in Excel: rows re-sorted, columns deleted or moved, title rows added, answers typed with extra
 * spaces, their own sheet with 规则编号 + 身份证号 instead of our item id. Columns are found by header
 * aliases; nothing here touches the warehouse (validation and applying live in import-feedback.ts).
 */

import { basename } from 'node:path';
import type { ReadMessage } from '../../connectors/connector.ts';
import { connectorFor, fileKindOf } from '../../connectors/registry.ts';
import { inflatedSize } from '../../connectors/xlsx/xlsx-connector.ts';
import { dataError } from '../../core/errors.ts';
import { DEPARTMENTS, type Department } from '../../schemas/vocab.ts';
import { headerKey } from '../normalize/header-map.ts';
import { ITEM_ID_HEADER } from './export-lists.ts';

/** Answer-sheet columns and the header spellings they are found by (compared with headerKey). */
export const ANSWER_COLUMNS = {
  item_id: [ITEM_ID_HEADER, '疑点编号', '条目编号'],
  rule_id: ['规则编号', '规则', '规则代码'],
  id_number: ['身份证号', '身份证号码', '公民身份号码', '证件号码'],
  head_id_number: ['户主身份证号', '户主身份证号码'],
  household_id: ['户编号', '户号'],
  answer: ['核实结果', '核查结果', '处理结果'],
  reason: ['说明', '原因', '说明/原因', '情况说明', '核实说明', '备注'],
  rectified_on: ['整改日期', '整改完成日期', '完成日期'],
} as const;
export type AnswerColumn = keyof typeof ANSWER_COLUMNS;

export interface AnswerRow {
  source: string;
  sheet: string | undefined;
  row: number;
  values: Partial<Record<AnswerColumn, string>>;
  /** The row as the department sent it, for the error workbook. */
  header: readonly string[];
  cells: readonly (string | null)[];
  /** Set when the row could not be read as cells (e.g. more values than the header has columns). */
  problem?: string;
}

export interface AnswerFile {
  source: string;
  /** Department named on the list's cover sheet (workbooks we wrote have one). */
  coverDepartment: Department | null;
  rows: AnswerRow[];
  /** Rows whose answer columns are all empty: not answered yet, not an error. */
  unanswered: number;
}

/** File types a returned list may come back as: a department may save it in an older format, or as CSV. */
export const ANSWER_FILE_TYPES = ['.xlsx', '.xls', '.et', '.csv'] as const;
export const isAnswerFileType = (ext: string) => (ANSWER_FILE_TYPES as readonly string[]).includes(ext);

/** A returned list is one department's list: a few thousand rows. More means a wrong file. */
const MAX_ROWS = 200_000;
/**
 * A returned workbook inflates to a few MB (200,000 rows of a list are ~60 MB of XML): more is refused before
 * any part is parsed, so a small upload that inflates to gigabytes costs nothing (the feedback upload is open
 * to every department's token).
 */
const MAX_INFLATED_BYTES = 128 * 1024 ** 2;

const KEYS = Object.fromEntries(
  Object.entries(ANSWER_COLUMNS).map(([col, aliases]) => [col, aliases.map(headerKey)]),
) as Record<AnswerColumn, string[]>;

function columnsOf(header: readonly string[]): Partial<Record<AnswerColumn, number>> {
  const keys = header.map(headerKey);
  const out: Partial<Record<AnswerColumn, number>> = {};
  for (const col of Object.keys(KEYS) as AnswerColumn[]) {
    const i = KEYS[col].map((k) => keys.indexOf(k)).find((x) => x >= 0);
    if (i !== undefined) out[col] = i;
  }
  return out;
}

/** An answer sheet names the answer column and a way to identify the item. */
function isAnswerHeader(cells: readonly string[]): boolean {
  const c = columnsOf(cells);
  return c.answer !== undefined && (c.item_id !== undefined || c.rule_id !== undefined);
}

const COVER_LABEL = headerKey('部门');

async function readSheet(
  path: string,
  sheet: string | number | undefined,
  isHeader: (cells: readonly string[]) => boolean,
): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of connectorFor(path).read({ path }, { isHeader, sheet })) {
    out.push(m);
    if (out.length > MAX_ROWS) {
      throw dataError(`${basename(path)}: more than ${MAX_ROWS} rows; is this really a returned list?`);
    }
  }
  return out;
}

async function coverDepartment(path: string, sheets: string[]): Promise<Department | null> {
  for (const sheet of sheets) {
    const messages = await readSheet(path, sheet, (cells) => headerKey(cells[0] ?? '') === COVER_LABEL);
    const header = messages.find((m) => m.type === 'header');
    if (header?.type === 'header' && headerKey(header.columns[0] ?? '') === COVER_LABEL) {
      const name = (header.columns[1] ?? '').trim();
      if ((DEPARTMENTS as readonly string[]).includes(name)) return name as Department;
    }
  }
  return null;
}

export async function readAnswerFile(path: string): Promise<AnswerFile> {
  const source = basename(path);
  const { connector, workbook } = fileKindOf(path);
  if (connector.kind === 'xlsx') {
    const size = await inflatedSize(path);
    if (size > MAX_INFLATED_BYTES) {
      throw dataError(
        `${source}: refused: the workbook inflates to ${Math.round(size / 1024 ** 2)} MiB (a returned list is a few MB; limit ${MAX_INFLATED_BYTES / 1024 ** 2} MiB)`,
      );
    }
  }
  const sheets = workbook
    ? (await connector.list({ path })).filter((s) => !s.hidden).map((s) => s.name)
    : [undefined];
  const rows: AnswerRow[] = [];
  let unanswered = 0;
  let answerSheets = 0;
  for (const sheet of sheets) {
    const messages = await readSheet(path, sheet, isAnswerHeader);
    let header: readonly string[] = [];
    let cols: Partial<Record<AnswerColumn, number>> = {};
    for (const m of messages) {
      if (m.type === 'header') {
        header = m.columns;
        if (!isAnswerHeader(header)) break; // a cover or notes sheet
        cols = columnsOf(header);
        answerSheets++;
      } else if (m.type === 'record') {
        const values: Partial<Record<AnswerColumn, string>> = {};
        for (const [col, i] of Object.entries(cols) as [AnswerColumn, number][]) {
          const v = m.cells[i]?.trim();
          if (v) values[col] = v;
        }
        if (!values.answer && !values.reason && !values.rectified_on) unanswered++;
        else
          rows.push({ source, sheet: m.position.sheet, row: m.position.row, values, header, cells: m.cells });
      } else if (m.type === 'problem') {
        rows.push({
          source,
          sheet: m.position.sheet,
          row: m.position.row,
          values: {},
          header,
          cells: m.raw.split('\t'),
          problem: m.detail,
        });
      }
    }
  }
  if (!answerSheets) {
    throw dataError(
      `${source}: no sheet has a 核实结果 column next to ${ITEM_ID_HEADER} (or 规则编号 + 身份证号); ` +
        'is this a returned list?',
    );
  }
  const cover = sheets[0] === undefined ? null : await coverDepartment(path, sheets as string[]);
  return { source, coverDepartment: cover, rows, unanswered };
}
