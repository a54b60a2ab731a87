import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { statedDataDate } from '../../src/normalize/data-date.ts';
import { executeJob } from '../../src/scheduler/jobs.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { countyCli } from '../support/county-cli.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';
import { buildXlsx } from '../support/xlsx-builder.ts';

const dir = tempDir('ruralhub-data-date-');
const TZ = 'Asia/Shanghai';
const HEADER = ['学生姓名', '身份证件号', '学籍状态'];
const ROW = ['张三', '520102201508310028', '在读'];
let wh: Warehouse;

beforeAll(async () => {
  wh = await testWarehouse('data_date');
});
afterAll(async () => {
  await wh?.close();
});

const load = (path: string, dataDate?: string) =>
  importFeed({
    wh,
    feed: studentRoll,
    path,
    log: silentLogger(),
    today: '2026-12-03',
    timeZone: TZ,
    loadDay: '2026-12-03',
    force: true,
    ...(dataDate ? { dataDate: { date: dataDate, from: 'flag' as const } } : {}),
  });

const run = (id: number) =>
  wh.db
    .selectFrom('runs')
    .select(['status', 'data_date', 'data_date_from', 'error'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

const lastRun = () =>
  wh.db
    .selectFrom('runs')
    .select(['id', 'status', 'data_date', 'data_date_from', 'error'])
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();

describe('the data date of a load', () => {
  it('reads the date a CSV title line states (导出日期：2026年11月1日) and records it with the file and row', async () => {
    const file = writeCsv(join(dir, '学籍-导出.csv'), [
      ['示范县学籍名册（导出日期：2026年11月1日）'],
      HEADER,
      ROW,
    ]);
    const s = await load(file);
    expect(s.status).toBe('succeeded');
    expect(s.dataDate).toEqual({ date: '2026-11-01', from: 'file 学籍-导出.csv row 1' });
    expect(await run(s.runId)).toMatchObject({
      status: 'succeeded',
      data_date: '2026-11-01',
      data_date_from: 'file 学籍-导出.csv row 1',
    });
  });

  it('reads the date an xlsx title row states (统计截至2026-10-31), naming the sheet and row', async () => {
    const file = join(dir, 'roll.xlsx');
    await buildXlsx(file, [
      {
        name: '学籍名册',
        rows: [['示范县中小学学籍名册'], ['统计截至2026-10-31', null, '单位：人'], HEADER, ROW],
      },
    ]);
    const s = await load(file);
    expect(await run(s.runId)).toMatchObject({
      status: 'succeeded',
      data_date: '2026-10-31',
      data_date_from: "file roll.xlsx sheet '学籍名册' row 2",
    });
  });

  it('takes --data-date over the date the file states', async () => {
    const file = writeCsv(join(dir, 'flag.csv'), [['导出日期:2026/11/1'], HEADER, ROW]);
    const s = await load(file, '2026-10-15');
    expect(await run(s.runId)).toMatchObject({ data_date: '2026-10-15', data_date_from: 'flag' });
  });

  it("takes the load's local date when the file states none (bulk path: the header is the first line)", async () => {
    const file = writeCsv(join(dir, 'plain.csv'), [HEADER, ROW]);
    const s = await load(file);
    expect(await run(s.runId)).toMatchObject({ data_date: '2026-12-03', data_date_from: 'load_day' });
  });

  it('fails a load whose file states a date after the load day, or no date, in one line naming file and row', async () => {
    const future = writeCsv(join(dir, 'future.csv'), [['统计日期：2026年12月24日'], HEADER, ROW]);
    await expect(load(future)).rejects.toThrow(
      "future.csv row 1: 统计日期 2026-12-24 is later than the load's date 2026-12-03; expected a date on or before it (or give --data-date)",
    );
    expect(await lastRun()).toMatchObject({ status: 'failed', data_date: null, data_date_from: null });
    const bad = join(dir, 'bad.xlsx');
    await buildXlsx(bad, [{ name: 'S1', rows: [['数据截至：2026年13月1日'], HEADER, ROW] }]);
    await expect(load(bad)).rejects.toThrow(
      "bad.xlsx sheet 'S1' row 1: 数据截至 '2026年13月1日' is not a date; expected YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or YYYYMMDD (or give --data-date)",
    );
    expect((await lastRun()).status).toBe('failed');
    // the operator's date settles it
    const s = await load(future, '2026-12-01');
    expect(await run(s.runId)).toMatchObject({
      status: 'succeeded',
      data_date: '2026-12-01',
      data_date_from: 'flag',
    });
  });

  it("takes a scheduled import's own date (its slot's local date) over the file's", async () => {
    const file = writeCsv(join(dir, 'job.csv'), [['导出日期：2026年11月1日'], HEADER, ROW]);
    const config = parseConfig(
      `county: { name: 示范县, code: "520102" }\ntimezone: ${TZ}\nscheduler:\n  jobs:\n    roll: { kind: import, feed: student_roll, path: ${JSON.stringify(file)}, cron: "0 2 * * *" }\n`,
      'test.yaml',
    );
    // 2026-11-01T18:00Z is 2 a.m. on 2 November in the county
    const slot = new Date('2026-11-01T18:00:00Z');
    const r = await executeJob(config.scheduler.jobs.roll!, { wh, config, log: silentLogger(), slot });
    expect(await run(r.runIds[0]!)).toMatchObject({ data_date: '2026-11-02', data_date_from: 'job' });
  });

  it('reads the forms departments write', () => {
    const at = (text: string) =>
      statedDataDate([{ cells: [text], position: { source: 'x.csv', row: 1 } }])?.date;
    expect(at('截至日期 20261101')).toBe('2026-11-01');
    expect(at('导出日期：２０２６年１１月１日')).toBe('2026-11-01');
    expect(at('统计截至: 2026.11.1')).toBe('2026-11-01');
    expect(at('统计日期：2026-02-30')).toBeNull();
    expect(at('示范县学籍名册')).toBeUndefined();
  });

  it('is recorded by the command (--data-date) and shown by check and discover', async () => {
    const county = countyCli('dd', { extra: `timezone: ${TZ}\n` });
    onTestFinished(() => county.drop());
    const cli = county.ruralhub;
    const file = writeCsv(join(dir, 'cli.csv'), [['示范县学籍名册', '导出日期：2026年11月1日'], HEADER, ROW]);
    const c = await cli(['check', 'student_roll', '--file', file]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('data date: 2026-11-01 (file cli.csv row 1)');
    const d = await cli(['discover', 'student_roll', '--file', file]);
    expect(d.stdout).toContain('data date: 2026-11-01 (file cli.csv row 1)');
    const late = writeCsv(join(dir, 'late.csv'), [['导出日期：2099-01-01'], HEADER, ROW]);
    const l = await cli(['check', 'student_roll', '--file', late]);
    expect(l.code).toBe(3);
    expect(l.stdout).toMatch(/data date: late\.csv row 1: 导出日期 2099-01-01 is later than the load's date/);
    expect((await cli(['migrate'])).code).toBe(0);
    const i = await cli(['import', 'student_roll', '--file', file, '--data-date', '2026-10-20']);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/student_roll\s+cli\.csv\s+succeeded.*2026-10-20/);
    const r = await cli(['runs', '--format', 'json']);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ data_date: '2026-10-20', data_date_from: 'flag' });
    const j = await cli(['import', 'student_roll', '--file', file, '--force']);
    expect(j.code, j.stderr).toBe(0);
    const r2 = await cli(['runs']);
    expect(r2.stdout.split('\n')[0]).toMatch(/data_date/);
    expect(r2.stdout).toContain('2026-11-01');
    expect(
      (await cli(['import', 'student_roll', '--file', file, '--data-date', '2026-13-01'])).stderr,
    ).toMatch(/--data-date: expected a date as YYYY-MM-DD, got '2026-13-01'/);
  });
});
