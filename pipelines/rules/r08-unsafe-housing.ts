import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { housing } from '../feeds/housing.ts';
import { enumLabel, focusHouseholds } from './common.ts';

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
  params: Params,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '户主姓名', from: 'finding' },
    { key: 'id_number', label: '户主身份证号', from: 'finding' },
    { key: 'safety_grade', label: '房屋安全等级', from: 'details' },
    { key: 'renovation_status', label: '改造状态', from: 'details' },
    { key: 'assessed_on', label: '鉴定日期', from: 'details' },
  ],
  population: (db) =>
    db
      .selectFrom('roster as r')
      .select(sql<number>`count(DISTINCT r.household_id)::int`.as('n'))
      .where('r.valid_to', 'is', null),
  findings: (db, { params }) =>
    db
      .selectFrom('housing as x')
      .innerJoin('roster as r', (j) =>
        j.onRef('r.id_number', '=', 'x.head_id_number').on('r.valid_to', 'is', null),
      )
      .innerJoin(focusHouseholds(db).as('h'), 'h.household_id', 'r.household_id')
      .where('x.valid_to', 'is', null)
      .where('x.safety_grade', 'in', params.unsafe_grades)
      .where((eb) =>
        eb.or([eb('x.renovation_status', 'is', null), eb('x.renovation_status', '<>', 'completed')]),
      )
      .distinctOn('h.household_id')
      .orderBy('h.household_id')
      .orderBy('x.safety_grade', 'desc')
      .select([
        'h.household_id as subject_key',
        'h.head_id as id_number',
        'h.household_id',
        'h.head_name as name',
        'h.township',
        'h.village',
        sql<Record<string, string | null>>`jsonb_build_object(
          'safety_grade', x.safety_grade || '级',
          'renovation_status', coalesce(${enumLabel(housing, 'renovation_status', 'x.renovation_status')}, '未填报'),
          'assessed_on', x.assessed_on::text)`.as('details'),
      ]),
});
