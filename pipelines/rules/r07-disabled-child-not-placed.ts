import { sql } from 'kysely';
import { defineRule } from '../../schemas/rule.ts';
import { studentRoll } from '../feeds/student-roll.ts';
import {
  birthDate,
  birthDigits,
  compulsoryBirthWindow,
  enumLabel,
  isDead,
  SchoolAgeParams,
} from './common.ts';

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
  params: SchoolAgeParams,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '姓名', from: 'finding' },
    { key: 'id_number', label: '身份证号', from: 'finding' },
    { key: 'birth_date', label: '出生日期', from: 'details' },
    { key: 'disability_category', label: '残疾类别', from: 'details' },
    { key: 'roll_status', label: '学籍状态', from: 'details' },
  ],
  population: (db, { asOf, params }) => {
    const w = compulsoryBirthWindow(asOf, params);
    return db
      .selectFrom('roster as p')
      .innerJoin('disability as d', (j) =>
        j
          .onRef('d.id_number', '=', 'p.id_number')
          .on('d.valid_to', 'is', null)
          // a certificate without a status column is taken as valid; only a revoked one does not count
          .on((eb) => eb.or([eb('d.cert_status', 'is', null), eb('d.cert_status', '=', 'valid')])),
      )
      .select(sql<number>`count(*)::int`.as('n'))
      .where('p.valid_to', 'is', null)
      .where(birthDigits('p.id_number'), '>', w.bornAfter)
      .where(birthDigits('p.id_number'), '<=', w.bornBy);
  },
  findings: (db, { asOf, params }) => {
    const w = compulsoryBirthWindow(asOf, params);
    return db
      .selectFrom('roster as p')
      .innerJoin('disability as d', (j) =>
        j
          .onRef('d.id_number', '=', 'p.id_number')
          .on('d.valid_to', 'is', null)
          // a certificate without a status column is taken as valid; only a revoked one does not count
          .on((eb) => eb.or([eb('d.cert_status', 'is', null), eb('d.cert_status', '=', 'valid')])),
      )
      .leftJoin('student_roll as s', (j) =>
        j.onRef('s.id_number', '=', 'p.id_number').on('s.valid_to', 'is', null),
      )
      .where('p.valid_to', 'is', null)
      .where(birthDigits('p.id_number'), '>', w.bornAfter)
      .where(birthDigits('p.id_number'), '<=', w.bornBy)
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where((eb) => eb.or([eb('s.status', 'is', null), eb('s.status', '<>', 'enrolled')]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('home_schooling as h')
              .select(sql`1`.as('one'))
              .whereRef('h.id_number', '=', 'p.id_number')
              .where('h.valid_to', 'is', null),
          ),
        ),
      )
      .select([
        'p.id_number as subject_key',
        'p.id_number',
        'p.household_id',
        'p.name',
        'p.township',
        'p.village',
        sql<Record<string, string | null>>`jsonb_build_object(
          'birth_date', ${birthDate('p.id_number')},
          'disability_category', d.category,
          'roll_status', coalesce(${enumLabel(studentRoll, 'status', 's.status')}, '无学籍记录'))`.as(
          'details',
        ),
      ]);
  },
});
