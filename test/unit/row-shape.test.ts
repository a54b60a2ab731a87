import { describe, expect, it } from 'vitest';
import { bestCandidate, footerKind, headerFinder, headerLikeness } from '../../connectors/row-shape.ts';
import { FOOTER_CASES } from '../support/footer-cases.ts';

describe('footerKind', () => {
  it.each(FOOTER_CASES.map((c) => [JSON.stringify(c.cells), c.kind, c.cells] as const))(
    '%s is %s',
    (_, kind, cells) => {
      expect(footerKind(cells)).toBe(kind);
    },
  );
});

/** The rows fed to a header finder of `required` (every one somewhere in the row), as a file gives them. */
function findIn(required: readonly string[], rows: readonly (readonly string[])[]) {
  const find = headerFinder((cells) => required.every((r) => cells.includes(r)));
  for (const [i, row] of rows.entries()) {
    const found = find([...row], i + 1);
    if (found !== 'more') return { found, candidates: find.candidates };
  }
  return { found: null, candidates: find.candidates };
}

describe('headerFinder', () => {
  const REQUIRED = ['户主姓名', '户主身份证号', '饮水是否安全'];

  it('reads a group cell merged across over its children and columns merged down past the row’s last cell', () => {
    // row 3 as a writer stores it: the cells merged down from row 2 (C3:E3) not stored at all
    const { found } = findIn(REQUIRED, [
      ['统计截至：2026年11月30日'],
      ['户主信息', '', '村', '饮水是否安全', '问题类型'],
      ['户主姓名', '户主身份证号'],
    ]);
    expect(found).toMatchObject({
      row: 3,
      cells: ['户主姓名', '户主身份证号', '村', '饮水是否安全', '问题类型'],
    });
  });

  it('reads a child under a group as group + child when that is a header (户主 over 姓名 → 户主姓名)', () => {
    const { found } = findIn(REQUIRED, [
      ['户主', '', '村', '饮水是否安全'],
      ['姓名', '身份证号'],
    ]);
    expect(found).toMatchObject({ row: 2, cells: ['户主姓名', '户主身份证号', '村', '饮水是否安全'] });
  });

  it('lends no statement of the row above (单位：户) to a column, and a row above padded with empty cells adds none', () => {
    expect(
      findIn(REQUIRED, [
        ['饮水台账', '', '', '', '单位：户'],
        ['户主姓名', '户主身份证号', '村', '饮水是否安全'],
      ]).found,
    ).toMatchObject({ row: 2, cells: ['户主姓名', '户主身份证号', '村', '饮水是否安全'] });
    // a CSV's title line as wide as the table, and wider than this header
    expect(
      findIn(REQUIRED, [
        ['饮水台账', '', '', '', '', ''],
        ['户主姓名', '户主身份证号', '村', '饮水是否安全'],
      ]).found,
    ).toMatchObject({ cells: ['户主姓名', '户主身份证号', '村', '饮水是否安全'] });
  });

  it('reports, when no row is the header, the row most like one read with its group row — not a fuller data row', () => {
    const { found, candidates } = findIn(REQUIRED, [
      ['统计截至：2026年11月30日'],
      ['户主信息', '', '村', '饮水是否安全', '问题类型'],
      ['户主名字', '户主身份证号'],
      ['张三', '520102198001010013', '新村', '是'],
      ['李四', '520102198001010021', '新村', '否', '水量不足'],
    ]);
    expect(found).toBeNull();
    expect(bestCandidate(candidates, { source: 'w.xlsx', sheet: '饮水台账' })).toEqual({
      type: 'header',
      columns: ['户主名字', '户主身份证号', '村', '饮水是否安全', '问题类型'],
      position: { source: 'w.xlsx', sheet: '饮水台账', row: 3 },
    });
  });

  it('counts as names the cells without a digit (a header’s), not an ID, a date or an amount', () => {
    expect(headerLikeness(['户主姓名', '身份证号', '', '人均纯收入(元)'])).toBe(3);
    expect(headerLikeness(['张三', '520102198001010013', '2026-11-30', '１２００'])).toBe(1);
  });
});
