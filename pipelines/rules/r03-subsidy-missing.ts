import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/warehouse/schema.ts';
import { validAt } from './as-of.ts';
import { birthDate, hasSafetyNet, InsuranceYearParams, insuranceYear } from './common.ts';
import { details, PERSON_IN_PLACE, personFinding } from './disclose.ts';
import { defineRule } from './rule.ts';

/** Resident-scheme enrollments (`i`) for the insurance year. */
const residentEnrollments = (db: Kysely<Database>, asOf: string, year: number) =>
  db
    .selectFrom('insurance as i')
    .where(validAt('i', asOf))
    .where('i.year', '=', year)
    .where('i.scheme', '=', 'resident');

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
  params: InsuranceYearParams,
  disclosed: [
    ...PERSON_IN_PLACE,
    ...details({ birth_date: '出生日期', insurance_year: '参保年度', entitlement: '资助身份' }),
  ],
  population: (db, { asOf, params }) =>
    residentEnrollments(db, asOf, insuranceYear(asOf, params)).select(
      sql<number>`count(DISTINCT i.id_number)::int`.as('n'),
    ),
  findings: (db, { asOf, params }) => {
    const year = insuranceYear(asOf, params);
    return residentEnrollments(db, asOf, year)
      .leftJoin('roster as p', (j) => j.onRef('p.id_number', '=', 'i.id_number').on(validAt('p', asOf)))
      .where('i.status', '=', 'active')
      .where('i.subsidy_category', 'is', null)
      .where((eb) => eb.or([eb('p.household_type', '=', 'monitored'), hasSafetyNet('i.id_number', asOf)]))
      .select([
        ...personFinding('p', { id: 'i.id_number', name: sql<string>`coalesce(p.name, i.name)` }),
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('i.id_number')},
          'insurance_year', ${year}::int,
          'entitlement', concat_ws('、',
            CASE WHEN p.household_type = 'monitored' THEN '监测对象' END,
            CASE WHEN ${hasSafetyNet('i.id_number', asOf)} THEN '低保/特困' END))`.as('details'),
      ]);
  },
});
