/**
 * The xlsx connector on workbooks made the way departments make them (built here with exceljs, named by case),
 * and refusing the ones nobody should open. The end-to-end case loads a roll through importFeed into a real
 * warehouse.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { connectorFor } from '../../connectors/registry.ts';
import { xlsxConnector } from '../../connectors/xlsx/xlsx-connector.ts';
import { silentLogger } from '../../core/log.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { headerDetector } from '../../src/normalize/header-map.ts';
import { idCheckChar } from '../../src/normalize/id-number.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { expectLoaded } from '../support/loads.ts';
import { testWarehouse } from '../support/warehouse.ts';
import { buildXlsx } from '../support/xlsx-builder.ts';

const dir = tempDir('ruralhub-xlsx-');
const isHeader = headerDetector(studentRoll, {});
const HEADER = ['学生姓名', '身份证件号', '学校名称', '学籍状态', '更新日期'];
const withCheck = (first17: string) => first17 + idCheckChar(first17);
const ID1 = withCheck('52010220150301001');
const ID2 = withCheck('52010220140712002');
const ID3 = withCheck('52010220160101003');

async function read(file: string, sheet?: string | number): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of xlsxConnector.read(
    { path: file },
    { isHeader, ...(sheet !== undefined ? { sheet } : {}) },
  ))
    out.push(m);
  return out;
}
const records = (ms: ReadMessage[]) =>
  ms.flatMap((m) => (m.type === 'record' ? [{ row: m.position.row, cells: m.cells }] : []));

/** A workbook of the named sheets in order, each holding its rows from the first, written to `dir`/`name`. */
async function workbook(name: string, sheets: [string, ExcelJS.CellValue[][]][]): Promise<string> {
  const wb = new ExcelJS.Workbook();
  for (const [sheet, rows] of sheets) wb.addWorksheet(sheet).addRows(rows);
  const file = join(dir, name);
  await wb.xlsx.writeFile(file);
  return file;
}

/** The shape of a real 学籍 export: two merged title rows, the header, data, a blank row, a totals row. */
async function titleRowTotals(file: string, idCell: (id: string) => ExcelJS.CellValue = (id) => id) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('学籍名册');
  ws.addRow(['示范县2026年秋季学期中小学学籍名册']);
  ws.mergeCells('A1:E1');
  ws.addRow(['填报单位：示范县教育局']);
  ws.mergeCells('A2:E2');
  ws.addRow(HEADER);
  ws.addRow(['张三', idCell(ID1), '城关镇中心学校', '在读', new Date(Date.UTC(2026, 8, 1))]);
  ws.addRow(['李四', idCell(ID2), '城关镇中心学校', '休学', '2026/9/15']);
  ws.addRow([]);
  ws.addRow(['王五', idCell(ID3), '新场镇中心学校', '在读', 46271]);
  ws.addRow(['合计', '3人']);
  await wb.xlsx.writeFile(file);
  return file;
}

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('xlsx');
});
afterAll(async () => wh?.close());

describe('reading .xlsx', () => {
  it('finds the header below merged title rows, skips blank and totals rows, keeps Excel row numbers', async () => {
    const file = await titleRowTotals(join(dir, 'title-row-totals.xlsx'));
    const ms = await read(file);
    expect(ms[0]).toMatchObject({ type: 'header', columns: HEADER, position: { row: 3, sheet: '学籍名册' } });
    expect(records(ms)).toEqual([
      { row: 4, cells: ['张三', ID1, '城关镇中心学校', '在读', '2026-09-01'] },
      { row: 5, cells: ['李四', ID2, '城关镇中心学校', '休学', '2026/9/15'] },
      // a serial number in a cell without a date format stays a number: the loader reads it as a serial
      { row: 7, cells: ['王五', ID3, '新场镇中心学校', '在读', '46271'] },
    ]);
    const skipped = ms.flatMap((m) => (m.type === 'skipped' ? [`${m.position.row}:${m.reason}`] : []));
    expect(skipped).toEqual(['6:blank', '8:totals']);
  });

  it('reports an ID stored as a number as scientific notation, never as made-up digits', async () => {
    const file = await titleRowTotals(
      join(dir, 'sci-notation-id.xlsx'),
      (id) => Number(id.slice(0, 17)) * 10,
    );
    const cells = records(await read(file)).map((r) => r.cells[1]);
    for (const c of cells) expect(c).toMatch(/^\d\.\d+E\+17$/);
  });

  it('chooses a sheet by name or by index and lists the sheets when the one asked for is missing', async () => {
    const file = await workbook('second-sheet.xlsx', [
      ['说明', [['本表说明']]],
      ['2026年', [HEADER, ['赵六', ID1, '城关镇中心学校', '在读', '2026-09-01']]],
    ]);
    expect(records(await read(file, '2026年'))).toHaveLength(1);
    expect(records(await read(file, 1))).toHaveLength(1);
    await expect(read(file, '2025年')).rejects.toThrow(
      /second-sheet\.xlsx: no sheet named '2025年'; the workbook has 0: 说明, 1: 2026年/,
    );
  });

  it('without a sheet named, reads the first sheet that has the header (a 填表说明 sheet first)', async () => {
    const file = await workbook('notes-sheet-first.xlsx', [
      ['填表说明', Array.from({ length: 12 }, (_, i) => [`说明${i + 1}：身份证号请以文本格式填写`])],
      ['Sheet1', [['学籍名册'], HEADER, ['张三', ID1, '一小', '在读', '2026-09-01']]],
    ]);
    const ms = await read(file);
    expect(ms[0]).toMatchObject({ type: 'header', columns: HEADER, position: { row: 2, sheet: 'Sheet1' } });
    expect(records(ms)).toEqual([{ row: 3, cells: ['张三', ID1, '一小', '在读', '2026-09-01'] }]);
  });

  it('reads every sheet that has the header as one feed: one sheet per township, columns in any order', async () => {
    const file = await workbook('sheet-per-township.xlsx', [
      ['填表说明', [['说明：每个乡镇一个工作表']]],
      ['城关镇', [HEADER, ['张三', ID1, '一小', '在读', '2026-09-01'], ['合计', '1人']]],
      ['空白', []],
      [
        '新场镇',
        [
          ['学籍状态', '学生姓名', '身份证件号', '更新日期'], // no 学校名称, another order
          ['休学', '李四', ID2, '2026/9/15'],
        ],
      ],
    ]);
    const ms = await read(file);
    expect(ms.filter((m) => m.type === 'header')).toEqual([
      {
        type: 'header',
        columns: HEADER,
        position: { source: 'sheet-per-township.xlsx', sheet: '城关镇', row: 1 },
      },
    ]);
    expect(
      ms.flatMap((m) => (m.type === 'record' ? [[m.position.sheet, m.position.row, m.cells]] : [])),
    ).toEqual([
      ['城关镇', 2, ['张三', ID1, '一小', '在读', '2026-09-01']],
      ['新场镇', 2, ['李四', ID2, null, '休学', '2026/9/15']],
    ]);
    expect(ms.filter((m) => m.type === 'skipped').map((m) => m.position.sheet)).toEqual(['城关镇']);
  });

  it('reads a two-row header whose cells are merged down from the group row', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('学籍');
    ws.addRow(['学生信息', '', '学校名称', '学籍信息', '']);
    ws.addRow(['学生姓名', '身份证件号', '', '学籍状态', '更新日期']);
    ws.mergeCells('A1:B1');
    ws.mergeCells('C1:C2'); // 学校名称 spans both header rows
    ws.mergeCells('D1:E1');
    ws.addRow(['张三', ID1, '一小', '在读', '2026-09-01']);
    const file = join(dir, 'two-row-header.xlsx');
    await wb.xlsx.writeFile(file);
    const ms = await read(file);
    expect(ms[0]).toMatchObject({ type: 'header', columns: HEADER, position: { row: 2 } });
    expect(records(ms)).toEqual([{ row: 3, cells: ['张三', ID1, '一小', '在读', '2026-09-01'] }]);
  });

  it('reports the header row short of a column, not the title above it, when a required column is missing', async () => {
    const file = await workbook('unknown-id-header.xlsx', [
      [
        '学籍',
        [
          ['示范县学籍名册'],
          ['学生姓名', '学生证件号码', '学校名称', '学籍状态'],
          ['张三', ID1, '一小', '在读'],
        ],
      ],
    ]);
    const ms = await read(file);
    expect(ms[0]).toMatchObject({
      type: 'header',
      columns: ['学生姓名', '学生证件号码', '学校名称', '学籍状态'],
    });
  });

  it('reads a workbook whose xl/workbook.xml is the last zip entry the same way every time', async () => {
    // exceljs writes workbook.xml last; the streaming reader used before (exceljs over unzipper) missed it in
    // about one read of twelve of this file. Parts are now opened through the zip's directory, in any order.
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('说明').addRows([
      ['部门', '教育局'],
      ['用途', '疑点清单'.repeat(10)],
    ]);
    for (const name of ['甲', '乙', '名单']) {
      const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
      ws.addRow(HEADER).font = { bold: true };
      for (let i = 0; i < 20; i++) ws.addRow([`学生${i}`, ID1, '城关镇中心学校', '在读', '2026-09-01']);
    }
    const file = join(dir, 'workbook-last.xlsx');
    await wb.xlsx.writeFile(file);
    const names = Object.keys((await JSZip.loadAsync(readFileSync(file))).files);
    expect(names.at(-1)).toBe('xl/workbook.xml');
    for (let i = 0; i < 200; i++) expect(records(await read(file, '名单'))).toHaveLength(20);
  });

  it('takes the cached result of formulas, the text of rich text and hyperlinks', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    ws.addRow(HEADER);
    ws.addRow([
      { richText: [{ text: '欧阳' }, { text: '娜娜', font: { bold: true } }] },
      { formula: 'A1', result: ID1 },
      { text: '城关镇中心学校', hyperlink: 'https://example.org' },
      '在读',
      { formula: 'DATE(2026,9,1)', result: new Date(Date.UTC(2026, 8, 1)) },
    ]);
    ws.getCell('E2').numFmt = 'yyyy-mm-dd'; // as Excel formats a DATE() cell
    const file = join(dir, 'formula-richtext.xlsx');
    await wb.xlsx.writeFile(file);
    expect(records(await read(file))[0]!.cells).toEqual([
      '欧阳娜娜',
      ID1,
      '城关镇中心学校',
      '在读',
      '2026-09-01',
    ]);
  });
});

describe('workbooks as other programs lay them out', () => {
  const body = [HEADER, ['张三', ID1, '一小', '在读', '2026-09-01']];

  it('reads hidden sheets only when named, and lists them as hidden', async () => {
    const file = join(dir, 'hidden.xlsx');
    await buildXlsx(
      file,
      [
        { name: '代码表', rows: body, state: 'hidden' },
        { name: '学籍', rows: body },
        { name: '旧表', rows: body, state: 'veryHidden' },
      ],
      { workbookLast: true, sharedStrings: true },
    );
    const ms = await read(file);
    expect(ms.find((m) => m.type === 'header')?.position.sheet).toBe('学籍');
    expect(records(ms)).toHaveLength(1);
    expect(records(await read(file, '代码表'))).toHaveLength(1);
    const listed = await xlsxConnector.list({ path: file });
    expect(listed.map((l) => [l.name, l.hidden ?? false])).toEqual([
      ['代码表', true],
      ['学籍', false],
      ['旧表', true],
    ]);
  });

  it('reads dates in built-in and custom 年月日 formats, in the 1900 and the 1904 date systems', async () => {
    const rows = (offset: number) => [
      HEADER,
      ['张三', ID1, '一小', '在读', { serial: 46266 - offset, style: 1 }],
      ['李四', ID2, '一小', '在读', { serial: 46266.5 - offset, style: 2 }],
      ['王五', ID3, '一小', '在读', 46266], // no date format: a number, read by the loader as a serial
    ];
    const y1900 = join(dir, 'dates-1900.xlsx');
    const y1904 = join(dir, 'dates-1904.xlsx');
    await buildXlsx(y1900, [{ name: 'Sheet1', rows: rows(0) }]);
    await buildXlsx(y1904, [{ name: 'Sheet1', rows: rows(1462) }], { date1904: true });
    for (const file of [y1900, y1904]) {
      expect(records(await read(file)).map((r) => r.cells[4])).toEqual([
        '2026-09-01',
        '2026-09-01 12:00:00',
        '46266',
      ]);
    }
  });

  it('reads numeric character references in an HTML ".xls" as the characters (GBK systems write rare ones so)', async () => {
    const file = join(dir, 'refs.xls');
    const html =
      '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><table>' +
      `<tr>${HEADER.map((h) => `<td>${h}</td>`).join('')}</tr>` +
      `<tr><td>李&#x2A6A5;&#12293;&#60;&amp;&#38;</td><td>${ID1}</td><td>一小</td><td>在读</td><td>2026-09-01</td></tr>` +
      '</table></body></html>';
    writeFileSync(file, iconv.encode(html, 'gb18030'));
    const path = file;
    const ms: ReadMessage[] = [];
    for await (const m of connectorFor(path).read({ path }, { isHeader })) ms.push(m);
    expect(records(ms).map((r) => r.cells[0])).toEqual(['李𪚥々<&&']);
  });

  it('tells the format by the bytes, not the name', async () => {
    const fixtures = fileURLToPath(new URL('../fixtures/writers', import.meta.url));
    const xlsxNamedXls = join(dir, 'package.xls');
    copyFileSync(join(fixtures, 'openpyxl.xlsx'), xlsxNamedXls);
    const xlsNamedXlsx = join(dir, 'biff.xlsx');
    copyFileSync(join(fixtures, 'libreoffice.xls'), xlsNamedXlsx);
    const tsvNamedXls = join(dir, 'export.xls');
    writeFileSync(tsvNamedXls, `${HEADER.join('\t')}\r\n张三\t${ID1}\t一小\t在读\t2026-09-01\r\n`);
    expect(connectorFor(xlsxNamedXls).kind).toBe('xlsx');
    expect(connectorFor(xlsNamedXlsx).kind).toBe('xls');
    expect(connectorFor(tsvNamedXls).kind).toBe('csv');
    for (const file of [xlsxNamedXls, xlsNamedXlsx, tsvNamedXls]) {
      const path = file;
      const ms: ReadMessage[] = [];
      for await (const m of connectorFor(path).read({ path }, { isHeader })) ms.push(m);
      expect(records(ms).length).toBeGreaterThan(0);
    }
  });
});

describe('refusing dangerous or wrong files before parsing', () => {
  it('refuses a part that inflates beyond the size its directory declares (a forged zip bomb)', async () => {
    const file = join(dir, 'forged.xlsx');
    await buildXlsx(file, [
      {
        name: 'Sheet1',
        rows: [HEADER, ...Array.from({ length: 3000 }, () => ['张三', ID1, '一小', '在读', '2026-09-01'])],
      },
    ]);
    // Declare the sheet 1 000 bytes long, in the central directory and in its local header.
    const bytes = readFileSync(file);
    const name = Buffer.from('xl/worksheets/sheet1.xml');
    for (let at = bytes.indexOf(name); at >= 0; at = bytes.indexOf(name, at + 1)) {
      if (bytes.readUInt32LE(at - 46) === 0x02014b50) bytes.writeUInt32LE(1000, at - 46 + 24);
      else if (bytes.readUInt32LE(at - 30) === 0x04034b50) bytes.writeUInt32LE(1000, at - 30 + 22);
    }
    writeFileSync(file, bytes);
    await expect(read(file)).rejects.toThrow(
      /forged\.xlsx: refused: part xl\/worksheets\/sheet1\.xml inflates beyond the size it declares/,
    );
  });

  it('names a truncated workbook in one line', async () => {
    const good = await titleRowTotals(join(dir, 'whole.xlsx'));
    const file = join(dir, 'truncated.xlsx');
    writeFileSync(file, readFileSync(good).subarray(0, 3000));
    await expect(read(file)).rejects.toThrow(/^truncated\.xlsx: not an \.xlsx workbook/);
  });

  it('refuses a DOCTYPE (entity expansion) in any XML part', async () => {
    const good = await titleRowTotals(join(dir, 'good.xlsx'));
    const zip = await JSZip.loadAsync(readFileSync(good));
    const sheet = await zip.file('xl/worksheets/sheet1.xml')!.async('string');
    zip.file(
      'xl/worksheets/sheet1.xml',
      sheet.replace('?>', '?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'),
    );
    const file = join(dir, 'doctype.xlsx');
    writeFileSync(file, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    await expect(read(file)).rejects.toThrow(
      /doctype\.xlsx: refused: part xl\/worksheets\/sheet1\.xml declares a DOCTYPE/,
    );
  });

  it('refuses a zip bomb from the central directory, without inflating it', async () => {
    const good = await titleRowTotals(join(dir, 'good2.xlsx'));
    const zip = await JSZip.loadAsync(readFileSync(good));
    zip.file('xl/media/image1.bin', Buffer.alloc(64 * 1024 ** 2));
    const file = join(dir, 'bomb.xlsx');
    writeFileSync(file, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    await expect(read(file)).rejects.toThrow(
      /bomb\.xlsx: refused: part xl\/media\/image1\.bin inflates \d+× \(limit 200×\)/,
    );
  });

  it('says what to do with a file that is not a workbook', async () => {
    const file = join(dir, 'not-a-zip.xlsx');
    writeFileSync(file, '学生姓名,身份证件号\n张三,1\n');
    await expect(read(file)).rejects.toThrow(
      /not-a-zip\.xlsx: not an \.xlsx workbook .*save it from Excel as \.xlsx/,
    );
  });
});

describe('importing a workbook', () => {
  it('loads the rows, quarantines the destroyed ID as unrecoverable, and the counts reconcile', async () => {
    const file = await titleRowTotals(join(dir, '学籍-title-row-totals.xlsx'));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.getWorksheet('学籍名册')!;
    ws.getCell('B5').value = Number(ID2.slice(0, 17)) * 10; // Excel turned one ID into a number
    await wb.xlsx.writeFile(file);

    const s = await importFeed({
      wh,
      feed: studentRoll,
      path: file,
      log: silentLogger(),
      today: '2026-11-24',
      timeZone: 'Asia/Shanghai',
    });
    expectLoaded(s, { rows_read: 3, rows_loaded: 2, rows_quarantined: 1, rows_skipped: 2 });
    const rows = await wh.db
      .selectFrom('student_roll')
      .select(['id_number', 'status', 'updated_on', 'sheet', 'row_number'])
      .orderBy('row_number')
      .execute();
    expect(rows).toEqual([
      { id_number: ID1, status: 'enrolled', updated_on: '2026-09-01', sheet: '学籍名册', row_number: 4 },
      { id_number: ID3, status: 'enrolled', updated_on: '2026-09-06', sheet: '学籍名册', row_number: 7 },
    ]);
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['field', 'problem', 'row_number', 'sheet'])
      .execute();
    expect(q).toEqual([{ field: 'id_number', problem: 'id_sci_notation', row_number: 5, sheet: '学籍名册' }]);
  });
});
