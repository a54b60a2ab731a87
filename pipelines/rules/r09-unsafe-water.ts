import { sql } from 'kysely';
import { z } from 'zod';
import { roster } from '../feeds/roster.ts';
import { water } from '../feeds/water.ts';
import { validAt } from './as-of.ts';
import { countRosterHouseholds, FOCUS_HOUSEHOLD_FIELDS, focusHouseholds } from './common.ts';
import { details, HOUSEHOLD, householdFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

/** R09 饮水安全未保障: a focus household recorded by 水利局 as without safe drinking water. */
export const r09 = defineRule({
  id: 'R09',
  name: '饮水安全未保障',
  nameEn: 'unsafe water',
  owner: '水利局',
  subjectKind: 'household',
  requires: ['roster', 'water'],
  deadlineDays: 60,
  processing: {
    duty: '饮水安全有保障：农村供水保障（水利部门职责；巩固拓展脱贫攻坚成果，《中华人民共和国乡村振兴促进法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...FOCUS_HOUSEHOLD_FIELDS]),
      read(water, ['head_id_number', 'water_safe', 'problem_type']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: z.object({}).strict(),
  disclosed: [...HOUSEHOLD, ...details({ problem_type: '问题类型' })],
  population: countRosterHouseholds,
  findings: (db, { asOf }) =>
    db
      .selectFrom('water as x')
      .innerJoin('roster as r', (j) => j.onRef('r.id_number', '=', 'x.head_id_number').on(validAt('r', asOf)))
      .innerJoin(focusHouseholds(db, asOf).as('h'), 'h.household_id', 'r.household_id')
      .where(validAt('x', asOf))
      .where('x.water_safe', '=', false)
      .groupBy(['h.household_id', 'h.head_id', 'h.head_name', 'h.township', 'h.village'])
      .select([
        ...householdFinding('h'),
        sql<Record<string, string | null>>`jsonb_build_object(
          'problem_type', coalesce(string_agg(DISTINCT x.problem_type, '、'), '饮水不安全'))`.as('details'),
      ]),
});
