/**
 * The grouped two-row header of a Chinese county table — a group cell merged ACROSS over its children, the other
 * columns merged DOWN over both header rows — as LibreOffice writes it (a flat ODS written here, converted with
 * soffice to .xlsx, .xls and a CSV of every sheet), behind a 填表说明 sheet, with a hidden sheet, a title row
 * stating the data date, a totals row and a footer line:
 *
 *   填表说明 | 填表说明：本表由各村填报
 *   饮水台账 | 1  统计截至：2026年11月30日                                  (A1:E1)
 *            | 2  户主信息 (A2:B2)       | 村 (C2:C3) | 饮水是否安全 (D2:D3) | 问题类型 (E2:E3)
 *            | 3  户主姓名 | 户主身份证号
 *            | 4–5 records, 6 合计, 7 制表人：… 审核人：…
 *   旧数据   | hidden
 *
 * Read by every connector, by discover, and loaded by an import; the group 户主 over 姓名/身份证号 is read as
 * 户主姓名/户主身份证号; a header short of one spelling fails naming the sheet's header, not the 填表说明 line.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { connectorFor } from '../../connectors/registry.ts';
import { silentLogger } from '../../core/log.ts';
import { water } from '../../pipelines/feeds/water.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { inspectSource } from '../../src/load/inspect-source.ts';
import { headerDetector } from '../../src/normalize/header-map.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { type FodsSheet, writeFods } from '../support/fods.ts';
import { CSV_ALL_SHEETS, convertWithSoffice, findSoffice, SOFFICE_MISSING } from '../support/libreoffice.ts';
import { expectLoaded } from '../support/loads.ts';
import { testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-grouped-');
const SOFFICE = findSoffice();
const ID1 = testId(1);
const ID2 = testId(2);
const HEADER = ['户主姓名', '户主身份证号', '村', '饮水是否安全', '问题类型'];
const RECORDS = [
  { row: 4, cells: ['张三', ID1, '新村', '是', null] },
  { row: 5, cells: ['李四', ID2, '新村', '否', '水量不足'] },
];

/** The tester's workbook, its group cell and children spelt as given. */
function workbook(group: string, children: [string, string]): FodsSheet[] {
  return [
    { name: '填表说明', rows: [['填表说明：本表由各村填报']] },
    {
      name: '饮水台账',
      rows: [
        [{ text: '统计截至：2026年11月30日', across: 5 }],
        [
          { text: group, across: 2 },
          { text: '村', down: 2 },
          { text: '饮水是否安全', down: 2 },
          { text: '问题类型', down: 2 },
        ],
        children,
        ['张三', ID1, '新村', '是', null],
        ['李四', ID2, '新村', '否', '水量不足'],
        ['合计', '2户'],
        ['制表人：王五', null, '审核人：赵六'],
      ],
    },
    {
      name: '旧数据',
      hidden: true,
      rows: [
        ['户主姓名', '身份证号'],
        ['老王', testId(9)],
      ],
    },
  ];
}

const CASES = {
  /** 户主信息 over 户主姓名 / 户主身份证号: the children are the names. */
  heading: workbook('户主信息', ['户主姓名', '户主身份证号']),
  /** 户主 over 姓名 / 身份证号: group and child together are the names. */
  joined: workbook('户主', ['姓名', '身份证号']),
  /** 户主名字 is no spelling of the feed's: nothing loads, and the error shows this sheet's header. */
  misspelt: workbook('户主信息', ['户主名字', '户主身份证号']),
} as const;
type Case = keyof typeof CASES;
const FORMATS = ['xlsx', 'xls', 'csv'] as const;
type Format = (typeof FORMATS)[number];
/** The file LibreOffice wrote for a case in a format: the CSV is the data sheet's of all the sheets' CSVs. */
const fileOf = (c: Case, f: Format) =>
  f === 'csv' ? join(dir, 'csv', `${c}-饮水台账.csv`) : join(dir, f, `${c}.${f}`);

const isHeader = headerDetector(water);
async function read(path: string): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of connectorFor(path).read({ path }, { isHeader })) out.push(m);
  return out;
}
const records = (ms: ReadMessage[]) =>
  ms.flatMap((m) => (m.type === 'record' ? [{ row: m.position.row, cells: m.cells }] : []));

// Not skipped without it: `npm test` installs it first (scripts/test-prerequisites.sh), or names the package.
beforeAll(() => {
  if (!SOFFICE) throw new Error(SOFFICE_MISSING);
  const sources = Object.entries(CASES).map(([name, sheets]) => writeFods(join(dir, `${name}.fods`), sheets));
  const profileDir = join(dir, 'lo-profile');
  for (const [f, to] of [
    ['xlsx', 'xlsx'],
    ['xls', 'xls:MS Excel 97'],
    ['csv', CSV_ALL_SHEETS],
  ] as const) {
    mkdirSync(join(dir, f), { recursive: true });
    convertWithSoffice(SOFFICE!, { files: sources, to, outDir: join(dir, f), profileDir });
  }
}, 300_000);

describe.each(FORMATS)('a grouped two-row header written by LibreOffice, %s', (format) => {
  const sheet = format === 'csv' ? {} : { sheet: '饮水台账' };
  it.each(['heading', 'joined'] as const)(
    '%s: finds the header on row 3 of 饮水台账, its merged-down columns included, and reads the records below it',
    async (c) => {
      const ms = await read(fileOf(c, format));
      expect(ms[0]).toMatchObject({
        type: 'header',
        columns: HEADER,
        position: { ...sheet, row: 3 },
      });
      expect(records(ms)).toEqual(RECORDS);
      expect(
        ms.filter((m) => m.type === 'skipped').map((m) => [m.position.row, m.type === 'skipped' && m.reason]),
      ).toEqual([
        [6, 'totals'],
        [7, 'footer'],
      ]);
    },
  );

  it('misspelt: reports the header of 饮水台账, read with its group row, as the likeliest — not a data row, not 填表说明', async () => {
    const ms = await read(fileOf('misspelt', format));
    expect(ms).toEqual([
      {
        type: 'header',
        columns: ['户主名字', '户主身份证号', '村', '饮水是否安全', '问题类型'],
        position: { source: `misspelt${format === 'csv' ? '-饮水台账' : ''}.${format}`, ...sheet, row: 3 },
      },
    ]);
  });
});

describe('a grouped two-row header in an HTML table saved as .xls (a department system’s export)', () => {
  it('reads colspan as the group over its children and rowspan as the columns merged down', async () => {
    const td = (text: string, span = '') => `<td${span}>${text}</td>`;
    const tr = (...cells: string[]) => `<tr>${cells.join('')}</tr>`;
    const path = join(dir, 'system-export.xls');
    writeFileSync(
      path,
      `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><table>${[
        tr(td('统计截至：2026年11月30日', ' colspan="5"')),
        tr(
          td('户主', ' colspan="2"'),
          td('村', ' rowspan="2"'),
          td('饮水是否安全', ' rowspan="2"'),
          td('问题类型', ' rowspan="2"'),
        ),
        tr(td('姓名'), td('身份证号')),
        tr(td('张三'), td(ID1), td('新村'), td('是'), td('')),
        tr(td('李四'), td(ID2), td('新村'), td('否'), td('水量不足')),
      ].join('')}</table></body></html>`,
    );
    const ms = await read(path);
    expect(ms[0]).toMatchObject({ type: 'header', columns: HEADER, position: { row: 3 } });
    expect(records(ms)).toEqual(RECORDS);
  });
});

describe('discover on the grouped header', () => {
  it.each(['xlsx', 'xls'] as const)(
    'names 饮水台账, the header on row 3, each field its column, two data rows and the stated date (%s)',
    async (format) => {
      const got = await inspectSource(water, fileOf('heading', format), undefined, undefined, '2026-12-03');
      expect(got).toMatchObject({
        ok: true,
        message: `heading.${format} sheet '饮水台账': header on row 3, 2 data rows`,
        dataDate: { date: '2026-11-30' },
      });
      expect(got.sheets).toHaveLength(1);
      expect(got.sheets[0]).toMatchObject({
        sheet: '饮水台账',
        headerRow: 3,
        rows: 2,
        skipped: 2,
        unmapped: [],
        mapping: {
          head_name: '户主姓名',
          head_id_number: '户主身份证号',
          village: '村',
          water_safe: '饮水是否安全',
          problem_type: '问题类型',
        },
      });
    },
  );

  it('shows, for a header short of one spelling, the header row of 饮水台账 and what it misses', async () => {
    const got = await inspectSource(water, fileOf('misspelt', 'xlsx'), undefined, undefined, '2026-12-03');
    expect(got.ok).toBe(false);
    const data = got.sheets.find((s) => s.sheet === '饮水台账');
    expect(data).toMatchObject({ headerRow: 3, missingRequired: ['head_name'], unmapped: ['户主名字'] });
  });
});

describe('importing the grouped header', () => {
  let wh: Warehouse;
  beforeAll(async () => {
    wh = await testWarehouse('grouped_header');
  });
  afterAll(async () => {
    await wh?.close();
  });
  const load = (path: string) =>
    importFeed({
      wh,
      feed: water,
      path,
      log: silentLogger(),
      today: '2026-12-03',
      loadDay: '2026-12-03',
      timeZone: 'Asia/Shanghai',
      force: true,
    });

  it.each(FORMATS)(
    'loads the two households of 饮水台账 from the %s, dated by its title row',
    async (format) => {
      // the same file name for every format: each load replaces the snapshot with the same two rows
      const path = join(dir, `water-${format}.${format}`);
      copyFileSync(fileOf('joined', format), path);
      const s = await load(path);
      expectLoaded(s, { rows_read: 2, rows_loaded: 2, rows_quarantined: 0, rows_skipped: 2 });
      const rows = await wh.db
        .selectFrom('water')
        .select(['head_name', 'head_id_number', 'village', 'water_safe', 'problem_type'])
        .where('valid_to', 'is', null)
        .orderBy('head_id_number')
        .execute();
      expect(rows).toEqual([
        { head_name: '张三', head_id_number: ID1, village: '新村', water_safe: true, problem_type: null },
        {
          head_name: '李四',
          head_id_number: ID2,
          village: '新村',
          water_safe: false,
          problem_type: '水量不足',
        },
      ]);
      expect(s.dataDate).toEqual({
        date: '2026-11-30',
        from: `file water-${format}.${format}${format === 'csv' ? '' : " sheet '饮水台账'"} row 1`,
      });
    },
  );

  it('fails a header short of one spelling naming what it misses and the headers of 饮水台账', async () => {
    await expect(load(fileOf('misspelt', 'xlsx'))).rejects.toThrow(
      /^misspelt\.xlsx sheet '饮水台账' row 3: required columns missing for feed water: head_name \(tried: 户主姓名, 姓名\)\. Headers found: 户主名字, 户主身份证号, 村, 饮水是否安全, 问题类型\./,
    );
  });
});
