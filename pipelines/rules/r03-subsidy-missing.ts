import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/warehouse/schema.ts';
import { assistance } from '../feeds/assistance.ts';
import { insurance } from '../feeds/insurance.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import { birthDate, hasSafetyNet, InsuranceYearParams, insuranceYear } from './common.ts';
import { details, PERSON_FINDING_FIELDS, PERSON_IN_PLACE, personFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

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
  processing: {
    duty: '医疗救助资助参保：对最低生活保障家庭成员、特困供养人员等参加城乡居民基本医疗保险的个人缴费给予资助，监测对象按规定分类资助（《社会救助暂行办法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...PERSON_FINDING_FIELDS, 'household_type']),
      read(insurance, ['id_number', 'name', 'scheme', 'year', 'status', 'subsidy_category']),
      read(assistance, ['id_number', 'aid_type', 'status', 'ended_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
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
