import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { roster } from '../feeds/roster.ts';
import {
  birthDate,
  birthDigits,
  enumLabel,
  isAbleWorker,
  isDead,
  WorkerParams,
  yearsBefore,
} from './common.ts';

const Params = WorkerParams.extend({
  min_age: z.number().int().min(14).max(20).default(16),
  max_age: z.number().int().min(45).max(70).default(60),
  window_months: z.number().int().min(1).max(36).default(12),
}).strict();

/**
 * R11 有劳动力未就业: a living monitored person aged 16–60 at the reference date, an able worker, with neither an
 * employment record nor a finished training in the trailing 12 months.
 */
export const r11 = defineRule({
  id: 'R11',
  name: '有劳动力未就业',
  nameEn: 'able worker without work',
  owner: '人社局',
  subjectKind: 'person',
  requires: ['roster', 'employment'],
  uses: ['disability', 'deaths'],
  deadlineDays: 30,
  params: Params,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '姓名', from: 'finding' },
    { key: 'id_number', label: '身份证号', from: 'finding' },
    { key: 'birth_date', label: '出生日期', from: 'details' },
    { key: 'labor_capacity', label: '劳动技能', from: 'details' },
  ],
  population: (db, { asOf, params }) =>
    db
      .selectFrom('roster as p')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('p.valid_to', 'is', null)
      .where('p.household_type', '=', 'monitored')
      // age ≥ min: born on or before asOf − min years; age ≤ max: born after asOf − (max + 1) years
      .where(birthDigits('p.id_number'), '<=', yearsBefore(asOf, params.min_age))
      .where(birthDigits('p.id_number'), '>', yearsBefore(asOf, params.max_age + 1)),
  findings: (db, { asOf, params }) => {
    const since = sql`${asOf}::date - make_interval(months => ${params.window_months})`;
    return db
      .selectFrom('roster as p')
      .where('p.valid_to', 'is', null)
      .where('p.household_type', '=', 'monitored')
      .where(birthDigits('p.id_number'), '<=', yearsBefore(asOf, params.min_age))
      .where(birthDigits('p.id_number'), '>', yearsBefore(asOf, params.max_age + 1))
      .where(isAbleWorker('p', params))
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where(
        sql<boolean>`NOT EXISTS (SELECT 1 FROM employment e WHERE e.id_number = p.id_number AND e.valid_to IS NULL
          AND ((e.employment_status = 'employed' AND e.registered_on > ${since} AND e.registered_on <= ${asOf}::date)
            OR (e.training_ended_on > ${since} AND e.training_ended_on <= ${asOf}::date)))`,
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
          'labor_capacity', ${enumLabel(roster, 'labor_capacity', 'p.labor_capacity')})`.as('details'),
      ]);
  },
});
