import { sql } from 'kysely';
import { assistance } from '../feeds/assistance.ts';
import { deaths } from '../feeds/deaths.ts';
import { disability } from '../feeds/disability.ts';
import { roster } from '../feeds/roster.ts';
import {
  countRosterHouseholds,
  FOCUS_HOUSEHOLD_FIELDS,
  hasSafetyNet,
  isAbleWorker,
  isDead,
  monitoredHouseholdsWithout,
  WorkerParams,
} from './common.ts';
import { details, HOUSEHOLD, householdFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

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
  processing: {
    duty: '兜底保障：对符合条件的困难家庭给予最低生活保障，对特困人员给予供养（《社会救助暂行办法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(roster, [...FOCUS_HOUSEHOLD_FIELDS, 'labor_capacity']),
      read(assistance, ['id_number', 'aid_type', 'status', 'ended_on']),
      read(disability, ['id_number', 'grade', 'cert_status']),
      read(deaths, ['id_number', 'died_on']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: WorkerParams,
  disclosed: [...HOUSEHOLD, ...details({ members: '家庭人口', problem: '问题' })],
  population: (db, ctx) => countRosterHouseholds(db, ctx).where('r.household_type', '=', 'monitored'),
  findings: (db, { asOf, params }) =>
    monitoredHouseholdsWithout(
      db,
      asOf,
      // parenthesized: kysely does not wrap raw SQL, and the OR must not escape the correlation
      sql<boolean>`((${isAbleWorker('p', asOf, params)} AND NOT ${isDead('p.id_number', asOf)})
                  OR ${hasSafetyNet('p.id_number', asOf)})`,
    ).select([
      ...householdFinding('h'),
      sql<Record<string, string | number | null>>`jsonb_build_object(
          'members', h.members, 'problem', '家庭无劳动能力成员且未纳入低保/特困')`.as('details'),
    ]),
});
