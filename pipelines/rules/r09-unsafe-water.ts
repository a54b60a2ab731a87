import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { focusHouseholds } from './common.ts';

/** R09 饮水安全未保障: a focus household recorded by 水利局 as without safe drinking water. */
export const r09 = defineRule({
  id: 'R09',
  name: '饮水安全未保障',
  nameEn: 'unsafe water',
  owner: '水利局',
  subjectKind: 'household',
  requires: ['roster', 'water'],
  deadlineDays: 60,
  params: z.object({}).strict(),
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '户主姓名', from: 'finding' },
    { key: 'id_number', label: '户主身份证号', from: 'finding' },
    { key: 'problem_type', label: '问题类型', from: 'details' },
  ],
  population: (db) =>
    db
      .selectFrom('roster as r')
      .select(sql<number>`count(DISTINCT r.household_id)::int`.as('n'))
      .where('r.valid_to', 'is', null),
  findings: (db) =>
    db
      .selectFrom('water as x')
      .innerJoin('roster as r', (j) =>
        j.onRef('r.id_number', '=', 'x.head_id_number').on('r.valid_to', 'is', null),
      )
      .innerJoin(focusHouseholds(db).as('h'), 'h.household_id', 'r.household_id')
      .where('x.valid_to', 'is', null)
      .where('x.water_safe', '=', false)
      .groupBy(['h.household_id', 'h.head_id', 'h.head_name', 'h.township', 'h.village'])
      .select([
        'h.household_id as subject_key',
        'h.head_id as id_number',
        'h.household_id',
        'h.head_name as name',
        'h.township',
        'h.village',
        sql<Record<string, string | null>>`jsonb_build_object(
          'problem_type', coalesce(string_agg(DISTINCT x.problem_type, '、'), '饮水不安全'))`.as('details'),
      ]),
});
