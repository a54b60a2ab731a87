import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { birthDate, hasSafetyNet } from './common.ts';

const Params = z
  .object({
    /** Insurance year to check; default: the year of the reference date. */
    year: z.number().int().min(2000).max(2100).optional(),
  })
  .strict();

/**
 * R03 资助参保未落实: a monitored person, or an active 低保/特困 recipient, enrolled in resident insurance for
 * the current year without a 资助类别 (the premium subsidy their status entitles them to).
 */
export const r03 = defineRule({
  id: 'R03',
  name: '资助参保未落实',
  nameEn: 'insurance subsidy missing',
  owner: '医保局',
  subjectKind: 'person',
  requires: ['roster', 'insurance', 'assistance'],
  deadlineDays: 30,
  params: Params,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'name', label: '姓名', from: 'finding' },
    { key: 'id_number', label: '身份证号', from: 'finding' },
    { key: 'birth_date', label: '出生日期', from: 'details' },
    { key: 'insurance_year', label: '参保年度', from: 'details' },
    { key: 'entitlement', label: '资助身份', from: 'details' },
  ],
  population: (db, { asOf, params }) =>
    db
      .selectFrom('insurance as i')
      .select(sql<number>`count(DISTINCT i.id_number)::int`.as('n'))
      .where('i.valid_to', 'is', null)
      .where('i.year', '=', params.year ?? Number(asOf.slice(0, 4)))
      .where('i.scheme', '=', 'resident'),
  findings: (db, { asOf, params }) => {
    const year = params.year ?? Number(asOf.slice(0, 4));
    return db
      .selectFrom('insurance as i')
      .leftJoin('roster as p', (j) => j.onRef('p.id_number', '=', 'i.id_number').on('p.valid_to', 'is', null))
      .where('i.valid_to', 'is', null)
      .where('i.year', '=', year)
      .where('i.scheme', '=', 'resident')
      .where('i.status', '=', 'active')
      .where('i.subsidy_category', 'is', null)
      .where((eb) => eb.or([eb('p.household_type', '=', 'monitored'), hasSafetyNet('i.id_number', asOf)]))
      .select([
        'i.id_number as subject_key',
        'i.id_number',
        'p.household_id',
        sql<string>`coalesce(p.name, i.name)`.as('name'),
        'p.township',
        'p.village',
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('i.id_number')},
          'insurance_year', ${year}::int,
          'entitlement', concat_ws('、',
            CASE WHEN p.household_type = 'monitored' THEN '监测对象' END,
            CASE WHEN ${hasSafetyNet('i.id_number', asOf)} THEN '低保/特困' END))`.as('details'),
      ]);
  },
});
