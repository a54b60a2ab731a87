/**
 * Attack and fault cases on the reading path (hardening): each ends quickly, as a data error or a quarantined
 * row, with the run recorded and the feed's lock released — never a hang, a crash or silent damage. The files
 * are made here by the test.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { water } from '../../pipelines/feeds/water.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { idCheckChar } from '../../src/normalize/id-number.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';
import { buildXlsx } from '../support/xlsx-builder.ts';

const dir = tempDir('ruralhub-sec-read-');
const HEADER = '户主姓名,户主身份证号,村,饮水是否安全,问题类型';
/** Distinct valid IDs: a birth day per thousand. */
const id = (i: number) => {
  const day = new Date(Date.UTC(1950, 0, 1 + Math.floor(i / 1000)))
    .toISOString()
    .slice(0, 10)
    .replaceAll('-', '');
  const first17 = `520102${day}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
};
const line = (i: number) => `张${i},${id(i)},新村饮水安全示范点第${i}户,是,`;
let wh: Warehouse;

beforeAll(async () => {
  wh = await testWarehouse('sec_read');
});
afterAll(async () => wh?.close());

/** Each file here is a whole snapshot of its own: replacing the last one's rows is expected, not held. */
const load = (path: string) =>
  importFeed({
    wh,
    feed: water,
    path,
    confirmShrink: true,
    log: silentLogger(),
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
  });

async function lastRun() {
  return wh.db
    .selectFrom('runs')
    .select(['status', 'error'])
    .where('feed', '=', 'water')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
}

describe('a department file that would hang, crash or damage the import', () => {
  it('a quote never closed fails the run at once, and the next import of the feed loads', async () => {
    const lines = [HEADER, ...Array.from({ length: 2000 }, (_, i) => line(i))];
    lines.push(`王五,"${id(9999)},新村,是,`); // the quote runs to the end of the file
    const broken = join(dir, 'unclosed.csv');
    writeFileSync(broken, `${lines.join('\r\n')}\r\n`);
    const started = Date.now();
    await expect(load(broken)).rejects.toThrow(/unclosed\.csv: .*Quote Not Closed/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await lastRun()).toMatchObject({ status: 'failed' });

    const good = join(dir, 'fixed.csv');
    writeFileSync(good, `${lines.slice(0, -1).join('\r\n')}\r\n`);
    const s = await load(good);
    expect(s.status).toBe('succeeded');
    expect(s.counts.rows_loaded).toBe(2000);
  }, 60_000);

  it('a UTF-8 file with one GBK line after 75 kB loads, quarantining that line as text_damaged', async () => {
    const head = Buffer.from(
      `${[HEADER, ...Array.from({ length: 1500 }, (_, i) => line(i))].join('\r\n')}\r\n`,
    );
    expect(head.length).toBeGreaterThan(75_000);
    const gbk = iconv.encode(`李四,${id(5000)},新村,是,\r\n`, 'gb18030');
    const tail = Buffer.from(`${line(5001)}\r\n`);
    const path = join(dir, 'late-gbk.csv');
    writeFileSync(path, Buffer.concat([head, gbk, tail]));
    const s = await load(path);
    expect(s.status).toBe('succeeded');
    expect(s.counts).toMatchObject({ rows_read: 1502, rows_loaded: 1501, rows_quarantined: 1 });
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['problem', 'field', 'row_number', 'source'])
      .where('problem', '=', 'text_damaged')
      .orderBy('field')
      .execute();
    // every column whose GBK bytes are not UTF-8 (the name, the village, 是), the ID intact
    expect(q.map((r) => [r.field, r.row_number, r.source])).toEqual([
      ['head_name', 1502, 'late-gbk.csv'],
      ['village', 1502, 'late-gbk.csv'],
      ['water_safe', 1502, 'late-gbk.csv'],
    ]);
  });

  it('a DOCTYPE hidden behind a 200 kB comment is refused all the same', async () => {
    const path = join(dir, 'padded-doctype.xlsx');
    await buildXlsx(path, [{ name: 'Sheet1', rows: [HEADER.split(','), line(1).split(',')] }]);
    const zip = await JSZip.loadAsync(await import('node:fs').then((fs) => fs.readFileSync(path)));
    const sheet = await zip.file('xl/worksheets/sheet1.xml')!.async('nodebuffer');
    const padded = sheet
      .toString('utf8')
      .replace('?>', `?><!--${'x'.repeat(200_000)}--><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>`);
    zip.file('xl/worksheets/sheet1.xml', Buffer.from(padded));
    writeFileSync(path, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    await expect(load(path)).rejects.toThrow(/padded-doctype\.xlsx: refused: part .* declares a DOCTYPE/);
    expect(await lastRun()).toMatchObject({ status: 'failed' });
  });

  it('another sheet of a workbook already loaded is loaded, not a no-op; a sheet named 2025 is chosen by name', async () => {
    const path = join(dir, 'two-years.xlsx');
    const rows = (from: number) => [
      HEADER.split(','),
      ...Array.from({ length: 5 }, (_, i) => line(from + i).split(',')),
    ];
    await buildXlsx(path, [
      { name: '说明', rows: [['本表说明']] },
      { name: '2025', rows: rows(100) },
      { name: '2026', rows: rows(200) },
    ]);
    const bySheet = (sheet: string | number) =>
      importFeed({
        wh,
        feed: water,
        path,
        feedConfig: { sheet },
        confirmShrink: true, // each sheet is a whole snapshot of the feed, replacing the one before
        log: silentLogger(),
        today: '2026-11-24',
        timeZone: 'Asia/Shanghai',
      });
    const first = await bySheet(2025);
    expect(first.status).toBe('succeeded');
    const heads = async () =>
      (
        await wh.db
          .selectFrom('water')
          .select('head_name')
          .where('valid_to', 'is', null)
          .orderBy('head_name')
          .execute()
      ).map((r) => r.head_name);
    expect(await heads()).toEqual(['张100', '张101', '张102', '张103', '张104']);
    const second = await bySheet('2026');
    expect(second.status).toBe('succeeded');
    expect(await heads()).toEqual(['张200', '张201', '张202', '张203', '张204']);
    expect((await bySheet('2026')).status).toBe('noop');
  });

  it('a NUL in the header fails the run with its reason recorded; a NUL in a cell quarantines that row', async () => {
    const inHeader = join(dir, 'nul-header.csv');
    writeFileSync(inHeader, `${HEADER.replace('户主身份证号', '户主身份证号\0')}\r\n${line(1)}\r\n`);
    await expect(load(inHeader)).rejects.toThrow(/nul-header\.csv: required columns missing/);
    const failed = await lastRun();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/户主身份证号\\0/);

    const inCell = join(dir, 'nul-cell.csv');
    writeFileSync(inCell, `${HEADER}\r\n${line(1)}\r\n张\0二,${id(2)},新村,是,\r\n${line(3)}\r\n`);
    const s = await load(inCell);
    expect(s.status).toBe('succeeded');
    expect(s.counts).toMatchObject({ rows_read: 3, rows_loaded: 2, rows_quarantined: 1 });
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['problem', 'field', 'row_number'])
      .where('source', '=', 'nul-cell.csv')
      .execute();
    expect(q).toEqual([{ problem: 'text_damaged', field: 'head_name', row_number: 3 }]);
  });

  it('a 3 MB field is refused with its row, on the bulk path as on the record reader, never staged', async () => {
    const path = join(dir, 'huge-field.csv');
    const rows = [HEADER, line(1), `张二,${id(2)},${'村'.repeat(1_000_000)},是,`, line(3)];
    writeFileSync(path, `${rows.join('\r\n')}\r\n`);
    await expect(load(path)).rejects.toThrow(/huge-field\.csv: row 3: .*(max_record_size|record)/i);
    expect(await lastRun()).toMatchObject({ status: 'failed' });
  });

  it('a snapshot row with a damaged name is quarantined, and the household stays current (its key is intact)', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => line(7000 + i));
    const clean = join(dir, 'snapshot-clean.csv');
    writeFileSync(clean, iconv.encode(`${[HEADER, ...rows].join('\r\n')}\r\n`, 'gb18030'));
    expect((await load(clean)).status).toBe('succeeded');
    // The same file again, one byte of one name replaced by 0xFF (leads nothing in GB18030).
    const bytes = iconv.encode(`${[HEADER, ...rows].join('\r\n')}\r\n`, 'gb18030');
    const at = bytes.indexOf(iconv.encode('张7005', 'gb18030'));
    bytes[at] = 0xff;
    const damaged = join(dir, 'snapshot-damaged.csv');
    writeFileSync(damaged, bytes);
    const s = await importFeed({
      wh,
      feed: water,
      path: damaged,
      log: silentLogger(),
      today: '2026-11-24',
      timeZone: 'Asia/Shanghai',
    });
    expect(s.status).toBe('succeeded'); // not held: nothing would end
    expect(s.counts).toMatchObject({ rows_read: 20, rows_quarantined: 1, rows_ended: 0 });
    const current = await wh.db
      .selectFrom('water')
      .select('head_name')
      .where('valid_to', 'is', null)
      .where('head_id_number', '=', id(7005))
      .execute();
    expect(current.map((r) => r.head_name)).toEqual(['张7005']); // the version loaded before, untouched
  });

  it('a held snapshot keeps what it rejected, for the operator deciding on --confirm-shrink', async () => {
    const full = join(dir, 'held-full.csv');
    writeFileSync(
      full,
      `${[HEADER, ...Array.from({ length: 20 }, (_, i) => line(8000 + i))].join('\r\n')}\r\n`,
    );
    expect((await load(full)).status).toBe('succeeded');
    const part = join(dir, 'held-part.csv');
    writeFileSync(part, `${[HEADER, line(8000), line(8001), '张三,5201,新村,是,'].join('\r\n')}\r\n`);
    const s = await importFeed({
      wh,
      feed: water,
      path: part,
      log: silentLogger(),
      today: '2026-11-24',
      timeZone: 'Asia/Shanghai',
    });
    expect(s.status).toBe('held');
    expect(s.message).toMatch(/ruralhub quarantine --feed water --all-runs/);
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['field', 'problem', 'row_number'])
      .where('run_id', '=', s.runId)
      .execute();
    expect(q).toEqual([{ field: 'head_id_number', problem: 'id_bad_format', row_number: 4 }]);
  });
});
