/**
 * A throw-away rule, declared the way every rule is (one `defineRule`, the shared disclosure columns, its own
 * detail column and parameter), for tests proving that a rule is one step: pass `THROWAWAY_RULES` to
 * `runMatch` as its registry, or spread it into the project's (`ruleRegistry({ ...RULES, ...THROWAWAY_RULES })`).
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { roster } from '../../pipelines/feeds/roster.ts';
import {
  countRosterHouseholds,
  FOCUS_HOUSEHOLD_FIELDS,
  focusHouseholds,
} from '../../pipelines/rules/common.ts';
import { details, HOUSEHOLD, householdFinding } from '../../pipelines/rules/disclose.ts';
import { ruleRegistry } from '../../pipelines/rules/index.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from '../../pipelines/rules/privacy.ts';
import { defineRule, read } from '../../pipelines/rules/rule.ts';

/** T01 小户: a focus household of at most `max_members` members on the roster. */
export const t01 = defineRule({
  id: 'T01',
  name: '测试规则：小户',
  nameEn: 'small household (test)',
  owner: '乡村振兴局',
  subjectKind: 'household',
  requires: ['roster'],
  deadlineDays: 10,
  processing: {
    duty: '测试用：不对应任何法定职责，仅用于证明新增规则只需一步',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [read(roster, [...FOCUS_HOUSEHOLD_FIELDS])],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: z.object({ max_members: z.number().int().min(1).default(1) }).strict(),
  disclosed: [...HOUSEHOLD, ...details({ members: '家庭人口' })],
  population: countRosterHouseholds,
  findings: (db, { asOf, params }) =>
    db
      .selectFrom(focusHouseholds(db, asOf).as('h'))
      .where('h.members', '<=', params.max_members)
      .select([
        ...householdFinding('h'),
        sql<Record<string, number>>`jsonb_build_object('members', h.members)`.as('details'),
      ]),
});

export const THROWAWAY_RULES = ruleRegistry({ T01: t01 });
