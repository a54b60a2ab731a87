/**
 * One county table — a 学籍 roll with a title row, a 合计 row, real date cells, rare characters (CJK extension B,
 * 々, a middle dot, a combining mark, an emoji) and IDs with an X check character — as each program a department
 * really uses writes it: LibreOffice (.xlsx, BIFF8 .xls, XML 2003 .xls, and that .xls named .et), openpyxl,
 * pandas, exceljs, and HTML tables saved as .xls (UTF-8, and GB18030 under a gb2312 meta). The files and
 * expected.json are made by test/fixtures/writers/make.sh (run by hand) and committed.
 *
 * Every fixture, read through connectorFor as the loader reads it, must give exactly expected.json's records:
 * the same cells code unit for code unit, on the same rows, under the same header, on the data sheet, with the
 * totals row skipped; and list() must show the file's sheets in order, hidden ones flagged. The end-to-end case
 * imports every fixture and compares the normalized rows; `check` (inspectSource) must agree with the import.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { connectorFor } from '../../connectors/registry.ts';
import { silentLogger } from '../../core/log.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { inspectSource } from '../../src/load/inspect-source.ts';
import { headerDetector } from '../../src/normalize/header-map.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testWarehouse } from '../support/warehouse.ts';

const DIR = fileURLToPath(new URL('../fixtures/writers', import.meta.url));

interface Fixture {
  file: string;
  writer: string;
  /** The data sheet's name as the file holds it. */
  sheet: string;
  sheets: { name: string; hidden: boolean }[];
}
interface Expected {
  header: string[];
  headerRow: number;
  dateColumn: number;
  records: { row: number; cells: (string | null)[] }[];
  totals: { row: number; cells: string[] };
  fixtures: Fixture[];
}
const x: Expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const isHeader = headerDetector(studentRoll, {});

async function read(file: string): Promise<ReadMessage[]> {
  const path = join(DIR, file);
  const out: ReadMessage[] = [];
  for await (const m of connectorFor(path).read({ path }, { isHeader })) out.push(m);
  return out;
}

describe.each(x.fixtures.map((f) => [f.file, f] as const))('%s', (_, f) => {
  let ms: ReadMessage[] = [];
  beforeAll(async () => {
    ms = await read(f.file);
  });
  const records = () =>
    ms.flatMap((m) => (m.type === 'record' ? [{ row: m.position.row, cells: m.cells }] : []));

  it('yields the same records, cell for cell, on the same rows', () => {
    expect(records()).toEqual(x.records);
  });

  it('reads every date cell as YYYY-MM-DD', () => {
    const dates = records().map((r) => r.cells[x.dateColumn]);
    expect(dates).toEqual(x.records.map((r) => r.cells[x.dateColumn]));
    for (const d of dates) if (d !== null) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('finds the header below the title row, on the data sheet', () => {
    expect(ms.filter((m) => m.type === 'header')).toEqual([
      {
        type: 'header',
        columns: x.header,
        position: { source: f.file, sheet: f.sheet, row: x.headerRow },
        // the title row above it, passed on for the data date a file may state there (it states none)
        titles: [
          { cells: ['示范县2026年秋季学期学籍名册'], position: { source: f.file, sheet: f.sheet, row: 1 } },
        ],
      },
    ]);
    expect(new Set(ms.flatMap((m) => ('position' in m ? [m.position.sheet] : [])))).toEqual(
      new Set([f.sheet]),
    );
  });

  it('skips the totals row, and nothing else is left out', () => {
    expect(ms.filter((m) => m.type === 'skipped' || m.type === 'problem')).toEqual([
      { type: 'skipped', reason: 'totals', position: { source: f.file, sheet: f.sheet, row: x.totals.row } },
    ]);
  });

  it('lists the sheets in order, the hidden one flagged', async () => {
    const path = join(DIR, f.file);
    const sheets = await connectorFor(path).list({ path });
    expect(sheets.map((s) => ({ name: s.name, hidden: s.hidden ?? false }))).toEqual(f.sheets);
    expect(sheets.find((s) => s.name === f.sheet)?.rows).toBe(x.totals.row);
  });
});

describe('importing the roll', () => {
  const whs: Warehouse[] = [];
  afterAll(async () => {
    for (const wh of whs) await wh.close();
  });

  async function load(file: string) {
    const wh = await testWarehouse(`writers_${file}`);
    whs.push(wh);
    const s = await importFeed({
      wh,
      feed: studentRoll,
      path: join(DIR, file),
      log: silentLogger(),
      today: '2026-11-24',
      timeZone: 'Asia/Shanghai',
    });
    const rows = await wh.db
      .selectFrom('student_roll')
      .select([
        'id_number',
        'name',
        'school_code',
        'school_name',
        'stage',
        'grade',
        'status',
        'updated_on',
        'birth_date',
        'home_village',
        'id_link',
        'sheet',
        'row_number',
      ])
      .orderBy('row_number')
      .execute();
    const quarantine = await wh.db
      .selectFrom('quarantine')
      .select(['field', 'problem', 'row_number', 'sheet'])
      .orderBy('row_number')
      .execute();
    return { status: s.status, counts: s.counts, rows, quarantine };
  }

  it('gives identical normalized rows from every writer, and check agrees with the import', async () => {
    const xls = await load('libreoffice.xls');
    for (const f of x.fixtures) {
      if (f.file === 'libreoffice.xls') continue;
      const got = await load(f.file);
      // the same rows, on the fixture's own data sheet (a plain HTML table names none: Sheet1)
      expect(new Set(got.rows.map((r) => r.sheet))).toEqual(new Set([f.sheet]));
      const unsheeted = (r: typeof xls) => ({
        ...r,
        rows: r.rows.map((row) => ({ ...row, sheet: null })),
        quarantine: r.quarantine.map((q) => ({ ...q, sheet: null })),
      });
      expect({ file: f.file, ...unsheeted(got) }).toEqual({ file: f.file, ...unsheeted(xls) });
      // `ruralhub check` / `discover` read the file the way the import does
      const seen = await inspectSource(studentRoll, join(DIR, f.file));
      expect(seen.ok).toBe(true);
      expect(seen.sheets.map((s) => [s.sheet, s.headerRow, s.rows, s.skipped, s.problems])).toEqual([
        [f.sheet, x.headerRow, x.records.length, 1, 0],
      ]);
      expect(seen.sheets[0]?.missingRequired).toEqual([]);
    }
    expect(xls.status).toBe('succeeded');
    expect(xls.counts).toMatchObject({
      rows_read: x.records.length,
      rows_loaded: x.records.length,
      rows_quarantined: 0,
      rows_skipped: 1,
    });
    expect(xls.rows.map((r) => [r.sheet, r.row_number, r.id_number, r.updated_on])).toEqual(
      x.records.map((r) => ['学籍名册', r.row, r.cells[1], r.cells[x.dateColumn]]),
    );
  });
});
