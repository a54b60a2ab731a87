import { sql } from 'kysely';
import { defineRule } from '../../schemas/rule.ts';
import { focusHouseholds, hasSafetyNet, isAbleWorker, isDead, WorkerParams } from './common.ts';

/**
 * R05 兜底保障未覆盖: a monitored household in which no living member is an able worker (labor capacity lost or
 * none, or a grade 1–2 disability) and no member has active 低保 or 特困 support.
 */
export const r05 = defineRule({
  id: 'R05',
  name: '兜底保障未覆盖',
  nameEn: 'safety net missing',
  owner: '民政局',
  subjectKind: 'household',
  requires: ['roster', 'assistance'],
  uses: ['disability', 'deaths'],
  deadlineDays: 30,
  params: WorkerParams,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '户主姓名', from: 'finding' },
    { key: 'id_number', label: '户主身份证号', from: 'finding' },
    { key: 'members', label: '家庭人口', from: 'details' },
    { key: 'problem', label: '问题', from: 'details' },
  ],
  population: (db) =>
    db
      .selectFrom('roster as r')
      .select(sql<number>`count(DISTINCT r.household_id)::int`.as('n'))
      .where('r.valid_to', 'is', null)
      .where('r.household_type', '=', 'monitored'),
  findings: (db, { asOf, params }) =>
    db
      .selectFrom(focusHouseholds(db).as('h'))
      .where('h.monitored', '=', true)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('roster as p')
              .select(sql`1`.as('one'))
              .whereRef('p.household_id', '=', 'h.household_id')
              .where('p.valid_to', 'is', null)
              // parenthesized: kysely does not wrap raw SQL, and the OR must not escape the correlation
              .where(sql<boolean>`((${isAbleWorker('p', params)} AND NOT ${isDead('p.id_number', asOf)})
                  OR ${hasSafetyNet('p.id_number', asOf)})`),
          ),
        ),
      )
      .select([
        'h.household_id as subject_key',
        'h.head_id as id_number',
        'h.household_id',
        'h.head_name as name',
        'h.township',
        'h.village',
        sql<Record<string, string | number | null>>`jsonb_build_object(
          'members', h.members, 'problem', '家庭无劳动能力成员且未纳入低保/特困')`.as('details'),
      ]),
});
