import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { assistance } from '../feeds/assistance.ts';
import { birthDate, enumLabel } from './common.ts';

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
  params: z.object({}).strict(),
  disclosed: [
    { key: 'name', label: '姓名', from: 'finding' },
    { key: 'id_number', label: '身份证号', from: 'finding' },
    { key: 'birth_date', label: '出生日期', from: 'details' },
    { key: 'aid_type', label: '救助类型', from: 'details' },
    { key: 'started_on', label: '开始日期', from: 'details' },
  ],
  population: (db, { asOf }) =>
    db
      .selectFrom('assistance as a')
      .select(sql<number>`count(DISTINCT a.id_number)::int`.as('n'))
      .where('a.valid_to', 'is', null)
      .where('a.aid_type', 'in', ['minimum_living', 'extreme_poverty'])
      .where('a.status', '=', 'active')
      .where((eb) => eb.or([eb('a.ended_on', 'is', null), eb('a.ended_on', '>=', asOf)])),
  findings: (db, { asOf }) =>
    db
      .selectFrom('assistance as a')
      .where('a.valid_to', 'is', null)
      .where('a.aid_type', 'in', ['minimum_living', 'extreme_poverty'])
      .where('a.status', '=', 'active')
      .where((eb) => eb.or([eb('a.ended_on', 'is', null), eb('a.ended_on', '>=', asOf)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('roster as r')
              .select(sql`1`.as('one'))
              .where('r.valid_to', 'is', null)
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
        'a.id_number as subject_key',
        'a.id_number',
        sql<string | null>`NULL`.as('household_id'),
        sql<string>`min(a.name)`.as('name'),
        sql<string | null>`NULL`.as('township'),
        sql<string | null>`NULL`.as('village'),
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'birth_date', ${birthDate('a.id_number')},
          'aid_type', string_agg(DISTINCT ${enumLabel(assistance, 'aid_type', 'a.aid_type')}, '、'),
          'started_on', min(a.started_on)::text)`.as('details'),
      ]),
});
