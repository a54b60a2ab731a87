import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { insurance } from '../feeds/insurance.ts';
import { birthDate, enumLabel, isDead } from './common.ts';

const Params = z
  .object({
    /** Insurance year to check; default: the year of the reference date. */
    year: z.number().int().min(2000).max(2100).optional(),
  })
  .strict();

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
  params: Params,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '姓名', from: 'finding' },
    { key: 'id_number', label: '身份证号', from: 'finding' },
    { key: 'birth_date', label: '出生日期', from: 'details' },
    { key: 'insurance_year', label: '参保年度', from: 'details' },
    { key: 'status_this_year', label: '本年度参保状态', from: 'details' },
  ],
  population: (db) =>
    db.selectFrom('roster as p').select(sql<number>`count(*)::int`.as('n')).where('p.valid_to', 'is', null),
  findings: (db, { asOf, params }) => {
    const year = params.year ?? Number(asOf.slice(0, 4));
    const statusThisYear = db
      .selectFrom('insurance as i')
      .select(
        sql<string>`string_agg(${enumLabel(insurance, 'status', 'i.status')}, '、' ORDER BY i.status)`.as(
          's',
        ),
      )
      // correlated with the outer roster row
      .where('i.id_number', '=', sql.ref<string>('p.id_number'))
      .where('i.valid_to', 'is', null)
      .where('i.year', '=', year);
    return db
      .selectFrom('roster as p')
      .where('p.valid_to', 'is', null)
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('insurance as i')
              .select(sql`1`.as('one'))
              .whereRef('i.id_number', '=', 'p.id_number')
              .where('i.valid_to', 'is', null)
              .where('i.year', '=', year)
              .where('i.status', '=', 'active'),
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
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('p.id_number')},
          'insurance_year', ${year}::int,
          'status_this_year', coalesce((${statusThisYear}), '未参保'))`.as('details'),
      ]);
  },
});
