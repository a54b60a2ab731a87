import { sql } from 'kysely';
import { z } from 'zod';
import { defineRule } from '../../schemas/rule.ts';
import { focusHouseholds } from './common.ts';

const Params = z
  .object({
    /** Direct economic loss (yuan) of one disaster above which the household is reported. */
    threshold: z.number().positive().default(5_000),
    window_months: z.number().int().min(1).max(24).default(6),
  })
  .strict();

/**
 * R12 受灾返贫风险: a focus household (matched by the head's ID on any current member) hit by a disaster with
 * a direct loss above the threshold in the trailing six months.
 */
export const r12 = defineRule({
  id: 'R12',
  name: '受灾返贫风险',
  nameEn: 'disaster risk',
  owner: '乡村振兴局',
  subjectKind: 'household',
  requires: ['roster', 'disasters'],
  deadlineDays: 15,
  params: Params,
  disclosed: [
    { key: 'township', label: '乡镇', from: 'finding' },
    { key: 'village', label: '村', from: 'finding' },
    { key: 'household_id', label: '户编号', from: 'finding' },
    { key: 'name', label: '户主姓名', from: 'finding' },
    { key: 'id_number', label: '户主身份证号', from: 'finding' },
    { key: 'disaster_type', label: '灾种', from: 'details' },
    { key: 'hit_on', label: '受灾日期', from: 'details' },
    { key: 'loss', label: '直接经济损失(元)', from: 'details' },
  ],
  population: (db) =>
    db
      .selectFrom('roster as r')
      .select(sql<number>`count(DISTINCT r.household_id)::int`.as('n'))
      .where('r.valid_to', 'is', null),
  findings: (db, { asOf, params }) =>
    db
      .selectFrom('disasters as x')
      .innerJoin('roster as r', (j) =>
        j.onRef('r.id_number', '=', 'x.head_id_number').on('r.valid_to', 'is', null),
      )
      .innerJoin(focusHouseholds(db).as('h'), 'h.household_id', 'r.household_id')
      .where('x.valid_to', 'is', null)
      .where(sql<boolean>`x.hit_on > ${asOf}::date - make_interval(months => ${params.window_months})`)
      .where('x.hit_on', '<=', asOf)
      .where(sql<boolean>`x.loss > ${params.threshold}`)
      // the largest loss is the one shown
      .distinctOn('h.household_id')
      .orderBy('h.household_id')
      .orderBy('x.loss', 'desc')
      .select([
        'h.household_id as subject_key',
        'h.head_id as id_number',
        'h.household_id',
        'h.head_name as name',
        'h.township',
        'h.village',
        sql<Record<string, string | null>>`jsonb_build_object(
          'disaster_type', x.disaster_type, 'hit_on', x.hit_on::text, 'loss', x.loss)`.as('details'),
      ]),
});
