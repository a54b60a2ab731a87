/**
 * Indicators (DOMAIN §8) and the monthly report (§7) on the demo county: each indicator's shortfall is its
 * rule's findings, townships add up to the county, status follows target and margin; the report's month
 * movements come from the history (so November's report stays the same after December's changes), village
 * counts below 5 are hidden in shared copies, and every report is audited.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { computeIndicators, type IndicatorRow } from '../../src/reporting/indicators.ts';
import { monthlyFindings } from '../../src/reporting/monthly-report.ts';
import { writeMonthlyReport } from '../../src/reporting/run-report.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { auditTrail, openFindingCount, testWarehouse } from '../support/warehouse.ts';
import { readXlsxRaw } from '../support/xlsx-reader.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-report-');
let wh: Warehouse;

const RULE_OF = {
  education_retention: 'R01',
  medical_insurance: 'R02',
  housing_safety: 'R08',
  water_safety: 'R09',
  safety_net: 'R05',
} as const;

beforeAll(async () => {
  wh = await testWarehouse('report');
  await loadDemoCounty(wh, { dir, persons: 1500, seed: 11, asOf: AS_OF, config, log });
}, 240_000);
afterAll(async () => wh?.close());

describe('indicators', () => {
  let rows: IndicatorRow[];
  beforeAll(async () => {
    rows = await computeIndicators(wh.db, { asOf: AS_OF, config });
  });

  it("have as shortfall exactly their rule's findings, and townships add up to the county", async () => {
    for (const [indicator, rule] of Object.entries(RULE_OF)) {
      const mine = rows.filter((r) => r.indicator === indicator);
      const county = mine.find((r) => r.level === 'county')!;
      expect(county.denominator, indicator).toBeGreaterThan(0);
      expect(county.denominator - county.numerator, indicator).toBe(await openFindingCount(wh, rule));
      const towns = mine.filter((r) => r.level === 'township');
      expect(towns.length).toBeGreaterThan(1);
      expect(towns.reduce((n, t) => n + t.denominator, 0)).toBe(county.denominator);
      expect(towns.reduce((n, t) => n + t.numerator, 0)).toBe(county.numerator);
      const villages = mine.filter((r) => r.level === 'village');
      expect(villages.reduce((n, v) => n + v.numerator, 0)).toBe(county.numerator);
      expect(county.rate).toBeCloseTo(county.numerator / county.denominator, 10);
    }
  });

  it('are 达标 at the target, 风险 within the margin below it, 未达标 below that', async () => {
    const county = rows.find((r) => r.indicator === 'medical_insurance' && r.level === 'county')!;
    const rate = county.rate!;
    expect(rate).toBeLessThan(1);
    const at = (target: number, margin: number) =>
      parseConfig(
        `county: { name: 示范县, code: "520102" }\nindicators: { medical_insurance: ${target}, risk_margin: ${margin} }`,
        'inline',
      );
    const status = async (target: number, margin: number) =>
      (await computeIndicators(wh.db, { asOf: AS_OF, config: at(target, margin) })).find(
        (r) => r.indicator === 'medical_insurance' && r.level === 'county',
      )!.status;
    expect(await status(rate, 0.02)).toBe('达标');
    expect(await status(Math.min(1, rate + 0.01), 0.02)).toBe('风险');
    expect(await status(Math.min(1, rate + 0.05), 0.02)).toBe('未达标');
  });
});

describe('the monthly report', () => {
  it("counts the month's movements from the history and keeps a past month's report unchanged", async () => {
    const nov = await monthlyFindings(wh, '2026-11');
    const total = await wh.db
      .selectFrom('findings')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const sum = (k: 'new' | 'closed' | 'open_at_start' | 'open_at_end') =>
      nov.movements.reduce((n, m) => n + m[k], 0);
    expect(sum('new')).toBe(Number(total.n));
    expect(sum('open_at_start')).toBe(0);
    expect(sum('closed')).toBe(0);
    expect(sum('open_at_end')).toBe(Number(total.n));
    expect(nov.states.reduce((n, s) => n + s.n, 0)).toBe(Number(total.n));

    // December: the insurance file comes back empty of one uninsured person's problem → R02 item closed.
    const [r02] = await wh.db
      .selectFrom('findings')
      .select(['id', 'subject_key'])
      .where('rule_id', '=', 'R02')
      .where('state', '<>', 'closed')
      .orderBy('id')
      .execute();
    await wh.db
      .updateTable('findings')
      .set({ state: 'closed', close_reason: 'data', closed_on: '2026-12-02' })
      .where('id', '=', r02!.id)
      .execute();
    await wh.db
      .insertInto('finding_events')
      .values({
        finding_id: r02!.id,
        on_date: '2026-12-02',
        from_state: 'open',
        to_state: 'closed',
        reason: 'no longer found by the data',
      })
      .execute();
    const dec = await monthlyFindings(wh, '2026-12');
    const decR02 = dec.movements.find((m) => m.rule_id === 'R02')!;
    const novR02 = nov.movements.find((m) => m.rule_id === 'R02')!;
    expect(decR02).toMatchObject({
      open_at_start: novR02.open_at_end,
      new: 0,
      closed: 1,
      open_at_end: novR02.open_at_end - 1,
    });
    expect(decR02.closure_rate).toBeCloseTo(1 / novR02.open_at_end, 4);
    expect(await monthlyFindings(wh, '2026-11')).toEqual(nov);
  });

  it('writes the workbook and Markdown, hides village counts below 5 in shared copies, and audits', async () => {
    const own = await writeMonthlyReport({
      wh,
      config,
      month: '2026-11',
      outDir: join(dir, 'reports'),
      bureauCopy: true,
      actor: 'test',
      now: new Date('2026-12-01T17:30:00Z'),
    });
    const shared = await writeMonthlyReport({
      wh,
      config,
      month: '2026-11',
      outDir: join(dir, 'reports'),
      bureauCopy: false,
      actor: 'test',
    });
    expect(own.markdown).toMatch(/^# 示范县 月报 2026-11/);
    expect(own.markdown).toMatch(/## 监测指标/);
    expect(own.markdown).toMatch(/\| 基本医疗保险参保 \| 全县 \|/);
    const villageSheet = async (path: string) =>
      [...(await readXlsxRaw(path)).find((s) => s.name === '各村未销号')!.rows.values()]
        .slice(1)
        .map((r) => r[2]!.value);
    const ownCounts = await villageSheet(own.path);
    const sharedCounts = await villageSheet(shared.path);
    expect(ownCounts.length).toBe(sharedCounts.length);
    expect(ownCounts.some((v) => Number(v) < 5)).toBe(true);
    ownCounts.forEach((v, i) => {
      expect(sharedCounts[i]).toBe(Number(v) < 5 ? '<5' : v);
    });
    // 生成时间 in the county's time, the zone named.
    const cover = (await readXlsxRaw(own.path)).find((s) => s.name === '概览')!;
    const generated = [...cover.rows.values()].find((r) => r[0]!.value === '生成时间')!;
    expect(generated[1]!.value).toBe('2026-12-02 01:30 (Asia/Shanghai)');
    const audit = await auditTrail(wh, 'report.monthly', ['action', 'target']);
    expect(audit).toEqual([
      { action: 'report.monthly', target: own.path },
      { action: 'report.monthly', target: shared.path },
    ]);
  });
});
