/**
 * The region table (DOMAIN §5.4): loaded whole or not at all from a code-list CSV; once loaded, feeds' region
 * names are resolved within their parent and codes checked — unknown and ambiguous values are quarantine
 * reasons, not nulls. The demo county's own file covers every household it generates.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { resolveFeed } from '../../src/load/resolve-feed.ts';
import { silentLogger } from '../../src/log.ts';
import { loadRegions } from '../../src/regions/load-regions.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty, testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

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
  it('refuses a file with bad rows, naming each, and loads nothing', async () => {
    const bad = writeCsv(join(dir, 'bad.csv'), [
      HEAD,
      [C, '示范县', '县', ''],
      ['52010200100', '城关镇', '镇', C], // row 3: 11 digits
      [T2, '新场镇', '组', C], // row 4: unknown level
      ['520102009001', '孤村', '村', '520102009000'], // row 5: parent not in the file
      [C, '重复', '县', ''], // row 6: code twice
    ]);
    await expect(loadRegions(wh, bad)).rejects.toThrow(
      /bad\.csv: 4 bad row\(s\), nothing loaded: row 3, 行政区划代码: '52010200100' is not a 12-digit code; row 4, 级别: '组' is not a county, township or village level; row 6, 行政区划代码: 520102000000 already on row 2; row 5, 上级代码: 520102009000 is not in the file/,
    );
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
    expect(await loadRegions(wh, file)).toEqual({ county: 1, township: 2, village: 4 });
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
      expect(await loadRegions(demo, county.regionsFile)).toEqual({ county: 1, township: 5, village: 30 });
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
