/**
 * The indicators of DOMAIN §8: coverage rates of the focus population per county, township and village,
 * with target and status. Each indicator is the complement of a rule: its shortfall is exactly that rule's
 * findings (the rule's own query is run, grouped by place), over a population of the same people or
 * households. So an indicator and its rule can never disagree, and a county that changes a rule's
 * parameters changes the indicator with it.
 *
 *   education_retention  living compulsory-age focus children          shortfall R01 (off roll, no 送教上门)
 *   medical_insurance    living focus persons                          shortfall R02 (not insured this year)
 *   housing_safety       focus households                              shortfall R08 (C/D, not renovated)
 *   water_safety         focus households                              shortfall R09 (water unsafe)
 *   safety_net           monitored households without a living able worker, shortfall R05 (no 低保/特困)
 *
 * An indicator is measured only where its rule can run: a feed the rule requires with no load describing the
 * date (never loaded, or first loaded with a later data date) would make the shortfall 0 and the indicator
 * 达标 for want of data — 3 of 3 households housed safely with no housing data at all. Such an indicator is
 * not measured (UnmeasuredIndicator) and the report says so, naming the feeds.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FeedId } from '../../pipelines/feeds/index.ts';
import { loadsAt, validAt } from '../../pipelines/rules/as-of.ts';
import {
  compulsoryAgeRoster,
  focusHouseholds,
  isAbleWorker,
  isDead,
  monitoredHouseholdsWithout,
  SchoolAgeParams,
  WorkerParams,
} from '../../pipelines/rules/common.ts';
import { RULES, type RuleId } from '../../pipelines/rules/index.ts';
import type { Config, IndicatorTargets } from '../../schemas/config.ts';
import { bindRule } from '../matching/run-match.ts';
import type { Database } from '../warehouse/schema.ts';

export const INDICATOR_IDS = [
  'education_retention',
  'medical_insurance',
  'housing_safety',
  'water_safety',
  'safety_net',
] as const;
export type IndicatorId = (typeof INDICATOR_IDS)[number];

export const INDICATOR_LABELS: Readonly<Record<IndicatorId, string>> = {
  education_retention: '义务教育保障（在校或送教上门）',
  medical_insurance: '基本医疗保险参保',
  housing_safety: '住房安全保障',
  water_safety: '饮水安全保障',
  safety_net: '无劳动力户兜底保障',
};

/** A measured indicator's status, from its rate against the target. */
export const INDICATOR_STATUSES = ['达标', '风险', '未达标'] as const;
export type IndicatorStatus = (typeof INDICATOR_STATUSES)[number];
/** Shown in the status's place for an indicator not measured (UnmeasuredIndicator): no rate, no status. */
export const UNMEASURED_STATUS = '无数据';

export interface IndicatorRow {
  indicator: IndicatorId;
  level: 'county' | 'township' | 'village';
  township: string | null;
  village: string | null;
  numerator: number;
  denominator: number;
  rate: number | null;
  target: number;
  status: IndicatorStatus;
}

/** An indicator not measured at the date: the feeds its rule requires that have no load describing it. */
export interface UnmeasuredIndicator {
  indicator: IndicatorId;
  rule: RuleId;
  missing: FeedId[];
}

export interface IndicatorMeasures {
  /** The measured indicators' rows: county, townships, villages. */
  rows: IndicatorRow[];
  unmeasured: UnmeasuredIndicator[];
}

type Db = Kysely<Database>;

interface IndicatorDef {
  rule: RuleId;
  /** One row per person or household counted, with its township and village. */
  population: (db: Db, asOf: string, params: unknown) => RawBuilder<unknown>;
}

const DEFS: Record<IndicatorId, IndicatorDef> = {
  education_retention: {
    rule: 'R01',
    population: (db, asOf, params) =>
      sql`${compulsoryAgeRoster(db, asOf, SchoolAgeParams.parse(params))
        .select(['p.township', 'p.village'])
        .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)}`,
  },
  medical_insurance: {
    rule: 'R02',
    population: (db, asOf) =>
      sql`${db
        .selectFrom('roster as p')
        .select(['p.township', 'p.village'])
        .where(validAt('p', asOf))
        .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)}`,
  },
  housing_safety: {
    rule: 'R08',
    population: (db, asOf) =>
      sql`${db.selectFrom(focusHouseholds(db, asOf).as('h')).select(['h.township', 'h.village'])}`,
  },
  water_safety: {
    rule: 'R09',
    population: (db, asOf) =>
      sql`${db.selectFrom(focusHouseholds(db, asOf).as('h')).select(['h.township', 'h.village'])}`,
  },
  safety_net: {
    rule: 'R05',
    population: (db, asOf, params) => {
      const worker = WorkerParams.parse(params);
      return sql`${monitoredHouseholdsWithout(
        db,
        asOf,
        sql<boolean>`(${isAbleWorker('p', asOf, worker)} AND NOT ${isDead('p.id_number', asOf)})`,
      ).select(['h.township', 'h.village'])}`;
    },
  },
};

/**
 * A measured indicator's status. No rate (a place whose population is empty: no focus household there) is met —
 * a measured nothing, unlike an indicator not measured for want of its data (UnmeasuredIndicator).
 */
export function statusOf(rate: number | null, target: number, margin: number): IndicatorStatus {
  if (rate === null || rate >= target) return '达标';
  return rate >= target - margin ? '风险' : '未达标';
}

/**
 * The feeds of `feeds` without a load that stood at `asOf` on the data-date axis (loadsAt, the loads whose
 * versions a rule reads at that date): never loaded, or loaded only with a later data date.
 */
async function feedsWithoutLoadAt(db: Db, feeds: readonly FeedId[], asOf: string): Promise<Set<FeedId>> {
  const loaded = await sql<{ feed: FeedId }>`
    SELECT r.feed FROM runs r WHERE r.id IN (${loadsAt(asOf)})`.execute(db);
  const have = new Set(loaded.rows.map((r) => r.feed));
  return new Set(feeds.filter((f) => !have.has(f)));
}

/** The indicators' rows as of a date, the measured ones only (see measureIndicators). */
export async function computeIndicators(
  db: Db,
  p: { asOf: string; config: Readonly<Config> },
): Promise<IndicatorRow[]> {
  return (await measureIndicators(db, p)).rows;
}

/**
 * Every indicator as of `asOf`: measured (its rows by county, township and village) when every feed its rule
 * requires has a load describing that date, else unmeasured with the feeds it lacks.
 */
export async function measureIndicators(
  db: Db,
  p: { asOf: string; config: Readonly<Config> },
): Promise<IndicatorMeasures> {
  const targets: IndicatorTargets = p.config.indicators;
  const out: IndicatorRow[] = [];
  const unmeasured: UnmeasuredIndicator[] = [];
  const absent = await feedsWithoutLoadAt(
    db,
    [...new Set(INDICATOR_IDS.flatMap((id) => RULES[DEFS[id].rule].requires))],
    p.asOf,
  );
  for (const id of INDICATOR_IDS) {
    const def = DEFS[id];
    const missing = RULES[def.rule].requires.filter((f) => absent.has(f));
    if (missing.length) {
      unmeasured.push({ indicator: id, rule: def.rule, missing });
      continue;
    }
    const rule = bindRule(RULES[def.rule], p.config);
    const rows = await sql<{
      gt: number;
      gv: number;
      township: string | null;
      village: string | null;
      d: number;
      s: number;
    }>`
      WITH pop AS (SELECT coalesce(township, '') AS t, coalesce(village, '') AS v, count(*)::int AS n
                   FROM (${def.population(db, p.asOf, rule.params)}) x GROUP BY 1, 2),
      gap AS (SELECT coalesce(township, '') AS t, coalesce(village, '') AS v, count(*)::int AS n
              FROM (${rule.findings(db, p.asOf)}) y GROUP BY 1, 2),
      -- '' stands for an unknown place so that the full join can match on plain equality.
      j AS (SELECT coalesce(pop.t, gap.t) AS t, coalesce(pop.v, gap.v) AS v,
                   coalesce(pop.n, 0) AS d, coalesce(gap.n, 0) AS s
            FROM pop FULL JOIN gap ON pop.t = gap.t AND pop.v = gap.v)
      -- The () set yields its row even when the population is empty, with sum() NULL: a county without any
      -- such person or household still gets its row, with 0 of 0.
      SELECT grouping(t)::int AS gt, grouping(v)::int AS gv, nullif(t, '') AS township, nullif(v, '') AS village,
             coalesce(sum(d), 0)::int AS d, coalesce(sum(s), 0)::int AS s
      FROM j GROUP BY GROUPING SETS ((), (t), (t, v))
      ORDER BY grouping(t) DESC, grouping(v) DESC, t, v`.execute(db);
    for (const r of rows.rows) {
      const numerator = Math.max(0, r.d - r.s);
      const rate = r.d > 0 ? numerator / r.d : null;
      out.push({
        indicator: id,
        level: r.gt ? 'county' : r.gv ? 'township' : 'village',
        township: r.gt ? null : r.township,
        village: r.gt || r.gv ? null : r.village,
        numerator,
        denominator: r.d,
        rate,
        target: targets[id],
        status: statusOf(rate, targets[id], targets.risk_margin),
      });
    }
  }
  return { rows: out, unmeasured };
}
