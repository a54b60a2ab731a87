import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/warehouse/schema.ts';
import { deaths } from '../feeds/deaths.ts';
import { disability } from '../feeds/disability.ts';
import { homeSchooling as homeSchoolingList } from '../feeds/home-schooling.ts';
import { roster } from '../feeds/roster.ts';
import { studentRoll } from '../feeds/student-roll.ts';
import { validAt } from './as-of.ts';
import {
  birthDate,
  compulsoryAgeRoster,
  countRows,
  enumLabel,
  homeSchooling,
  isDead,
  SchoolAgeParams,
} from './common.ts';
import { details, PERSON_FINDING_FIELDS, PERSON_IN_HOUSEHOLD, personFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

/** Compulsory-age children on the roster (`p`) with a valid disability certificate (`d`). */
const disabledChildren = (db: Kysely<Database>, asOf: string, params: SchoolAgeParams) =>
  compulsoryAgeRoster(db, asOf, params).innerJoin('disability as d', (j) =>
    j
      .onRef('d.id_number', '=', 'p.id_number')
      .on(validAt('d', asOf))
      // a certificate without a status column is taken as valid; only a revoked one does not count
      .on((eb) => eb.or([eb('d.cert_status', 'is', null), eb('d.cert_status', '=', 'valid')])),
  );

/**
 * R07 适龄残疾儿童未安置: a compulsory-age focus child holding a valid disability certificate who is neither
 * 在读 on the student roll nor on the home-delivered schooling list.
 */
export const r07 = defineRule({
  id: 'R07',
  name: '适龄残疾儿童未安置',
  nameEn: 'disabled child not placed',
  owner: '教育局',
  subjectKind: 'person',
  requires: ['roster', 'student_roll', 'home_schooling', 'disability'],
  uses: ['deaths'],
  deadlineDays: 30,
  processing: {
    duty: '保障适龄残疾儿童、少年接受义务教育：入学安置或送教上门（《中华人民共和国义务教育法》《残疾人教育条例》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...PERSON_FINDING_FIELDS]),
      read(studentRoll, ['id_number', 'status']),
      read(homeSchoolingList, ['id_number']),
      read(disability, ['id_number', 'category', 'cert_status']),
      read(deaths, ['id_number', 'died_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'targeted',
  },
  params: SchoolAgeParams,
  disclosed: [
    ...PERSON_IN_HOUSEHOLD,
    ...details({ birth_date: '出生日期', disability_category: '残疾类别', roll_status: '学籍状态' }),
  ],
  population: (db, { asOf, params }) => disabledChildren(db, asOf, params).select(countRows),
  findings: (db, { asOf, params }) =>
    disabledChildren(db, asOf, params)
      .leftJoin('student_roll as s', (j) => j.onRef('s.id_number', '=', 'p.id_number').on(validAt('s', asOf)))
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where((eb) => eb.or([eb('s.status', 'is', null), eb('s.status', '<>', 'enrolled')]))
      .where(({ not, exists }) => not(exists(homeSchooling(db, 'p.id_number', asOf))))
      .select([
        ...personFinding('p'),
        sql<Record<string, string | null>>`jsonb_build_object(
          'birth_date', ${birthDate('p.id_number')},
          'disability_category', d.category,
          'roll_status', coalesce(${enumLabel(studentRoll, 'status', 's.status')}, '无学籍记录'))`.as(
          'details',
        ),
      ]),
});
