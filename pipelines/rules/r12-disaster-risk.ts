import { sql } from 'kysely';
import { z } from 'zod';
import { disasters } from '../feeds/disasters.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import { countRosterHouseholds, FOCUS_HOUSEHOLD_FIELDS, focusHouseholds } from './common.ts';
import { details, HOUSEHOLD, householdFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

const Params = z
  .object({
    /** Direct economic loss (yuan) of one disaster above which the household is reported. */
    threshold: z.number().positive().default(5_000),
    window_months: z.number().int().min(1).max(24).default(6),
  })
  .strict();

/**
 * R12 受灾返贫风险: a focus household (matched by the head's ID on any current member) hit by a disaster with
 * a direct loss above the threshold in the trailing six months.
 */
export const r12 = defineRule({
  id: 'R12',
  name: '受灾返贫风险',
  nameEn: 'disaster risk',
  owner: '乡村振兴局',
  subjectKind: 'household',
  requires: ['roster', 'disasters'],
  deadlineDays: 15,
  processing: {
    duty: '防止因灾返贫：对受灾农户及时救助，有返贫致贫风险的纳入监测和帮扶（《自然灾害救助条例》《中华人民共和国乡村振兴促进法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...FOCUS_HOUSEHOLD_FIELDS]),
      read(disasters, ['head_id_number', 'disaster_type', 'hit_on', 'loss']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: Params,
  disclosed: [
    ...HOUSEHOLD,
    ...details({ disaster_type: '灾种', hit_on: '受灾日期', loss: '直接经济损失(元)' }),
  ],
  population: countRosterHouseholds,
  findings: (db, { asOf, params }) =>
    db
      .selectFrom('disasters as x')
      .innerJoin('roster as r', (j) => j.onRef('r.id_number', '=', 'x.head_id_number').on(validAt('r', asOf)))
      .innerJoin(focusHouseholds(db, asOf).as('h'), 'h.household_id', 'r.household_id')
      .where(validAt('x', asOf))
      .where(sql<boolean>`x.hit_on > ${asOf}::date - make_interval(months => ${params.window_months})`)
      .where('x.hit_on', '<=', asOf)
      .where(sql<boolean>`x.loss > ${params.threshold}`)
      // the largest loss is the one shown; of equal losses the latest (then by kind), so that the finding does
      // not depend on the order the rows happen to be read in
      .distinctOn('h.household_id')
      .orderBy('h.household_id')
      .orderBy('x.loss', 'desc')
      .orderBy('x.hit_on', 'desc')
      .orderBy('x.disaster_type')
      .select([
        ...householdFinding('h'),
        sql<Record<string, string | null>>`jsonb_build_object(
          'disaster_type', x.disaster_type, 'hit_on', x.hit_on::text, 'loss', x.loss)`.as('details'),
      ]),
});
