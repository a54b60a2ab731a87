/**
 * Rows below a table and what connectors/row-shape.ts's footerKind makes of them: shared by its unit test and by
 * the integration test that holds the loader's SQL twin (rowShape) to the same answers.
 */
export const FOOTER_CASES: readonly {
  cells: readonly (string | null)[];
  kind: 'totals' | 'footer' | null;
}[] = [
  // Footer lines, as departments write them.
  { cells: ['制表人：张三'], kind: 'footer' },
  { cells: ['制表人：张三', '', '审核人：李四', null, '联系电话：0851-1234567'], kind: 'footer' },
  { cells: ['', '制表人:', '张三', '审核人', '李四'], kind: 'footer' }, // labels and values side by side
  { cells: ['填表说明：1.本表由各村填报；2.身份证号须填写18位。'], kind: 'footer' },
  { cells: ['备注'], kind: 'footer' },
  { cells: ['数据来源：县教育局学籍管理系统'], kind: 'footer' },
  { cells: ['单位负责人：', '', '填报日期：2026年11月20日', ''], kind: 'footer' },
  { cells: [' 制 表 人 ：\u3000张三 ', null], kind: 'footer' }, // white space anywhere, U+3000 too
  { cells: ['制表人：张三', '2026年11月20日'], kind: 'footer' }, // one value after a label
  { cells: ['制表人：张三  审核人：李四  联系电话：0851-1234567'], kind: 'footer' }, // one merged cell
  { cells: ['注：以上数据截至2026年10月底'], kind: 'footer' },
  { cells: ['\u3000', '审核人：'], kind: 'footer' },
  // Totals rows.
  { cells: ['合计', '3人'], kind: 'totals' },
  { cells: [' ', '总 计', '', '12000'], kind: 'totals' },
  // Data rows, and rows that merely look a little like footers: never skipped.
  { cells: ['张三', '520102198001010011', '城关镇中心学校', '在读'], kind: null },
  { cells: ['1', '制表人', '张三'], kind: null }, // the first cell is a number
  { cells: ['备注', '张三', '520102198001010011'], kind: null }, // a label, then two values in a row
  { cells: ['制表人：张三', '李四', '王五'], kind: null },
  { cells: ['备注栏', '张三'], kind: null }, // a label only at the start of a cell, with no colon after it
  { cells: ['注册地：城关镇', '张三'], kind: null },
  { cells: ['电话费', '120'], kind: null },
  { cells: ['', '', '说明', '外地就读', '2026-11-01'], kind: null },
  { cells: ['制表人张三'], kind: null }, // neither a colon nor the end of the cell after the label
  { cells: ['合 作 社', '张三'], kind: null },
];
