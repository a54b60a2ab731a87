/**
 * How a department's sheet is shaped, the same for every file connector: title rows above the header, blank
 * rows, totals rows (合计/总计/小计) and footer lines (制表人：…, 备注：…) at the bottom. Connectors skip and count
 * these; they are not records. The loader's SQL (src/load/normalize-staged.ts) marks the same rows of a file staged
 * in bulk with the patterns exported here, so that both readers of a CSV skip exactly the same rows.
 */
import { charClass, WHITESPACE } from '../core/chars.ts';

/** Candidate rows examined for the header before the first one is taken (so the loader can name what's missing). */
export const MAX_TITLE_ROWS = 10;

/**
 * Labels of the lines written under a table: who made, checked and signed it, how to reach them, when, notes
 * and where the data came from. Only ever matched as a whole cell or before a colon (see FOOTER_PATTERN).
 */
const FOOTER_LABELS = [
  '制表人',
  '制表',
  '审核人',
  '审核',
  '填表人',
  '填表',
  '填报人',
  '统计人',
  '单位负责人',
  '主要负责人',
  '负责人',
  '分管领导',
  '联系人',
  '联系电话',
  '电话',
  '填报日期',
  '填表日期',
  '制表日期',
  '报送日期',
  '日期',
  '填报单位',
  '制表单位',
  '填表说明',
  '填报说明',
  '填写说明',
  '说明',
  '备注',
  '注',
  '数据来源',
  '资料来源',
];

/**
 * Patterns over a row's keys — its non-empty cells with all white space (WHITESPACE) removed — written for both
 * JavaScript and PostgreSQL regular expressions (only groups, alternation, bracket expressions and quantifiers,
 * whose meaning the two engines share).
 *
 * TOTALS_PATTERN, on the first key: it starts with 合计, 总计 or 小计.
 *
 * FOOTER_PATTERN, on the keys joined by one space (no key holds one): the row is footer lines only. Its first key
 * is a label — the whole cell, or the label followed by ：/: and anything (`制表人：张三`, `填表说明：1.…`); every
 * other key is a label too, or the one value after a label (`制表人 | 张三 | 审核人 | 李四`, the label and its
 * value in cells side by side). So a footer row never holds two non-label cells in a row, which every data row
 * does — conservative on purpose: a footer the rule misses is quarantined as before, visibly; a data row taken
 * for a footer would be dropped without a trace. The label must end its cell or meet a colon, so a cell that
 * merely begins with one (备注栏, 注册资本, 电话费) is no label.
 */
export const TOTALS_PATTERN = '^(合计|总计|小计)';
const LABEL = `(${FOOTER_LABELS.join('|')})([:：][^ ]*)?`;
export const FOOTER_PATTERN = `^${LABEL}( [^ ]+)?( ${LABEL}( [^ ]+)?)*$`;
/**
 * A first key that may begin a totals or footer row, by its first character: the cheap test before the rest.
 * Measured in PostgreSQL on 500k ten-column rows: the whole test (rowShape) took 0.5–0.8 s, as the totals pattern
 * alone did before; the first key against every label instead, 1.7–2.0 s.
 */
export const SHAPE_PREFIX_PATTERN = `^[${[...new Set(['合计', '总计', '小计', ...FOOTER_LABELS].map((l) => l[0]))].join('')}]`;

const TOTALS = new RegExp(TOTALS_PATTERN);
const FOOTER = new RegExp(FOOTER_PATTERN);
const SHAPE_PREFIX = new RegExp(SHAPE_PREFIX_PATTERN);
const SPACES = new RegExp(`${charClass(WHITESPACE)}+`, 'g');

/** A cell as the patterns see it: white space removed (as SQL rh_key does); '' for an empty cell. */
const keyOf = (cell: string | null): string => (cell === null ? '' : cell.replace(SPACES, ''));

/**
 * What a non-blank row below the header is besides a record: a totals row ('totals'), footer lines ('footer'),
 * or neither (null). See TOTALS_PATTERN and FOOTER_PATTERN for the rules.
 */
export function footerKind(cells: readonly (string | null)[]): 'totals' | 'footer' | null {
  let first = '';
  for (const c of cells) {
    first = keyOf(c);
    if (first !== '') break;
  }
  // Most rows are data: one cell looked at, not the whole row.
  if (first === '' || !SHAPE_PREFIX.test(first)) return null;
  if (TOTALS.test(first)) return 'totals';
  const keys = cells.map(keyOf).filter((k) => k !== '');
  return FOOTER.test(keys.join(' ')) ? 'footer' : null;
}

/**
 * Why a row under the header is skipped, not read: blank (every cell empty), a totals row or a footer line —
 * the same for every file connector.
 */
export function skipReason(cells: readonly (string | null)[]): 'blank' | 'totals' | 'footer' | null {
  if (cells.every((c) => c === null || c.trim() === '')) return 'blank';
  return footerKind(cells);
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
/**
 * The rows examined above the header at `row`, as title rows (their non-empty cells): a header merged down from
 * a group row above it includes that row, which is no title but holds no date statement either.
 */
export function titlesAbove(
  candidates: readonly HeaderCandidate[],
  row: number,
  where: { source: string; sheet?: string },
): { cells: string[]; position: { source: string; sheet?: string; row: number } }[] {
  return candidates
    .filter((c) => c.row < row && c.cells.some((x) => x !== ''))
    .map((c) => ({ cells: c.cells.filter((x) => x !== ''), position: { ...where, row: c.row } }));
}

export function bestCandidate(
  candidates: readonly HeaderCandidate[],
  where: { source: string; sheet?: string },
): { type: 'header'; columns: string[]; position: { source: string; sheet?: string; row: number } } {
  const filled = (c: string[]) => c.filter((x) => x !== '').length;
  const best = candidates.reduce((a, b) => (filled(b.cells) > filled(a.cells) ? b : a));
  return { type: 'header', columns: best.cells, position: { ...where, row: best.row } };
}
