/**
 * Reads a department's returned list (workbook or CSV) into answer rows, tolerating what people do to a
 * list in Excel: rows re-sorted, columns deleted or moved, title rows added, answers typed with extra
 * spaces, their own sheet with 规则编号 + 身份证号 instead of our item id. Columns are found by header
 * aliases; nothing here touches the warehouse (validation and applying live in import-feedback.ts).
 */

import { basename, extname } from 'node:path';
import type { ReadMessage } from '../../connectors/connector.ts';
import { connectorFor, fileKindOf } from '../../connectors/registry.ts';
import { inflatedSize } from '../../connectors/xlsx/xlsx-connector.ts';
import { configError, dataError, RuralHubError } from '../../core/errors.ts';
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
  /**
   * Set when the row could not be read as cells (e.g. more values than the header has columns): what is wrong,
   * in the department's words (Chinese), for the error line.
   */
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

/**
 * A row the reader could not split as its header says, in the words of the department that sent it; the
 * readers' own details (connectors/) are English, for the operators of loads.
 */
export function rowProblemInChinese(detail: string): string {
  const beyond = /beyond the header's ([0-9]+) columns/.exec(detail);
  if (beyond) return `该行在表头的${beyond[1]}列之外还有内容，请删除多余的单元格`;
  const width = /expected ([0-9]+) columns, found ([0-9]+)/.exec(detail);
  if (width) return `该行有${width[2]}列，表头有${width[1]}列，请检查是否多了或少了逗号`;
  return '该行无法按表头读取，请检查是否有多余的单元格';
}

/** A file that is not a readable spreadsheet: said without the reader's English or any path on this server. */
const unreadable = (source: string, cause: unknown) =>
  dataError(`${source}：无法读取，文件已损坏或不是表格文件；请上传从系统下载并填写好的清单`, cause);

/** The reader of the file's type; an unknown type is refused naming the types a returned list comes as. */
function kindOf(path: string, source: string): ReturnType<typeof fileKindOf> {
  try {
    return fileKindOf(path);
  } catch (err) {
    const ext = extname(path).toLowerCase();
    throw configError(
      `${source}：不支持的文件类型"${ext || '（无扩展名）'}"，应为${ANSWER_FILE_TYPES.join('、')}文件`,
      err,
    );
  }
}

/** Runs a reader's step; a data error of the reader (a damaged file) becomes `unreadable`. */
async function reading<T>(source: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof RuralHubError && err.kind !== 'data') throw err;
    if (err instanceof RuralHubError && err.message.startsWith(`${source}：`)) throw err; // already ours
    throw unreadable(source, err);
  }
}

async function readSheet(
  path: string,
  source: string,
  sheet: string | number | undefined,
  isHeader: (cells: readonly string[]) => boolean,
): Promise<ReadMessage[]> {
  return reading(source, async () => {
    const out: ReadMessage[] = [];
    for await (const m of connectorFor(path).read({ path }, { isHeader, sheet })) {
      out.push(m);
      if (out.length > MAX_ROWS) {
        throw dataError(`${source}：超过${MAX_ROWS}行，不像是退回的清单；请上传从系统下载并填写好的清单`);
      }
    }
    return out;
  });
}

async function coverDepartment(path: string, source: string, sheets: string[]): Promise<Department | null> {
  for (const sheet of sheets) {
    const messages = await readSheet(
      path,
      source,
      sheet,
      (cells) => headerKey(cells[0] ?? '') === COVER_LABEL,
    );
    const header = messages.find((m) => m.type === 'header');
    if (header?.type === 'header' && headerKey(header.columns[0] ?? '') === COVER_LABEL) {
      const name = (header.columns[1] ?? '').trim();
      if ((DEPARTMENTS as readonly string[]).includes(name)) return name as Department;
    }
  }
  return null;
}

/**
 * `name` is the file's name as the department knows it (an upload's original name), for every message and
 * the `source` of the answers; by default the name of `path`. No message names `path` itself: an upload's is a
 * temporary file on the server.
 */
export async function readAnswerFile(path: string, name = basename(path)): Promise<AnswerFile> {
  const source = name;
  const { connector, workbook } = kindOf(path, source);
  if (connector.kind === 'xlsx') {
    const size = await reading(source, () => inflatedSize(path));
    if (size > MAX_INFLATED_BYTES) {
      throw dataError(
        `${source}：拒绝处理：工作簿解压后有${Math.round(size / 1024 ** 2)}兆字节（退回的清单通常只有几兆字节，上限为${MAX_INFLATED_BYTES / 1024 ** 2}兆字节）`,
      );
    }
  }
  const sheets = workbook
    ? (await reading(source, () => connector.list({ path }))).filter((s) => !s.hidden).map((s) => s.name)
    : [undefined];
  const rows: AnswerRow[] = [];
  let unanswered = 0;
  let answerSheets = 0;
  for (const sheet of sheets) {
    const messages = await readSheet(path, source, sheet, isAnswerHeader);
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
          problem: rowProblemInChinese(m.detail),
        });
      }
    }
  }
  if (!answerSheets) {
    throw dataError(
      `${source}：没有找到含"核实结果"列和"${ITEM_ID_HEADER}"列（或"规则编号"和"身份证号"列）的工作表；` +
        '请上传从系统下载并填写好的清单',
    );
  }
  const cover = sheets[0] === undefined ? null : await coverDepartment(path, source, sheets as string[]);
  return { source, coverDepartment: cover, rows, unanswered };
}
