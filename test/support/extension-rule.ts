/**
 * A rule that is not the project's, over a feed that is not the project's either (test/support/extension-feed.ts):
 * what a contributor adding both writes — one `defineRule` reading the extension's table by name (the
 * warehouse's `Database` type knows only the project's feeds), and a registry holding it.
 *
 * X01 临时救助频繁: a person on the roster granted 临时救助 at least `min_grants` times in the year up to the
 * reference date — a household the civil affairs bureau should look at for regular assistance.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { roster } from '../../pipelines/feeds/roster.ts';
import { validAt } from '../../pipelines/rules/as-of.ts';
import { countRows, currentRoster } from '../../pipelines/rules/common.ts';
import {
  details,
  PERSON_FINDING_FIELDS,
  PERSON_IN_HOUSEHOLD,
  personFinding,
} from '../../pipelines/rules/disclose.ts';
import { ruleRegistry } from '../../pipelines/rules/index.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from '../../pipelines/rules/privacy.ts';
import { defineRule, read } from '../../pipelines/rules/rule.ts';
import { temporaryAid } from './extension-feed.ts';

export const x01 = defineRule({
  id: 'X01',
  name: '临时救助频繁',
  nameEn: 'frequent temporary aid (extension)',
  owner: '民政局',
  subjectKind: 'person',
  requires: ['roster', temporaryAid.id],
  deadlineDays: 30,
  processing: {
    duty: '临时救助：对遭遇突发性、紧急性、临时性生活困难的家庭或者个人给予临时救助，多次救助的家庭核查是否符合常规救助条件（《社会救助暂行办法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...PERSON_FINDING_FIELDS]),
      read(temporaryAid, ['id_number', 'granted_on', 'amount']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: z.object({ min_grants: z.number().int().min(1).default(2) }).strict(),
  disclosed: [...PERSON_IN_HOUSEHOLD, ...details({ grants: '一年内救助次数', total: '救助金额合计(元)' })],
  population: (db, { asOf }) => currentRoster(db, asOf).select(countRows),
  findings: (db, { asOf, params }) => {
    const grants = sql`(SELECT t.id_number, count(*)::int AS grants, sum(t.amount)::text AS total
      FROM ${sql.table(temporaryAid.id)} t
      WHERE ${validAt('t', asOf)} AND t.granted_on > ${asOf}::date - interval '1 year' AND t.granted_on <= ${asOf}::date
      GROUP BY t.id_number)`;
    return currentRoster(db, asOf)
      .innerJoin(grants.as('g'), (j) => j.onRef(sql.ref('g.id_number'), '=', 'p.id_number'))
      .where(sql.ref('g.grants'), '>=', params.min_grants)
      .select([
        ...personFinding('p'),
        sql<Record<string, string | number>>`jsonb_build_object('grants', g.grants, 'total', g.total)`.as(
          'details',
        ),
      ]);
  },
});

export const EXTENSION_RULES = ruleRegistry({ X01: x01 });
