import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../src/warehouse/schema.ts';
import { assistance } from '../feeds/assistance.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import { birthDate, enumLabel } from './common.ts';
import { details, PERSON, recordFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

/** Active 低保/特困 support at the reference date, aliased `a` (or `a2`). */
const activeSafetyNet = (db: Kysely<Database>, asOf: string, alias: 'a' | 'a2' = 'a') =>
  db
    .selectFrom(`assistance as ${alias}`)
    .where(validAt(alias, asOf))
    .where(`${alias}.aid_type`, 'in', ['minimum_living', 'extreme_poverty'])
    .where(`${alias}.status`, '=', 'active')
    .where((eb) => eb.or([eb(`${alias}.ended_on`, 'is', null), eb(`${alias}.ended_on`, '>=', asOf)]));

/**
 * R06 低收入人口未纳入监测: an active 低保/特困 recipient whose household is in neither the alleviated nor the
 * monitored roster — neither the recipient nor the head of household named by 民政局 is on it.
 */
export const r06 = defineRule({
  id: 'R06',
  name: '低收入人口未纳入监测',
  nameEn: 'assistance recipient not monitored',
  owner: '乡村振兴局',
  subjectKind: 'person',
  requires: ['roster', 'assistance'],
  deadlineDays: 30,
  processing: {
    duty: '防止返贫动态监测和帮扶：将低保、特困等农村低收入人口纳入易返贫致贫人口监测范围（《中华人民共和国乡村振兴促进法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, ['id_number']),
      read(assistance, [
        'id_number',
        'head_id_number',
        'name',
        'aid_type',
        'status',
        'started_on',
        'ended_on',
      ]),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: z.object({}).strict(),
  disclosed: [
    ...PERSON,
    ...details({ birth_date: '出生日期', aid_type: '救助类型', started_on: '开始日期' }),
  ],
  population: (db, { asOf }) =>
    activeSafetyNet(db, asOf).select(sql<number>`count(DISTINCT a.id_number)::int`.as('n')),
  // "Neither the recipient nor the head is on the roster" as two anti-joins (LEFT JOIN … IS NULL), not one NOT
  // EXISTS on `r.id_number = a.id_number OR r.id_number = a.head_id_number`, which Citus refuses: on a cluster a
  // recipient's roster row shares its shard (both by ID), the head's does not. So the heads looked up are those of
  // the recipients not on the roster themselves, each once (GROUP BY: the workers send each distinct head, not
  // assistance's rows), and the roster rows of those heads come back to be anti-joined with. The same SQL on one
  // server: two anti-joins and a semi-join.
  findings: (db, { asOf }) => {
    // recipients (`a`, or `a2` in the heads' subquery, where `r` is that subquery's own) without a roster row
    const offRoster = (a: 'a' | 'a2') =>
      activeSafetyNet(db, asOf, a)
        .leftJoin('roster as r', (j) => j.onRef('r.id_number', '=', `${a}.id_number`).on(validAt('r', asOf)))
        .where('r.id_number', 'is', null);
    const headsOnRoster = db
      .selectFrom('roster as hr')
      .select('hr.id_number')
      .where(validAt('hr', asOf))
      .where(
        'hr.id_number',
        'in',
        offRoster('a2')
          .where('a2.head_id_number', 'is not', null)
          .groupBy('a2.head_id_number')
          .select('a2.head_id_number'),
      );
    return offRoster('a')
      .leftJoin(headsOnRoster.as('h'), 'h.id_number', 'a.head_id_number')
      .where('h.id_number', 'is', null)
      .groupBy('a.id_number')
      .select([
        ...recordFinding({ id: 'a.id_number', name: sql<string>`min(a.name)` }),
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('a.id_number')},
          'aid_type', string_agg(DISTINCT ${enumLabel(assistance, 'aid_type', 'a.aid_type')}, '、'),
          'started_on', min(a.started_on)::text)`.as('details'),
      ]);
  },
});
