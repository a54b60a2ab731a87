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

/** Active 低保/特困 support at the reference date, aliased `a`. */
const activeSafetyNet = (db: Kysely<Database>, asOf: string) =>
  db
    .selectFrom('assistance as a')
    .where(validAt('a', asOf))
    .where('a.aid_type', 'in', ['minimum_living', 'extreme_poverty'])
    .where('a.status', '=', 'active')
    .where((eb) => eb.or([eb('a.ended_on', 'is', null), eb('a.ended_on', '>=', asOf)]));

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
  findings: (db, { asOf }) =>
    activeSafetyNet(db, asOf)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('roster as r')
              .select(sql`1`.as('one'))
              .where(validAt('r', asOf))
              .where((eb) =>
                eb.or([
                  eb('r.id_number', '=', eb.ref('a.id_number')),
                  eb('r.id_number', '=', eb.ref('a.head_id_number')),
                ]),
              ),
          ),
        ),
      )
      .groupBy('a.id_number')
      .select([
        ...recordFinding({ id: 'a.id_number', name: sql<string>`min(a.name)` }),
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('a.id_number')},
          'aid_type', string_agg(DISTINCT ${enumLabel(assistance, 'aid_type', 'a.aid_type')}, '、'),
          'started_on', min(a.started_on)::text)`.as('details'),
      ]),
});
