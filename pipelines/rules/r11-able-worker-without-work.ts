import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../src/warehouse/schema.ts';
import { deaths } from '../feeds/deaths.ts';
import { disability } from '../feeds/disability.ts';
import { employment } from '../feeds/employment.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import {
  birthDate,
  birthDigits,
  countRows,
  currentRoster,
  enumLabel,
  isAbleWorker,
  isDead,
  WorkerParams,
  yearsBefore,
} from './common.ts';
import { details, PERSON_FINDING_FIELDS, PERSON_IN_HOUSEHOLD, personFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

const Params = WorkerParams.extend({
  min_age: z.number().int().min(14).max(20).default(16),
  max_age: z.number().int().min(45).max(70).default(60),
  window_months: z.number().int().min(1).max(36).default(12),
}).strict();

/** Monitored persons on the roster (`p`) of working age at the reference date. */
const workingAgeMonitored = (db: Kysely<Database>, asOf: string, params: z.infer<typeof Params>) =>
  currentRoster(db, asOf)
    .where('p.household_type', '=', 'monitored')
    // age ≥ min: born on or before asOf − min years; age ≤ max: born after asOf − (max + 1) years
    .where(birthDigits('p.id_number'), '<=', yearsBefore(asOf, params.min_age))
    .where(birthDigits('p.id_number'), '>', yearsBefore(asOf, params.max_age + 1));

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
  processing: {
    duty: '就业帮扶：为有劳动能力的监测对象提供就业服务和职业技能培训（《中华人民共和国就业促进法》；防止返贫动态监测和帮扶，《中华人民共和国乡村振兴促进法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...PERSON_FINDING_FIELDS, 'household_type', 'labor_capacity']),
      read(employment, ['id_number', 'employment_status', 'registered_on', 'training_ended_on']),
      read(disability, ['id_number', 'grade', 'cert_status']),
      read(deaths, ['id_number', 'died_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: Params,
  disclosed: [...PERSON_IN_HOUSEHOLD, ...details({ birth_date: '出生日期', labor_capacity: '劳动技能' })],
  population: (db, { asOf, params }) => workingAgeMonitored(db, asOf, params).select(countRows),
  findings: (db, { asOf, params }) => {
    const since = sql`${asOf}::date - make_interval(months => ${params.window_months})`;
    return workingAgeMonitored(db, asOf, params)
      .where(isAbleWorker('p', asOf, params))
      .where(sql<boolean>`NOT ${isDead('p.id_number', asOf)}`)
      .where(
        sql<boolean>`NOT EXISTS (SELECT 1 FROM employment e WHERE e.id_number = p.id_number AND ${validAt('e', asOf)}
          AND ((e.employment_status = 'employed' AND e.registered_on > ${since} AND e.registered_on <= ${asOf}::date)
            OR (e.training_ended_on > ${since} AND e.training_ended_on <= ${asOf}::date)))`,
      )
      .select([
        ...personFinding('p'),
        sql<Record<string, string | null>>`jsonb_build_object(
          'birth_date', ${birthDate('p.id_number')},
          'labor_capacity', ${enumLabel(roster, 'labor_capacity', 'p.labor_capacity')})`.as('details'),
      ]);
  },
});
