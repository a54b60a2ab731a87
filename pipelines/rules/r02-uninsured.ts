import { sql } from 'kysely';
import { deaths } from '../feeds/deaths.ts';
import { insurance } from '../feeds/insurance.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import {
  birthDate,
  countRows,
  currentRoster,
  enumLabel,
  InsuranceYearParams,
  insuranceYear,
  isDead,
} from './common.ts';
import { details, PERSON_FINDING_FIELDS, PERSON_IN_HOUSEHOLD, personFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

/**
 * R02 未参加基本医疗保险: a living focus person (no death record on or before the reference date) with no 正常参保 enrollment (resident or employee scheme) for the
 * current insurance year. A suspended or terminated enrollment is shown on the list as the reason.
 */
export const r02 = defineRule({
  id: 'R02',
  name: '未参加基本医疗保险',
  nameEn: 'uninsured',
  owner: '医保局',
  subjectKind: 'person',
  requires: ['roster', 'insurance'],
  uses: ['deaths'],
  deadlineDays: 30,
  processing: {
    duty: '基本医疗保险参保全覆盖：医疗保障部门推动农村低收入人口和脱贫人口应保尽保（《中华人民共和国社会保险法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...PERSON_FINDING_FIELDS]),
      read(insurance, ['id_number', 'year', 'status']),
      read(deaths, ['id_number', 'died_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: InsuranceYearParams,
  disclosed: [
    ...PERSON_IN_HOUSEHOLD,
    ...details({ birth_date: '出生日期', insurance_year: '参保年度', status_this_year: '本年度参保状态' }),
  ],
  population: (db, { asOf }) => currentRoster(db, asOf).select(countRows),
  findings: (db, { asOf, params }) => {
    const year = insuranceYear(asOf, params);
    // Each person's statuses for the year, once, joined by hash: a correlated subquery per roster row would
    // look insurance up per person, which only an index over every version could serve (measured: 89–127 s at
    // 20k persons reading the versions valid at the date without one).
    const thisYear = db
      .selectFrom('insurance as i')
      .select([
        'i.id_number',
        sql<string>`string_agg(${enumLabel(insurance, 'status', 'i.status')}, '、' ORDER BY i.status)`.as(
          'statuses',
        ),
        sql<boolean>`bool_or(i.status = 'active')`.as('active'),
      ])
      .where(validAt('i', asOf))
      .where('i.year', '=', year)
      .groupBy('i.id_number');
    return currentRoster(db, asOf)
      .leftJoin(thisYear.as('y'), 'y.id_number', 'p.id_number')
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where(sql<boolean>`y.active IS NOT TRUE`)
      .select([
        ...personFinding('p'),
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('p.id_number')},
          'insurance_year', ${year}::int,
          'status_this_year', coalesce(y.statuses, '未参保'))`.as('details'),
      ]);
  },
});
