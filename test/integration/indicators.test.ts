/**
 * Indicators of DOMAIN §8 on the demo county, checked against counts written here in plain SQL (not with the
 * rule helpers the implementation shares with the rules), against the findings of the match for the same
 * reference date, across the county/township/village levels, and against targets and margins from config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import {
  computeIndicators,
  INDICATOR_IDS,
  type IndicatorId,
  type IndicatorRow,
  measureIndicators,
  statusOf,
} from '../../src/reporting/indicators.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { openFindingCount, testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const COUNTY = 'county: { name: 示范县, code: "520102" }';
const config = parseConfig(COUNTY, 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-indicators-');
let wh: Warehouse;
let rows: IndicatorRow[];

const RULE_OF: Record<IndicatorId, string> = {
  education_retention: 'R01',
  medical_insurance: 'R02',
  housing_safety: 'R08',
  water_safety: 'R09',
  safety_net: 'R05',
};

beforeAll(async () => {
  wh = await testWarehouse('indicators');
  await loadDemoCounty(wh, { dir, persons: 1500, seed: 11, asOf: AS_OF, config, log });
  rows = await computeIndicators(wh.db, { asOf: AS_OF, config });
}, 240_000);
afterAll(async () => wh?.close());

interface Count {
  t: string;
  v: string;
  d: number;
  n: number;
}

const living = (id: RawBuilder<unknown>) =>
  sql`NOT EXISTS (SELECT 1 FROM deaths dd WHERE dd.id_number = ${id} AND dd.valid_to IS NULL
    AND dd.died_on <= ${AS_OF}::date)`;

// Per place (township, village; '' when unknown): the population `d` and those covered `n`, in SQL written from
// the definitions in DOMAIN §6/§8 rather than from the implementation's helpers.
const independent: Record<IndicatorId, (unsafeGrades?: string[]) => RawBuilder<Count>> = {
  // School year 2026/27: aged 6 by 31 Aug 2026 and not yet 16 on 1 Sep 2026. Covered: 在读 or home-delivered,
  // and not recorded as 辍学 (a 辍学 roll status is a shortfall even when home-delivered, as in R01).
  education_retention: () => sql<Count>`
    SELECT coalesce(p.township, '') AS t, coalesce(p.village, '') AS v, count(*)::int AS d,
      count(*) FILTER (WHERE s.status IS DISTINCT FROM 'dropped_out'
        AND (s.status = 'enrolled' OR p.id_number IN (SELECT id_number FROM home_schooling WHERE valid_to IS NULL)))::int AS n
    FROM roster p LEFT JOIN student_roll s ON s.id_number = p.id_number AND s.valid_to IS NULL
    WHERE p.valid_to IS NULL AND ${living(sql.ref('p.id_number'))}
      AND to_date(substr(p.id_number, 7, 8), 'YYYYMMDD') BETWEEN '2010-09-02' AND '2020-08-31'
    GROUP BY 1, 2`,
  medical_insurance: () => sql<Count>`
    SELECT coalesce(p.township, '') AS t, coalesce(p.village, '') AS v, count(*)::int AS d,
      count(*) FILTER (WHERE p.id_number IN (SELECT id_number FROM insurance
        WHERE valid_to IS NULL AND year = 2026 AND status = 'active'))::int AS n
    FROM roster p WHERE p.valid_to IS NULL AND ${living(sql.ref('p.id_number'))}
    GROUP BY 1, 2`,
  housing_safety: (unsafeGrades = ['C', 'D']) => sql<Count>`
    WITH hh AS (SELECT household_id, min(township) AS t, min(village) AS v FROM roster WHERE valid_to IS NULL
                GROUP BY household_id),
    unsafe AS (SELECT r.household_id FROM housing x
               JOIN roster r ON r.id_number = x.head_id_number AND r.valid_to IS NULL
               WHERE x.valid_to IS NULL AND x.safety_grade IN (${sql.join(unsafeGrades)})
                 AND x.renovation_status IS DISTINCT FROM 'completed')
    SELECT coalesce(t, '') AS t, coalesce(v, '') AS v, count(*)::int AS d,
      count(*) FILTER (WHERE household_id NOT IN (SELECT household_id FROM unsafe))::int AS n
    FROM hh GROUP BY 1, 2`,
  water_safety: () => sql<Count>`
    WITH hh AS (SELECT household_id, min(township) AS t, min(village) AS v FROM roster WHERE valid_to IS NULL
                GROUP BY household_id),
    unsafe AS (SELECT r.household_id FROM water x
               JOIN roster r ON r.id_number = x.head_id_number AND r.valid_to IS NULL
               WHERE x.valid_to IS NULL AND x.water_safe = false)
    SELECT coalesce(t, '') AS t, coalesce(v, '') AS v, count(*)::int AS d,
      count(*) FILTER (WHERE household_id NOT IN (SELECT household_id FROM unsafe))::int AS n
    FROM hh GROUP BY 1, 2`,
  // Monitored households none of whose living members can work (labor able/weak and no valid grade 1–2
  // certificate); covered when any member has active 低保/特困 at the reference date.
  safety_net: () => sql<Count>`
    WITH m AS (
      SELECT r.household_id, r.township, r.village, r.household_type,
        coalesce(r.labor_capacity IN ('able', 'weak'), false)
          AND NOT EXISTS (SELECT 1 FROM disability z WHERE z.id_number = r.id_number AND z.valid_to IS NULL
                          AND z.cert_status IS DISTINCT FROM 'revoked' AND z.grade IN ('1', '2'))
          AND ${living(sql.ref('r.id_number'))} AS can_work,
        EXISTS (SELECT 1 FROM assistance a WHERE a.id_number = r.id_number AND a.valid_to IS NULL
                AND a.aid_type IN ('minimum_living', 'extreme_poverty') AND a.status = 'active'
                AND (a.ended_on IS NULL OR a.ended_on >= ${AS_OF}::date)) AS covered
      FROM roster r WHERE r.valid_to IS NULL),
    hh AS (SELECT household_id, min(township) AS t, min(village) AS v, bool_or(covered) AS covered FROM m
           GROUP BY household_id
           HAVING bool_or(household_type = 'monitored') AND NOT bool_or(can_work))
    SELECT coalesce(t, '') AS t, coalesce(v, '') AS v, count(*)::int AS d,
      count(*) FILTER (WHERE covered)::int AS n
    FROM hh GROUP BY 1, 2`,
};

async function expected(id: IndicatorId, unsafeGrades?: string[]): Promise<Map<string, Count>> {
  const { rows } = await independent[id](unsafeGrades).execute(wh.db);
  return new Map(rows.map((r) => [`${r.t}|${r.v}`, r]));
}

const of = (list: IndicatorRow[], id: IndicatorId, level: IndicatorRow['level']) =>
  list.filter((r) => r.indicator === id && r.level === level);

describe('indicators on the demo county', () => {
  it('count, village by village, exactly the population and the covered of an independent SQL count', async () => {
    for (const id of INDICATOR_IDS) {
      const want = await expected(id);
      const villages = of(rows, id, 'village');
      const got = new Map(
        villages.map((r) => [
          `${r.township ?? ''}|${r.village ?? ''}`,
          { t: r.township ?? '', v: r.village ?? '', d: r.denominator, n: r.numerator },
        ]),
      );
      expect(got, id).toEqual(want);
      const [county] = of(rows, id, 'county');
      const total = [...want.values()].reduce((a, c) => ({ d: a.d + c.d, n: a.n + c.n }), { d: 0, n: 0 });
      expect({ d: county!.denominator, n: county!.numerator }, id).toEqual(total);
      // Every indicator has both a population and a shortfall in the demo county, so nothing here is 0 = 0.
      expect(total.d, id).toBeGreaterThan(total.n);
      expect(total.n, id).toBeGreaterThan(0);
    }
  });

  it('have as shortfall the open findings of their rule from the match on the same date', async () => {
    for (const id of INDICATOR_IDS) {
      const [county] = of(rows, id, 'county');
      expect(county!.denominator - county!.numerator, id).toBe(await openFindingCount(wh, RULE_OF[id]));
    }
  });

  it('add up: villages to their township, townships to the county, with rate = numerator / denominator', () => {
    for (const id of INDICATOR_IDS) {
      const county = of(rows, id, 'county');
      expect(county).toHaveLength(1);
      expect(county[0]).toMatchObject({ township: null, village: null });
      const towns = of(rows, id, 'township');
      expect(towns.length, id).toBeGreaterThan(1);
      const sum = (list: IndicatorRow[]) =>
        list.reduce((a, r) => ({ d: a.d + r.denominator, n: a.n + r.numerator }), { d: 0, n: 0 });
      expect(sum(towns), id).toEqual({ d: county[0]!.denominator, n: county[0]!.numerator });
      for (const town of towns) {
        expect(town.village).toBeNull();
        const villages = of(rows, id, 'village').filter((v) => v.township === town.township);
        expect(villages.length, `${id} ${town.township}`).toBeGreaterThan(0);
        expect(sum(villages), `${id} ${town.township}`).toEqual({ d: town.denominator, n: town.numerator });
      }
      for (const r of rows.filter((x) => x.indicator === id)) {
        expect(r.numerator).toBeLessThanOrEqual(r.denominator);
        if (r.denominator === 0) expect(r.rate).toBeNull();
        else expect(r.rate).toBeCloseTo(r.numerator / r.denominator, 12);
      }
    }
  });

  it("follow the rule's parameters: only grade D unsafe shrinks the housing shortfall to grade-D houses", async () => {
    const onlyD = parseConfig(`${COUNTY}\nrules: { R08: { params: { unsafe_grades: [D] } } }`, 'inline');
    const [county] = of(
      await computeIndicators(wh.db, { asOf: AS_OF, config: onlyD }),
      'housing_safety',
      'county',
    );
    const want = [...(await expected('housing_safety', ['D'])).values()].reduce((a, c) => a + c.n, 0);
    expect(county!.numerator).toBe(want);
    expect(county!.numerator).toBeGreaterThan(of(rows, 'housing_safety', 'county')[0]!.numerator);
  });

  it('are 达标 at or above the target, 风险 within the margin below it, 未达标 below that', async () => {
    const [water] = of(rows, 'water_safety', 'county');
    expect(water).toMatchObject({ target: 1, status: expect.any(String) });
    const rate = water!.rate!;
    expect(rate).toBeLessThan(1);
    const gap = 1 - rate;
    const statusAt = async (yaml: string) =>
      of(
        await computeIndicators(wh.db, { asOf: AS_OF, config: parseConfig(`${COUNTY}\n${yaml}`, 'inline') }),
        'water_safety',
        'county',
      )[0]!;
    expect(await statusAt(`indicators: { water_safety: ${rate} }`)).toMatchObject({
      target: rate,
      status: '达标',
    });
    expect((await statusAt(`indicators: { risk_margin: ${gap * 2} }`)).status).toBe('风险');
    expect((await statusAt(`indicators: { risk_margin: ${gap / 2} }`)).status).toBe('未达标');
    // The margin is shared: other indicators keep their own targets.
    const other = await computeIndicators(wh.db, {
      asOf: AS_OF,
      config: parseConfig(`${COUNTY}\nindicators: { water_safety: 0.5 }`, 'inline'),
    });
    expect(of(other, 'medical_insurance', 'county')[0]!.target).toBe(0.99);
    expect(of(other, 'water_safety', 'county')[0]!.status).toBe('达标');
  });
});

describe('indicator status and targets', () => {
  it('measure nothing in a warehouse where nothing was loaded: every indicator unmeasured, naming its feeds', async () => {
    // Before: 0 of 0 and 达标 for every indicator, as if a county without data were fully covered.
    const empty = await testWarehouse('indicators_empty');
    try {
      expect(await computeIndicators(empty.db, { asOf: AS_OF, config })).toEqual([]);
      expect((await measureIndicators(empty.db, { asOf: AS_OF, config })).unmeasured).toEqual([
        {
          indicator: 'education_retention',
          rule: 'R01',
          missing: ['roster', 'student_roll', 'home_schooling'],
        },
        { indicator: 'medical_insurance', rule: 'R02', missing: ['roster', 'insurance'] },
        { indicator: 'housing_safety', rule: 'R08', missing: ['roster', 'housing'] },
        { indicator: 'water_safety', rule: 'R09', missing: ['roster', 'water'] },
        { indicator: 'safety_net', rule: 'R05', missing: ['roster', 'assistance'] },
      ]);
    } finally {
      await empty.close();
    }
  });

  it('treat an empty population of a measured indicator as met, with no rate', () => {
    expect(statusOf(null, 1, 0)).toBe('达标');
    expect(statusOf(0.98, 0.99, 0.02)).toBe('风险');
    expect(statusOf(0.5, 1, 0)).toBe('未达标');
  });

  it('come from config, by default the targets DOMAIN §8 states, and reject shares outside 0–1 and unknown keys', () => {
    // The §8 table's rows: | `education_retention` | population | R01 | 100 % |
    const stated = [
      ...readFileSync(join(import.meta.dirname, '../../docs/domain.md'), 'utf8').matchAll(
        /^\| `([a-z_]+)` +\|[^|]*\|[^|]*\| *([0-9.]+) % *\|$/gm,
      ),
    ].map(([, id, percent]) => [id, Number(percent) / 100]);
    expect(stated.map(([id]) => id)).toEqual([...INDICATOR_IDS]);
    expect(config.indicators).toEqual({ ...Object.fromEntries(stated), risk_margin: 0.02 });
    expect(parseConfig(`${COUNTY}\nindicators: { safety_net: 0.9 }`, 'inline').indicators).toMatchObject({
      safety_net: 0.9,
      education_retention: 1,
      risk_margin: 0.02,
    });
    expect(() => parseConfig(`${COUNTY}\nindicators: { water_safety: 1.2 }`, 'inline')).toThrow(
      /indicators\.water_safety/,
    );
    expect(() => parseConfig(`${COUNTY}\nindicators: { water_saftey: 1 }`, 'inline')).toThrow(/indicators/);
  });
});
