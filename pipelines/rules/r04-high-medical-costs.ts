import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../src/warehouse/schema.ts';
import { roster } from '../feeds/roster.ts';
import { settlements } from '../feeds/settlements.ts';
import { validAt } from './as-of.ts';
import { FOCUS_HOUSEHOLD_FIELDS, focusHouseholds } from './common.ts';
import { details, PERSON_IN_PLACE, personFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

const Params = z
  .object({
    /** Out-of-pocket total (yuan) over the window above which a person is reported. */
    threshold: z.number().positive().default(10_000),
    /**
     * Where the household's annual income is known (the person is on the roster), the threshold is this share
     * of it instead; null disables the income-based threshold.
     */
    income_share: z.number().positive().max(10).nullable().default(0.5),
    window_months: z.number().int().min(1).max(36).default(12),
  })
  .strict();

/** Settlements (`s`) within the trailing window of the reference date. */
const settledInWindow = (db: Kysely<Database>, asOf: string, windowMonths: number) =>
  db
    .selectFrom('settlements as s')
    .where(validAt('s', asOf))
    .where(sql<boolean>`s.settled_on > ${asOf}::date - make_interval(months => ${windowMonths})`)
    .where('s.settled_on', '<=', asOf);

/**
 * R04 高额医疗费用预警: a person not in a monitored household whose out-of-pocket medical costs over the
 * trailing window exceed the threshold (¥10,000 by default, or half the household's annual income where it is
 * known): a candidate for monitoring before the costs push the household back into poverty.
 */
export const r04 = defineRule({
  id: 'R04',
  name: '高额医疗费用预警',
  nameEn: 'catastrophic out-of-pocket costs',
  owner: '乡村振兴局',
  subjectKind: 'person',
  requires: ['settlements'],
  uses: ['roster'],
  deadlineDays: 15,
  processing: {
    duty: '防止返贫动态监测和帮扶：及时发现因病导致医疗费用负担较重、有返贫致贫风险的人口，纳入监测和帮扶（《中华人民共和国乡村振兴促进法》）；医疗救助（《社会救助暂行办法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(settlements, ['id_number', 'name', 'settled_on', 'out_of_pocket']),
      read(roster, [...FOCUS_HOUSEHOLD_FIELDS]),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: Params,
  disclosed: [
    ...PERSON_IN_PLACE,
    ...details({
      out_of_pocket: '近12个月个人自付(元)',
      settlements: '结算次数',
      threshold: '预警线(元)',
      household_status: '户类型',
    }),
  ],
  population: (db, { asOf, params }) =>
    settledInWindow(db, asOf, params.window_months).select(
      sql<number>`count(DISTINCT s.id_number)::int`.as('n'),
    ),
  findings: (db, { asOf, params }) => {
    const costs = settledInWindow(db, asOf, params.window_months)
      .groupBy('s.id_number')
      .select([
        's.id_number',
        sql<string>`(array_agg(s.name ORDER BY s.settled_on DESC))[1]`.as('name'),
        sql<string>`sum(s.out_of_pocket)`.as('oop'),
        sql<number>`count(*)::int`.as('n'),
      ]);
    const threshold = sql<string>`CASE WHEN ${params.income_share}::numeric IS NOT NULL AND h.annual_income IS NOT NULL
      THEN round(h.annual_income * ${params.income_share}::numeric, 2) ELSE ${params.threshold}::numeric END`;
    return db
      .selectFrom(costs.as('c'))
      .leftJoin('roster as p', (j) => j.onRef('p.id_number', '=', 'c.id_number').on(validAt('p', asOf)))
      .leftJoin(focusHouseholds(db, asOf).as('h'), 'h.household_id', 'p.household_id')
      .where((eb) => eb.or([eb('h.monitored', 'is', null), eb('h.monitored', '=', false)]))
      .where(sql<boolean>`c.oop > ${threshold}`)
      .select([
        ...personFinding('p', { id: 'c.id_number', name: sql<string>`coalesce(p.name, c.name)` }),
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'out_of_pocket', c.oop, 'settlements', c.n, 'threshold', ${threshold},
          'household_status', CASE WHEN p.household_id IS NULL THEN '非监测对象' ELSE '脱贫户' END)`.as(
          'details',
        ),
      ]);
  },
});
