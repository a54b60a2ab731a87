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
  params: SchoolAgeParams,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '姓名', from: 'finding' },
    { key: 'id_number', label: '身份证号', from: 'finding' },
    { key: 'birth_date', label: '出生日期', from: 'details' },
    { key: 'roll_status', label: '学籍状态', from: 'details' },
    { key: 'school_name', label: '学校名称', from: 'details' },
    { key: 'problem', label: '问题', from: 'details' },
  ],
  population: (db, { asOf, params }) => {
    const w = compulsoryBirthWindow(asOf, params);
    return db
      .selectFrom('roster as p')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('p.valid_to', 'is', null)
      .where(birthDigits('p.id_number'), '>', w.bornAfter)
      .where(birthDigits('p.id_number'), '<=', w.bornBy);
  },
  findings: (db, { asOf, params }) => {
    const w = compulsoryBirthWindow(asOf, params);
    return db
      .selectFrom('roster as p')
      .leftJoin('student_roll as s', (j) =>
        j.onRef('s.id_number', '=', 'p.id_number').on('s.valid_to', 'is', null),
      )
      .where('p.valid_to', 'is', null)
      .where(birthDigits('p.id_number'), '>', w.bornAfter)
      .where(birthDigits('p.id_number'), '<=', w.bornBy)
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where((eb) =>
        eb.or([
          eb('s.status', '=', 'dropped_out'),
          eb.and([
            eb.or([eb('s.status', 'is', null), eb('s.status', '<>', 'enrolled')]),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('home_schooling as h')
                  .select(sql`1`.as('one'))
                  .whereRef('h.id_number', '=', 'p.id_number')
                  .where('h.valid_to', 'is', null),
              ),
            ),
          ]),
        ]),
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
          'roll_status', ${enumLabel(studentRoll, 'status', 's.status')},
          'school_name', s.school_name,
          'problem', CASE WHEN s.status = 'dropped_out' THEN '学籍状态为辍学'
                          WHEN s.status IS NULL THEN '无学籍记录'
                          ELSE '学籍状态非在读' END)`.as('details'),
      ]);
  },
});
