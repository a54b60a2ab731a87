/**
 * Footer lines under a department's table (制表人：…, 联系电话：…, 填表说明：…) are skipped and counted like the
 * 合计 row, never quarantined as records: by the CSV record reader, by the bulk path's SQL (a CSV that COPY
 * parses), and by the xlsx reader; and the ledger still reconciles.
 */
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { xlsxConnector } from '../../connectors/xlsx/xlsx-connector.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { rowShape } from '../../src/load/normalize-staged.ts';
import { headerDetector } from '../../src/normalize/header-map.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { FOOTER_CASES } from '../support/footer-cases.ts';
import { expectLoaded } from '../support/loads.ts';
import { testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-footers-');
const base = { today: '2026-11-24', timeZone: 'Asia/Shanghai' };
const isHeader = headerDetector(studentRoll, {});
const HEADER = ['学生姓名', '身份证件号', '学校名称', '学籍状态', '更新日期'];
const DATA = [
  ['张三', testId(701), '城关镇中心学校', '在读', '2026-09-01'],
  ['李四', testId(702), '城关镇中心学校', '休学', '2026-09-15'],
  ['王五', testId(703), '新场镇中心学校', '在读', '2026-09-06'],
];
/** Below the data (spreadsheet rows 5…): the totals row, a blank row, then four footer lines. */
const BELOW = [
  ['合计', '3人'],
  [],
  ['制表人：张三', '', '审核人：李四'],
  ['联系电话：0851-1234567'],
  ['填表说明：1.本表由各校填报；2.身份证件号须填写18位。'],
  ['单位负责人：', '赵六', '填报日期：2026年11月20日'],
];
const pad = (r: readonly string[]) => [...r, ...Array<string>(HEADER.length - r.length).fill('')];

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('footers');
});
afterAll(async () => wh?.close());

async function messages(read: AsyncIterable<ReadMessage>): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of read) out.push(m);
  return out;
}
const skippedOf = (ms: ReadMessage[]) =>
  ms.flatMap((m) => (m.type === 'skipped' ? [`${m.position.row}:${m.reason}`] : []));

/** Imports `path` as the roll and checks what every variant must give: 3 rows loaded, 6 skipped, nothing else. */
async function importAndCheck(path: string): Promise<string[]> {
  const lines: string[] = [];
  const s = await importFeed({
    ...base,
    wh,
    feed: studentRoll,
    path,
    force: true,
    log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
  });
  expectLoaded(s, { rows_read: 3, rows_loaded: 3, rows_quarantined: 0, rows_skipped: 6 });
  // As the ledger holds it.
  const run = await wh.db
    .selectFrom('runs')
    .select(['rows_read', 'rows_loaded', 'rows_quarantined', 'rows_skipped'])
    .where('id', '=', s.runId)
    .executeTakeFirstOrThrow();
  expect(run).toEqual({ rows_read: 3, rows_loaded: 3, rows_quarantined: 0, rows_skipped: 6 });
  const q = await wh.db.selectFrom('quarantine').select('row_number').where('run_id', '=', s.runId).execute();
  expect(q).toEqual([]);
  return lines;
}

describe('footer lines below the data', () => {
  it('are told apart from data rows by the bulk path’s SQL exactly as by footerKind', async () => {
    for (const { cells, kind } of FOOTER_CASES) {
      const { rows } = await sql<{ kind: string | null }>`SELECT ${rowShape(
        cells.map((c) => sql`${c}::text`),
      )} AS kind`.execute(wh.db);
      expect([cells, rows[0]!.kind]).toEqual([cells, kind]);
    }
  });

  it.each([
    ['UTF-8, every line as wide as the header (COPY)', 'utf8', true],
    ['GB18030, every line as wide as the header (COPY)', 'gb18030', true],
    ['UTF-8, footer lines shorter than the header (row by row)', 'utf8', false],
    ['GB18030, footer lines shorter than the header (row by row)', 'gb18030', false],
  ] as const)('in a CSV, %s: skipped and counted, the rows loaded', async (_, encoding, wide) => {
    const below = wide ? BELOW.map(pad) : BELOW;
    const name = `roll-${encoding}-${wide ? 'wide' : 'short'}.csv`;
    const path = writeCsv(join(dir, name), [HEADER, ...DATA, ...below], { encoding });
    const ms = await messages(csvConnector.read({ path }, { isHeader }));
    expect(ms.filter((m) => m.type === 'record')).toHaveLength(3);
    expect(ms.filter((m) => m.type === 'problem')).toEqual([]);
    expect(skippedOf(ms)).toEqual(['5:totals', '6:blank', '7:footer', '8:footer', '9:footer', '10:footer']);

    const lines = await importAndCheck(path);
    // Wide lines are COPY's to parse, and the SQL skips the footers; a short line makes COPY refuse the file,
    // and the record reader skips them.
    expect(lines.some((l) => l.includes(`"path":"${wide ? 'bulk' : 'records'}"`))).toBe(true);
  });

  it('in a workbook below merged title rows: skipped and counted, the rows loaded', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('学籍名册');
    ws.addRow(['示范县2026年秋季学期中小学学籍名册']);
    ws.mergeCells('A1:E1');
    ws.addRow(['填报单位：示范县教育局']); // a title row above the header: not a footer
    ws.mergeCells('A2:E2');
    ws.addRow(HEADER);
    for (const r of DATA) ws.addRow(r);
    for (const r of BELOW) ws.addRow(r);
    ws.mergeCells('A11:E11'); // 填表说明 across the table's width, as such notes are
    const path = join(dir, 'roll-footers.xlsx');
    await wb.xlsx.writeFile(path);

    const ms = await messages(xlsxConnector.read({ path }, { isHeader }));
    expect(ms.filter((m) => m.type === 'record').map((m) => m.position.row)).toEqual([4, 5, 6]);
    const skipped = skippedOf(ms);
    expect(skipped.slice(0, 2)).toEqual(['7:totals', '8:blank']);
    expect(skipped.slice(2)).toEqual(['9:footer', '10:footer', '11:footer', '12:footer']);
    await importAndCheck(path);
  });
});
