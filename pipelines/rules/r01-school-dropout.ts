import { sql } from 'kysely';
import { deaths } from '../feeds/deaths.ts';
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

/**
 * R01 义务教育阶段失学辍学: a focus person of compulsory-education age with no 在读 roll record and not on
 * the home-delivered list; or whose roll status is 辍学 (reported even if home-delivered: the roll says
 * dropped out, and the education bureau must reconcile the two).
 */
export const r01 = defineRule({
  id: 'R01',
  name: '义务教育阶段失学辍学',
  nameEn: 'school-age child not in school',
  owner: '教育局',
  subjectKind: 'person',
  requires: ['roster', 'student_roll', 'home_schooling'],
  uses: ['deaths'],
  deadlineDays: 30,
  processing: {
    duty: '控辍保学：组织和督促适龄儿童、少年入学，帮助解决其接受义务教育的困难，采取措施防止辍学（《中华人民共和国义务教育法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...PERSON_FINDING_FIELDS]),
      read(studentRoll, ['id_number', 'status', 'school_name']),
      read(homeSchoolingList, ['id_number']),
      read(deaths, ['id_number', 'died_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'targeted',
  },
  params: SchoolAgeParams,
  disclosed: [
    ...PERSON_IN_HOUSEHOLD,
    ...details({ birth_date: '出生日期', roll_status: '学籍状态', school_name: '学校名称', problem: '问题' }),
  ],
  population: (db, { asOf, params }) => compulsoryAgeRoster(db, asOf, params).select(countRows),
  findings: (db, { asOf, params }) =>
    compulsoryAgeRoster(db, asOf, params)
      .leftJoin('student_roll as s', (j) => j.onRef('s.id_number', '=', 'p.id_number').on(validAt('s', asOf)))
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where((eb) =>
        eb.or([
          eb('s.status', '=', 'dropped_out'),
          eb.and([
            eb.or([eb('s.status', 'is', null), eb('s.status', '<>', 'enrolled')]),
            eb.not(eb.exists(homeSchooling(db, 'p.id_number', asOf))),
          ]),
        ]),
      )
      .select([
        ...personFinding('p'),
        sql<Record<string, string | null>>`jsonb_build_object(
          'birth_date', ${birthDate('p.id_number')},
          'roll_status', ${enumLabel(studentRoll, 'status', 's.status')},
          'school_name', s.school_name,
          'problem', CASE WHEN s.status = 'dropped_out' THEN '学籍状态为辍学'
                          WHEN s.status IS NULL THEN '无学籍记录'
                          ELSE '学籍状态非在读' END)`.as('details'),
      ]),
});
