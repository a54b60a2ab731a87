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

/** A row examined as a possible header: its trimmed cells, its row number, and how it reads as a header. */
export interface HeaderCandidate {
  cells: string[];
  row: number;
  /**
   * The cells as they would read as a header: completed from the group row directly above when there is one
   * (see headerReadings), else the cells themselves. What is reported when no row is the header.
   */
  asHeader: string[];
}

/**
 * A cell of the row above that is a statement, not a column's name: `label：value` (统计截至：2026年11月30日,
 * 单位：户, 填报单位：新村). A header cell never holds a colon before its end, so such a cell is never lent to a
 * column below it — a title line's 单位：户 above the last column would otherwise become a column of its own.
 */
const isStatement = (cell: string) => /[:：]./.test(cell);

/**
 * The ways a row reads as a header under the row directly above it (`above`, '' for empty cells). Excel, WPS and LibreOffice keep a merged cell's text in its top-left
 * cell only, so of a two-row header
 *
 *   row 2:  户主信息 |              | 村 | 饮水是否安全 | 问题类型      ← 户主信息 merged across A:B, the others down
 *   row 3:  户主姓名 | 户主身份证号 |    |              |                (C3:E3 covered; a writer may omit them)
 *
 * the second row holds the group's children (户主姓名, 户主身份证号) and leaves empty the cells merged down from
 * the group row. Read as:
 *  - joined: each child under a group cell as group + child (户主 over 姓名 → 户主姓名), the cells merged down
 *    as the group row's text; a group is a cell of the row above over a run of the row's own cells, the cells
 *    beside it in the row above empty (merged across);
 *  - children: each child as its own text, the cells merged down as the group row's text (with no row above,
 *    the row itself).
 * The joined reading comes first because it is the more specific name when it matches (户主姓名 rather than 姓名,
 * which a member's column could also be called); the children's when the group's name is only a heading
 * (户主信息 over 户主姓名). The children's reading only adds text to the row's empty cells, so it is a header
 * whenever the row alone is one. The width reaches the last cell of either row: the columns merged down may be
 * the last ones, past the row's own last cell, which a writer need not store (and a row above padded with
 * empty cells, as in a CSV, adds no columns).
 */
function headerReadings(
  text: readonly string[],
  above: readonly string[] | null,
): { joined: string[] | null; children: string[] } {
  if (!above) return { joined: null, children: [...text] };
  const lent = above.map((c) => (isStatement(c) ? '' : c));
  const width = Math.max(text.length, lent.findLastIndex((c) => c !== '') + 1);
  const children: string[] = [];
  const joined: string[] = [];
  let group = '';
  for (let i = 0; i < width; i++) {
    const own = text[i] ?? '';
    const up = lent[i] ?? '';
    if (own === '') {
      // merged down from the group row (or empty in both)
      children.push(up);
      joined.push(up);
      group = '';
      continue;
    }
    // a group starts at a cell of the row above over a cell of this row, and runs on while the row above is
    // empty (merged across) and this row has cells of its own
    if (up !== '') group = up;
    children.push(own);
    joined.push(group !== '' && !own.startsWith(group) ? `${group}${own}` : own);
  }
  // no group above this row: one reading
  const same = joined.every((c, i) => c === children[i]);
  return { joined: same ? null : joined, children };
}

/**
 * Finds the header among the first rows of a sheet or file, fed one non-empty row at a time: the first row that
 * holds every required column — alone, or read with the row directly above as a two-row header (headerReadings:
 * a group row whose cells are merged across over their children, or down over an empty cell of this row).
 * 'give-up' after MAX_TITLE_ROWS rows.
 */
export function headerFinder(isHeader: (cells: readonly string[]) => boolean) {
  const candidates: HeaderCandidate[] = [];
  const find = (text: string[], row: number): HeaderCandidate | 'more' | 'give-up' => {
    const above = candidates.at(-1);
    const { joined, children } = headerReadings(text, above?.row === row - 1 ? above.cells : null);
    const header = joined && isHeader(joined) ? joined : isHeader(children) ? children : null;
    if (header) return { cells: header, row, asHeader: header };
    // Reported should no row be the header: the children's reading, which names the columns merged down
    // without guessing at groups.
    candidates.push({ cells: text, row, asHeader: children });
    return candidates.length < MAX_TITLE_ROWS ? 'more' : 'give-up';
  };
  return Object.assign(find, { candidates });
}

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

const DIGIT = /[0-9０-９]/;

/**
 * How much a row looks like a header row, for when no row holds every required column: the number of its
 * cells that are names — non-empty and without a digit. A header names every column; a data row holds an ID,
 * a date or an amount somewhere, and a title line its date (统计截至：2026年11月30日). Not the number of filled
 * cells, which a full data row below a header wins.
 */
export function headerLikeness(cells: readonly string[]): number {
  return cells.filter((c) => c !== '' && !DIGIT.test(c)).length;
}

/**
 * No row holds every required column: the row that looks most like a header (headerLikeness; the earlier on a
 * tie, since the header stands above its data) is reported as the header, read with its group row when it has
 * one — the real header short of one unknown spelling, rather than the title above it or a data row below —
 * so that the error names what is missing and what is there.
 */
export function bestCandidate(
  candidates: readonly HeaderCandidate[],
  where: { source: string; sheet?: string },
): { type: 'header'; columns: string[]; position: { source: string; sheet?: string; row: number } } {
  const best = candidates.reduce((a, b) => (headerLikeness(b.asHeader) > headerLikeness(a.asHeader) ? b : a));
  return { type: 'header', columns: best.asHeader, position: { ...where, row: best.row } };
}
