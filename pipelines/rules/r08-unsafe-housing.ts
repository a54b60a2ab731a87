import { sql } from 'kysely';
import { z } from 'zod';
import { housing } from '../feeds/housing.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import { countRosterHouseholds, enumLabel, FOCUS_HOUSEHOLD_FIELDS, focusHouseholds } from './common.ts';
import { details, HOUSEHOLD, householdFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

const Params = z
  .object({
    /** Safety grades that require renovation. */
    unsafe_grades: z.array(z.enum(['A', 'B', 'C', 'D'])).default(['C', 'D']),
  })
  .strict();

/**
 * R08 住房安全未保障: a focus household whose house (registered under any current member's ID, normally the
 * head's) is graded C or D and not 已竣工.
 */
export const r08 = defineRule({
  id: 'R08',
  name: '住房安全未保障',
  nameEn: 'unsafe housing',
  owner: '住建局',
  subjectKind: 'household',
  requires: ['roster', 'housing'],
  deadlineDays: 60,
  processing: {
    duty: '住房安全有保障：对农村低收入群体等重点对象中鉴定为危房的住房实施改造（住房和城乡建设部门职责；巩固拓展脱贫攻坚成果，《中华人民共和国乡村振兴促进法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...FOCUS_HOUSEHOLD_FIELDS]),
      read(housing, ['head_id_number', 'safety_grade', 'renovation_status', 'assessed_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: Params,
  disclosed: [
    ...HOUSEHOLD,
    ...details({ safety_grade: '房屋安全等级', renovation_status: '改造状态', assessed_on: '鉴定日期' }),
  ],
  population: countRosterHouseholds,
  findings: (db, { asOf, params }) =>
    db
      .selectFrom('housing as x')
      .innerJoin('roster as r', (j) => j.onRef('r.id_number', '=', 'x.head_id_number').on(validAt('r', asOf)))
      .innerJoin(focusHouseholds(db, asOf).as('h'), 'h.household_id', 'r.household_id')
      .where(validAt('x', asOf))
      .where('x.safety_grade', 'in', params.unsafe_grades)
      .where((eb) =>
        eb.or([eb('x.renovation_status', 'is', null), eb('x.renovation_status', '<>', 'completed')]),
      )
      .distinctOn('h.household_id')
      .orderBy('h.household_id')
      .orderBy('x.safety_grade', 'desc')
      // two members' houses of one grade: the latest assessed, then by ID, whatever order the rows are read in
      .orderBy(sql`x.assessed_on DESC NULLS LAST`)
      .orderBy('x.head_id_number')
      .select([
        ...householdFinding('h'),
        sql<Record<string, string | null>>`jsonb_build_object(
          'safety_grade', x.safety_grade || '级',
          'renovation_status', coalesce(${enumLabel(housing, 'renovation_status', 'x.renovation_status')}, '未填报'),
          'assessed_on', x.assessed_on::text)`.as('details'),
      ]),
});
