/**
 * The region table (DOMAIN §5.4): loaded whole or not at all from a code-list CSV; once loaded, feeds' region
 * names are resolved within their parent and codes checked — unknown and ambiguous values are quarantine
 * reasons, not nulls. The demo county's own file covers every household it generates.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_EXTENSIONS } from '../../connectors/registry.ts';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { loadRegions } from '../../src/regions/load-regions.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { runCli } from '../support/cli.ts';
import { loadDemoCounty, testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, dropWarehouse, testWarehouse } from '../support/warehouse.ts';

const log = silentLogger();
const dir = tempDir('ruralhub-regions-');
const HEAD = ['行政区划代码', '名称', '级别', '上级代码'];
const C = '520102000000';
const T1 = '520102001000';
const T2 = '520102002000';
let wh: Warehouse;

beforeAll(async () => {
  wh = await testWarehouse('regions');
});
afterAll(async () => wh?.close());

const quarantined = async (feed: string) =>
  (
    await wh.db
      .selectFrom('quarantine')
      .select(['row_number', 'field', 'problem'])
      .where('feed', '=', feed)
      .where('problem', 'like', 'region_%')
      .orderBy('row_number')
      .orderBy('field')
      .execute()
  ).map((q) => `${q.row_number} ${q.field}:${q.problem}`);

describe('the region table', () => {
  it('refuses a file with bad rows, naming each by file, row and field, and loads nothing', async () => {
    const bad = writeCsv(join(dir, 'bad.csv'), [
      HEAD,
      [C, '示范县', '县', ''],
      ['52010200100', '城关镇', '镇', C], // row 3: 11 digits
      [T2, '新场镇', '组', C], // row 4: unknown level
      ['520102009001', '孤村', '村', '520102009000'], // row 5: parent not in the file
      [C, '重复', '县', ''], // row 6: code twice
    ]);
    const err = await loadRegions(wh, bad).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message.split('\n')).toEqual([
      'bad.csv: 4 row(s) refused, nothing loaded (5 rows read: 1 fine under 520102000000, 0 skipped above the county, 0 skipped outside it, 4 refused)',
      "bad.csv row 3, 行政区划代码: '52010200100', expected a 12-digit code",
      "bad.csv row 4, 级别: '组', expected a county, township or village level (县/乡/村 or 3–5)",
      'bad.csv row 5, 上级代码: 520102009000 is not in the list, expected the code of its township',
      'bad.csv row 6, 行政区划代码: 520102000000 again (first on row 2), expected each code once',
    ]);
    expect(await wh.db.selectFrom('regions').select('code').execute()).toEqual([]);
  });

  it('checks names within their township and codes, quarantining unknown and ambiguous values', async () => {
    const file = writeCsv(join(dir, 'regions.csv'), [
      HEAD,
      [C, '示范县', '县', ''],
      [T1, '城关镇', '镇', C],
      [T2, '青山乡', '乡', C],
      ['520102001001', '新村', '村', T1],
      ['520102001002', '东风村', '村', T1],
      ['520102001003', '东风村', '社区', T1], // two 东风村 under 城关镇: ambiguous there
      ['520102002001', '新村', '村', T2], // 新村 also under 青山乡: fine, resolved within the township
    ]);
    expect(await loadRegions(wh, file)).toMatchObject({ county: 1, township: 2, village: 4 });
    const roster = writeCsv(join(dir, 'roster.csv'), [
      ['户编号', '姓名', '证件号码', '与户主关系', '户类型', '乡镇', '村', '行政区划代码'],
      ['H1', '甲', testId(1), '户主', '监测户', '城关镇', '新村', '520102001001'], // row 2: fine
      ['H2', '乙', testId(2), '户主', '监测户', '青山乡', '新村', '520102002001'], // row 3: fine
      ['H3', '丙', testId(3), '户主', '监测户', '城南镇', '新村', ''], // row 4: no such township
      ['H4', '丁', testId(4), '户主', '监测户', '城关镇', '不存在村', ''], // row 5: no such village there
      ['H5', '戊', testId(5), '户主', '监测户', '城关镇', '东风村', ''], // row 6: ambiguous in 城关镇
      ['H6', '己', testId(6), '户主', '监测户', '青山乡', '新村', '520102099001'], // row 7: unknown code
    ]);
    const s = await importFeed({
      wh,
      feed: resolveFeed('roster'),
      path: roster,
      log,
      today: '2026-11-24',
      timeZone: 'Asia/Shanghai',
    });
    expect(s.counts).toMatchObject({ rows_read: 6, rows_loaded: 2, rows_quarantined: 4 });
    expect(await quarantined('roster')).toEqual([
      '4 township:region_unknown',
      '4 village:region_unknown',
      '5 village:region_unknown',
      '6 village:region_ambiguous',
      '7 village_code:region_unknown',
    ]);
    // A feed without townships (water) can only be checked for the village existing at all.
    const water = writeCsv(join(dir, 'water.csv'), [
      ['户主姓名', '户主身份证号', '村', '饮水是否安全'],
      ['甲', testId(1), '新村', '是'],
      ['乙', testId(2), '无名村', '是'],
    ]);
    const w = await importFeed({
      wh,
      feed: resolveFeed('water'),
      path: water,
      log,
      today: '2026-11-24',
      timeZone: 'Asia/Shanghai',
    });
    expect(w.counts).toMatchObject({ rows_loaded: 1, rows_quarantined: 1 });
    expect(await quarantined('water')).toEqual(['3 village:region_unknown']);
  });

  it("covers every household of the demo county with the demo's own file", async () => {
    const demo = await testWarehouse('regions_demo');
    try {
      const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
      const { generateDemoCounty } = await import('../../src/demo/generate.ts');
      const county = await generateDemoCounty({
        dir: join(dir, 'demo-probe'),
        persons: 200,
        seed: 3,
        asOf: '2026-11-24',
      });
      expect(await loadRegions(demo, county.regionsFile, config.county.code)).toMatchObject({
        county: 1,
        township: 5,
        village: 30,
      });
      await loadDemoCounty(demo, {
        dir: join(dir, 'demo'),
        persons: 1200,
        seed: 5,
        asOf: '2026-11-24',
        config,
        log,
      });
      const region = await demo.db
        .selectFrom('quarantine')
        .select('problem')
        .where('problem', 'like', 'region_%')
        .execute();
      expect(region).toEqual([]);
    } finally {
      await demo.close();
    }
  });
});

/**
 * Published lists as they come: province and city rows above the county, numeric levels, a whole province
 * with other counties, no 级别 column. Guizhou's codes (贵州省 52, 贵阳市 5201) stand in for the real list.
 */
describe('a published code list', () => {
  const P = '520000000000';
  const CITY = '520100000000';
  // The configured county 520102 with two townships and two villages, its city and province above it.
  const county = (
    levels: Record<'p' | 'c' | 'x' | 't' | 'v', string>,
  ): [string, string, string, string][] => [
    [P, '贵州省', levels.p, ''],
    [CITY, '贵阳市', levels.c, P],
    [C, '示范县', levels.x, CITY],
    [T1, '城关镇', levels.t, C],
    [T2, '青山街道', levels.t, C],
    ['520102001001', '新村', levels.v, T1],
    ['520102002001', '青山社区', levels.v, T2],
  ];
  const CHINESE = { p: '省', c: '市', x: '区', t: '镇', v: '村' };
  const NUMERIC = { p: '1', c: '2', x: '3', t: '4', v: '5' };
  const countyRows = [
    { code: C, name: '示范县', level: 'county', parent_code: null },
    { code: '520102001000', name: '城关镇', level: 'township', parent_code: C },
    { code: '520102001001', name: '新村', level: 'village', parent_code: T1 },
    { code: '520102002000', name: '青山街道', level: 'township', parent_code: C },
    { code: '520102002001', name: '青山社区', level: 'village', parent_code: T2 },
  ];
  const table = () =>
    wh.db.selectFrom('regions').select(['code', 'name', 'level', 'parent_code']).orderBy('code').execute();
  const reconciles = (n: { read: number; loaded: number; skipped_above: number; skipped_outside: number }) =>
    expect(n.loaded + n.skipped_above + n.skipped_outside).toBe(n.read);

  it.each([
    ['Chinese levels, UTF-8', CHINESE, 'utf8'],
    ['Chinese levels, GB18030', CHINESE, 'gb18030'],
    ['numeric levels, UTF-8 with BOM', NUMERIC, 'utf8-bom'],
  ] as const)(
    'skips the province and city above the county (%s); the county has no parent in the table',
    async (label, levels, encoding) => {
      const file = writeCsv(join(dir, `above-${label}.csv`), [HEAD, ...county(levels)], { encoding });
      const n = await loadRegions(wh, file, '520102');
      expect(n).toEqual({
        county_code: C,
        county_name: '示范县',
        read: 7,
        loaded: 5,
        skipped_above: 2,
        skipped_outside: 0,
        refused: 0,
        county: 1,
        township: 2,
        village: 2,
      });
      reconciles(n);
      expect(await table()).toEqual(countyRows);
    },
  );

  it('accepts the common level spellings (县级市 written 市, 旗, 街道, 居委会, 村委会, 社区)', async () => {
    const file = writeCsv(join(dir, 'spellings.csv'), [
      HEAD,
      [P, '贵州省', '省', ''],
      [CITY, '贵阳市', '地级市', P],
      ['520181000000', '清镇市', '市', CITY], // a county-level city: its code says so, not the word
      ['520181001000', '红枫湖镇', '镇', '520181000000'],
      ['520181002000', '巢凤街道', '街道', '520181000000'],
      ['520181003000', '麦格苗族布依族乡', '民族乡', '520181000000'],
      ['520181001001', '民乐村', '村委会', '520181001000'],
      ['520181002001', '凤山社区', '居委会', '520181002000'],
      ['520181002002', '东门', '社区', '520181002000'],
      ['520181003001', '麦格村', '村民委员会', '520181003000'],
    ]);
    expect(await loadRegions(wh, file, '520181')).toMatchObject({
      county_code: '520181000000',
      county_name: '清镇市',
      loaded: 8,
      skipped_above: 2,
      county: 1,
      township: 3,
      village: 4,
    });
  });

  it("loads only the configured county's subtree of a province-wide list, counting the rest", async () => {
    const rows = [
      HEAD,
      ...county(CHINESE),
      ['520103000000', '云岩区', '区', CITY], // another county of the same city
      ['520103001000', '黔灵镇', '镇', '520103000000'],
      ['520103001001', '新村', '村', '520103001000'],
      ['520200000000', '六盘水市', '市', P], // another city with its county
      ['520201000000', '钟山区', '区', '520200000000'],
      ['520201001000', '荷城街道', '街道', '520201000000'],
      ['520201001001', '荷城社区', '社区', '520201001000'],
    ];
    const file = writeCsv(join(dir, 'province.csv'), rows);
    const n = await loadRegions(wh, file, '520102');
    expect(n).toMatchObject({ read: 14, loaded: 5, skipped_above: 3, skipped_outside: 6, refused: 0 });
    reconciles(n);
    expect(await table()).toEqual(countyRows);
    // Without a configured county a list of several cannot say which one is meant.
    await expect(loadRegions(wh, file)).rejects.toThrow(
      'province.csv: the list holds 3 counties (520102, 520103, 520201): the configured county decides which is loaded',
    );
    // A county the list does not have is named, with the counts, and the table stays as it was.
    await expect(loadRegions(wh, file, '520111')).rejects.toThrow(
      'province.csv: no row for the county 520111000000 and none under it, nothing loaded (14 rows read: 3 above the county, 11 of other counties, 0 under 520111, 0 refused)',
    );
    expect(await table()).toEqual(countyRows);
  });

  it('reads a list saved as a workbook as it reads the CSV, below its title row; an unknown file type is refused', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('区划代码');
    sheet.addRow(['2025年统计用区划代码']); // a title row above the header, as provinces publish it
    for (const row of [HEAD, ...county(CHINESE)]) sheet.addRow(row);
    const file = join(dir, 'province.xlsx');
    await book.xlsx.writeFile(file);
    const n = await loadRegions(wh, file, '520102');
    expect(n).toMatchObject({ read: 7, loaded: 5, skipped_above: 2, skipped_outside: 0, refused: 0 });
    expect(await table()).toEqual(countyRows);
    const pdf = join(dir, 'regions.pdf');
    writeFileSync(pdf, '%PDF-1.4');
    await expect(loadRegions(wh, pdf, '520102')).rejects.toThrow(
      `${pdf}: unsupported file type '.pdf'; expected one of ${FILE_EXTENSIONS.join(', ')}`,
    );
    expect(await table()).toEqual(countyRows);
  });

  it('reads the level off the code when 级别 is absent or blank, refusing a code that does not show it', async () => {
    const noLevel = writeCsv(join(dir, 'no-level.csv'), [
      ['行政区划代码', '名称', '上级代码'],
      ...county(CHINESE).map(([code, name, , parent]) => [code, name, parent]),
      ['520103000000', '云岩区', CITY],
    ]);
    expect(await loadRegions(wh, noLevel, '520102')).toMatchObject({
      read: 8,
      loaded: 5,
      skipped_above: 2,
      skipped_outside: 1,
      county: 1,
      township: 2,
      village: 2,
    });
    expect(await table()).toEqual(countyRows);
    const blank = writeCsv(join(dir, 'blank-level.csv'), [
      HEAD,
      ...county({ p: '', c: '', x: '', t: '', v: '' }),
      ['520102000001', '无乡村', '', C], // row 9: a village code without a township: which level?
    ]);
    await expect(loadRegions(wh, blank, '520102')).rejects.toThrow(
      /blank-level\.csv row 9, 级别: empty, and 520102000001 does not show its level: expected 县, 乡 or 村 \(or 3–5\)/,
    );
  });

  it('refuses bad rows under the county with one line each, ignores other counties, and keeps the old table', async () => {
    const before = await table();
    expect(before.length).toBeGreaterThan(0);
    const file = writeCsv(join(dir, 'refused.csv'), [
      HEAD,
      ...county(CHINESE),
      ['520102001002', '飞地村', '村', '520103001000'], // row 9: its parent is in another county
      ['520102002000', '青山乡', '乡', C], // row 10: code twice
      ['520102003000', '', '镇', C], // row 11: no name
      ['520102001003', '错级村', '镇', T1], // row 12: a village code said to be a township
      ['52010200', '半截码', '村', T1], // row 13: not 12 digits
      ['520103000000', '云岩区', '区', CITY],
      ['520103001001', '', '组', '5201030'], // another county's own troubles are not this load's
    ]);
    const err = (await loadRegions(wh, file, '520102').catch((e: Error) => e)) as Error;
    expect(err.message.split('\n')).toEqual([
      'refused.csv: 5 row(s) refused, nothing loaded (14 rows read: 5 fine under 520102000000, 2 skipped above the county, 2 skipped outside it, 5 refused)',
      'refused.csv row 9, 上级代码: 520103001000 is outside the county 520102000000, expected the code of its township',
      'refused.csv row 10, 行政区划代码: 520102002000 again (first on row 6), expected each code once',
      'refused.csv row 11, 名称: empty, expected the region name',
      "refused.csv row 12, 级别: '镇' (乡) but 520102001003 is a 村-level code, expected level and code to agree",
      "refused.csv row 13, 行政区划代码: '52010200', expected a 12-digit code",
    ]);
    expect(err).toMatchObject({ kind: 'data' });
    // 14 = 5 fine + 2 above + 2 outside + 5 refused; and nothing changed.
    expect(await table()).toEqual(before);
  });

  it('`ruralhub regions load` loads the configured county and prints counts that reconcile', async () => {
    const schema = `cli_regions_${Math.random().toString(36).slice(2, 8)}`;
    const cfg = join(dir, `${schema}.yaml`);
    writeFileSync(
      cfg,
      `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n`,
    );
    const env = { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', RH_TEST_URL: databaseUrl() };
    try {
      expect((await runCli(['--config', cfg, 'migrate'], { env })).code).toBe(0);
      const file = writeCsv(
        join(dir, 'cli-province.csv'),
        [HEAD, ...county(NUMERIC), ['520103000000', '云岩区', '3', CITY]],
        { encoding: 'gb18030' },
      );
      const ok = await runCli(['--config', cfg, 'regions', 'load', file], { env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout.trim().split('\n')).toEqual([
        'region table loaded for 520102000000 示范县: 8 rows read',
        '  loaded: 5 (1 county, 2 townships, 2 villages)',
        '  skipped above the county: 2',
        '  skipped outside the county: 1',
        '  refused: 0',
      ]);
      const bad = writeCsv(join(dir, 'cli-bad.csv'), [
        HEAD,
        ...county(NUMERIC),
        ['520102009001', '孤村', '5', '520102009000'],
      ]);
      const r = await runCli(['--config', cfg, 'regions', 'load', bad], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /cli-bad\.csv row 9, 上级代码: 520102009000 is not in the list, expected the code of its township/,
      );
      expect(r.stderr).not.toMatch(/unexpected|foreign key|\s+at /);
    } finally {
      await dropWarehouse(wh.db, schema);
    }
  });
});
