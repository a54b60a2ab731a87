/**
 * `ruralhub quarantine` on the tester's files: a roster and an employment list written by LibreOffice (.xlsx, one
 * ID a number cell, which LibreOffice stores as <v>4.31226197001016E+017</v>), an assistance CSV and a GB18030
 * settlements CSV. Each rejected value is one line naming file, sheet, row, the column as the file headed it and
 * what was expected (an impossible day as no such day, a closed vocabulary's accepted spellings, a bad check
 * character without the expected one); the table and JSON agree; a sentinel ID's hidden digits show nowhere.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countyCli } from '../support/county-cli.ts';
import { testId } from '../support/demo.ts';
import { writeCsv } from '../support/files.ts';
import { convertWithSoffice, findSoffice, SOFFICE_MISSING } from '../support/libreoffice.ts';

const { dir, ruralhub, drop } = countyCli('qdetail', { timeoutMs: 180_000 });
afterAll(drop);

/** The sentinel: 431226 19700101 555 and check character 2. Its bad-check twin ends in 3. */
const SENTINEL = '431226197001015552';
const BAD_CHECK = '431226197001015553';
/** Three digits in a row of what a mask hides (region tail and birth date): never on screen. */
const HIDDEN = [...'2619700101'].slice(0, -2).map((_, i) => '2619700101'.slice(i, i + 3));

/** A cell of a flat ODS sheet: text, or a number cell as a spreadsheet holds a typed-in ID. */
type Cell = string | { number: string } | null;
const cellXml = (c: Cell) =>
  c === null
    ? '<table:table-cell/>'
    : typeof c === 'string'
      ? `<table:table-cell office:value-type="string"><text:p>${c}</text:p></table:table-cell>`
      : `<table:table-cell office:value-type="float" office:value="${c.number}"><text:p>${c.number}</text:p></table:table-cell>`;
const fods = (sheet: string, rows: readonly (readonly Cell[])[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:body><office:spreadsheet><table:table table:name="${sheet}">
${rows.map((r) => `<table:table-row>${r.map(cellXml).join('')}</table:table-row>`).join('\n')}
</table:table></office:spreadsheet></office:body></office:document>`;

interface Line {
  feed: string;
  source: string;
  sheet: string | null;
  row_number: number;
  field: string;
  header: string;
  raw_value: string | null;
  problem: string;
  detail: string | null;
}

const soffice = findSoffice();
let lines: Line[] = [];
let table = '';
let reviewItems: { row_number: number; raw_id: string | null }[] = [];

beforeAll(async () => {
  if (!soffice) throw new Error(SOFFICE_MISSING);
  writeFileSync(
    join(dir, 'roster.fods'),
    fods('花名册', [
      ['户编号', '姓名', '证件号', '户类别', '乡镇', '村', '识别日期'],
      ['H1', '甲', testId(1), '监测户', '城关镇', '新村', '2026-03-01'],
      ['H2', '乙', BAD_CHECK, '监测户', '城关镇', '新村', '2026-03-01'],
      ['H3', '丙', { number: SENTINEL }, '监测户', '城关镇', '新村', '2026-03-01'],
      ['H4', '丁', testId(4), '监测户', '城关镇', '新村', '2026-02-30'],
      ['H5', '戊', testId(5), null, '城关镇', '新村', '2026-03-01'],
    ]),
  );
  writeFileSync(
    join(dir, 'employment.fods'),
    fods('就业', [
      ['姓名', '身份证号', '务工形式', '登记日期'],
      ['甲', testId(1), '务工', '2026-03-01'],
    ]),
  );
  convertWithSoffice(soffice, {
    files: [join(dir, 'roster.fods'), join(dir, 'employment.fods')],
    to: 'xlsx',
    outDir: dir,
    profileDir: join(dir, 'profile'),
  });
  // The number cell as LibreOffice wrote it: 15 significant digits in scientific notation.
  const zip = await JSZip.loadAsync(readFileSync(join(dir, 'roster.xlsx')));
  expect(await zip.file('xl/worksheets/sheet1.xml')!.async('string')).toContain(
    '<v>4.31226197001016E+017</v>',
  );
  writeCsv(join(dir, 'assistance.csv'), [
    ['姓名', '身份证号', '救助类型', '开始时间', '状态'],
    ['甲', testId(1), '低保', '2026-13-01', '正常'],
    // IDs no roster person can be found for: identity review items, their raw IDs masked in its list too
    ['乙', '4.31226197001016E+17', '低保', '2026-03-01', '正常'],
    ['丙', '4312261', '低保', '2026-03-01', '正常'],
  ]);
  writeCsv(
    join(dir, 'settlements.csv'),
    [
      ['结算流水号', '姓名', '公民身份号码', '结算日期', '个人负担'],
      ['S1', '甲', testId(1), '2026-03-02', ''],
    ],
    { encoding: 'gb18030' },
  );
  expect((await ruralhub(['migrate'])).code).toBe(0);
  for (const [feed, file] of [
    ['roster', 'roster.xlsx'],
    ['employment', 'employment.xlsx'],
    ['assistance', 'assistance.csv'],
    ['settlements', 'settlements.csv'],
  ] as const) {
    const r = await ruralhub(['import', feed, '--file', join(dir, file)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }
  const json = await ruralhub(['quarantine', '--all-runs', '--format', 'json']);
  expect(json.code).toBe(0);
  lines = JSON.parse(json.stdout) as Line[];
  table = (await ruralhub(['quarantine', '--all-runs'])).stdout;
  const review = await ruralhub(['identity', 'list', '--format', 'json']);
  expect(review.code).toBe(0);
  reviewItems = JSON.parse(review.stdout) as { row_number: number; raw_id: string | null }[];
}, 600_000);

const line = (feed: string, row: number) => {
  const found = lines.filter((l) => l.feed === feed && l.row_number === row);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe("ruralhub quarantine on the tester's files", () => {
  it("names the roster's columns as the file headed them and says what was expected", () => {
    expect(lines.filter((l) => l.feed === 'roster').map((l) => l.row_number)).toEqual([3, 4, 5, 6]);
    expect(line('roster', 3)).toEqual({
      run_id: expect.any(Number),
      feed: 'roster',
      source: 'roster.xlsx',
      sheet: '花名册',
      row_number: 3,
      field: 'id_number',
      header: '证件号',
      raw_value: '4312**********5553',
      problem: 'id_bad_checksum',
      detail:
        '第18位（校验位）与前17位算出的不符：多为前17位中有一位抄错，请对照证件核对全部18位，不要只改末位',
    });
    expect(line('roster', 4)).toMatchObject({
      header: '证件号',
      raw_value: '4.312***********E+17',
      problem: 'id_sci_notation',
      detail: expect.stringMatching(/^身份证号被存成了数字（科学计数法），后几位已丢失/),
    });
    expect(line('roster', 5)).toMatchObject({
      field: 'identified_on',
      header: '识别日期',
      raw_value: '2026-02-30',
      problem: 'date_unparseable',
      detail: '没有这一天：2026年2月只有28天，没有30日',
    });
    expect(line('roster', 6)).toMatchObject({
      field: 'household_type',
      header: '户类别',
      raw_value: null,
      problem: 'value_missing',
      detail:
        '为空：必填，应为以下之一（括号内为同样接受的写法）：脱贫户（脱贫人口、脱贫不监测户）；' +
        '监测户（监测对象、脱贫户(监测对象)、脱贫监测户）',
    });
  });

  it('lists the accepted spellings, no such month, and an empty amount, for the other feeds', () => {
    expect(line('employment', 2)).toMatchObject({
      source: 'employment.xlsx',
      sheet: '就业',
      header: '务工形式',
      raw_value: '务工',
      problem: 'value_not_in_vocabulary',
      detail:
        '应为以下之一（括号内为同样接受的写法）：省内务工（省内就业、县外省内务工）；省外务工（省外就业）；' +
        '公益性岗位（公益岗位）；灵活就业；县内务工（就地就近就业、本地务工）',
    });
    expect(line('assistance', 2)).toMatchObject({
      field: 'started_on',
      header: '开始时间',
      raw_value: '2026-13-01',
      problem: 'date_unparseable',
      detail: '没有这一天：月份应为1–12，没有13月',
    });
    expect(line('settlements', 2)).toMatchObject({
      field: 'out_of_pocket',
      header: '个人负担',
      problem: 'value_missing',
      detail: '为空：必填，应为以元为单位的金额，如 1234.50、1,234.50、¥1234 或 1234元（没有就填0）',
    });
  });

  it("masks an ID the same way in identity review's list: a number's first 4 digits, a short one whole", () => {
    expect(reviewItems.map((i) => [i.row_number, i.raw_id])).toEqual([
      [3, '4.312***********E+17'],
      [4, '*******'],
    ]);
    expect(line('assistance', 3)).toMatchObject({
      raw_value: '4.312***********E+17',
      problem: 'id_sci_notation',
    });
    expect(line('assistance', 4)).toMatchObject({
      raw_value: '*******',
      problem: 'id_bad_format',
      detail: '应为18位（前17位数字，末位数字或X）或15位数字，实为7个字符',
    });
  });

  it("shows header and detail in the table too, and the sentinel's hidden digits nowhere", () => {
    const row = table.split('\n').find((l) => l.includes('id_bad_checksum'))!;
    expect(row).toMatch(
      /roster\.xlsx +花名册 +3 +id_number +证件号 +4312\*{10}5553 +id_bad_checksum +第18位/,
    );
    expect(table).toContain('没有这一天：2026年2月只有28天，没有30日');
    for (const out of [table, JSON.stringify(lines), JSON.stringify(reviewItems)]) {
      for (const h of HIDDEN) expect(out.replace(/E\+0?17/g, '')).not.toContain(h);
      expect(out).not.toContain('4.31226');
    }
  });
});
