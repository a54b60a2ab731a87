/**
 * Issue 25's proof that a feed and a rule are each one step: a throw-away feed (test/support/extension-feed.ts)
 * and a throw-away rule reading it (test/support/extension-rule.ts), each a declaration handed over in a
 * registry and nothing else of the project touched, are migrated, loaded and matched like the catalog's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { RULES, ruleRegistry } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { exportLists } from '../../src/delivery/export-lists.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { migrate } from '../../src/warehouse/migrate.ts';
import { testId } from '../support/demo.ts';
import { FEEDS_WITH_EXTENSION, TEMPORARY_AID_HEADER, temporaryAid } from '../support/extension-feed.ts';
import { EXTENSION_RULES, x01 } from '../support/extension-rule.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-extension-');
let wh: Warehouse;

const load = async (feed: Parameters<typeof importFeed>[0]['feed'], name: string, rows: string[][]) => {
  const s = await importFeed({
    wh,
    feed,
    path: writeCsv(join(dir, name), rows),
    log,
    today: AS_OF,
    timeZone: 'Asia/Shanghai',
  });
  expect(s.status, name).toBe('succeeded');
  return s;
};

beforeAll(async () => {
  wh = await testWarehouse('extension');
  // The extension's registry is the only thing migrate is told: the table comes from the declaration.
  await migrate(wh.db, wh.schema, { feeds: FEEDS_WITH_EXTENSION });
  await load(resolveFeed('roster'), 'roster.csv', [
    ['户编号', '姓名', '证件号码', '与户主关系', '户类型', '乡镇', '村'],
    ['H1', '甲一', testId(1), '户主', '监测户', '城关镇', '东村'],
    ['H1', '甲二', testId(2), '配偶', '监测户', '城关镇', '东村'],
    ['H2', '乙一', testId(3), '户主', '脱贫户', '城关镇', '西村'],
  ]);
  await load(temporaryAid, 'temporary-aid.csv', [
    TEMPORARY_AID_HEADER,
    // 甲一: twice within the year (the second grant's amount with a thousands separator, as clerks write it).
    ['甲一', testId(1), '东村', '2026-03-02', '800', '因病', '否'],
    ['甲一', testId(1), '东村', '2026-10-15', '1,200.50', '因灾', '是'],
    // 乙一: twice, but the first grant is more than a year before the reference date.
    ['乙一', testId(3), '西村', '2025-11-01', '500', '因病', '否'],
    ['乙一', testId(3), '西村', '2026-06-01', '500', '意外事故', '否'],
    // 甲二: once.
    ['甲二', testId(2), '东村', '2026-09-09', '300', '因病', '否'],
  ]);
});
afterAll(async () => wh?.close());

describe('a feed and a rule added through the extension points only', () => {
  it('the feed is migrated from its declaration and loaded; the rule reads it and opens its findings', async () => {
    const outcomes = await runMatch({
      wh,
      config,
      log,
      asOf: AS_OF,
      registry: EXTENSION_RULES,
      feeds: FEEDS_WITH_EXTENSION,
    });
    expect(outcomes).toMatchObject([
      { rule: 'X01', owner: '民政局', status: 'ran', population: 3, found: 1, new: 1 },
    ]);
    // Its lineage names the records of both feeds it read: the roster's row and the extension feed's two grants.
    const lineage = await wh.db
      .selectFrom('finding_lineage')
      .select(['feed', 'row_number'])
      .orderBy('feed')
      .orderBy('row_number')
      .execute();
    expect(lineage.map((l) => `${l.feed}:${l.row_number}`)).toEqual([
      'roster:2',
      'test_temporary_aid:2',
      'test_temporary_aid:3',
    ]);
    const findings = await wh.db
      .selectFrom('findings')
      .select(['rule_id', 'subject_key', 'department', 'state', 'name', 'household_id', 'village', 'details'])
      .execute();
    expect(findings).toEqual([
      {
        rule_id: 'X01',
        subject_key: testId(1),
        department: '民政局',
        state: 'open',
        name: '甲一',
        household_id: 'H1',
        village: '东村',
        details: { grants: 2, total: '2000.50' },
      },
    ]);
    // The loads the run read are the roster's and the extension feed's, in the ledger as every run's are.
    const run = await wh.db
      .selectFrom('runs')
      .select(['details'])
      .where('kind', '=', 'match')
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(run.details)).toContain('test_temporary_aid');
  });

  it('joins the catalog in one registry and runs beside its rules, with its parameters from the config', async () => {
    const all = ruleRegistry({ ...RULES, ...EXTENSION_RULES });
    const oneGrant = parseConfig(
      'county: { name: 示范县, code: "520102" }\nrules: { X01: { params: { min_grants: 1 } } }',
      'inline',
      all,
    );
    const outcomes = await runMatch({
      wh,
      config: oneGrant,
      log,
      asOf: AS_OF,
      registry: all,
      rules: ['X01', 'R02'],
    });
    // R02 needs the insurance feed, which this warehouse never loaded: skipped, as for any catalog rule.
    expect(outcomes.map((o) => `${o.rule}:${o.status}:${o.found ?? '-'}`)).toEqual([
      'X01:ran:3',
      'R02:skipped:-',
    ]);
    expect(x01.disclosed.map((d) => d.label)).toEqual([
      '乡镇',
      '村',
      '户编号',
      '姓名',
      '身份证号',
      '一年内救助次数',
      '救助金额合计(元)',
    ]);
  });

  it('lists its findings for the department, under its own columns, when export is given the registry', async () => {
    const [file] = await exportLists({
      wh,
      outDir: join(dir, 'lists'),
      asOf: AS_OF,
      log,
      department: '民政局',
      format: 'csv',
      registry: EXTENSION_RULES,
    });
    const lines = readFileSync(file!.paths[0]!, 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split(/\r?\n/);
    expect(lines[0]).toBe(
      '清单编号,乡镇,村,户编号,姓名,身份证号,一年内救助次数,救助金额合计(元),首次发现日期,整改时限,逾期天数,核实结果,说明,整改日期',
    );
    // The run above with min_grants 1 left three open: 甲一, 甲二 and 乙一, each with the year's grants; the
    // last line is the list's purpose and stamp (说明：…).
    expect(lines.at(-1)).toMatch(/^说明：疑点清单/);
    expect(lines.slice(1, -1).map((l) => l.split(',').slice(4, 8).join(','))).toEqual([
      `甲一,${testId(1)},2,2000.50`,
      `甲二,${testId(2)},1,300.00`,
      `乙一,${testId(3)},1,500.00`,
    ]);
    // Without the registry, the project's rules alone cannot list an extension's finding: said, not guessed.
    await expect(
      exportLists({ wh, outDir: join(dir, 'lists2'), asOf: AS_OF, log, department: '民政局', format: 'csv' }),
    ).rejects.toThrow('findings of rule X01, which this version does not have, cannot be listed');
  });
});
