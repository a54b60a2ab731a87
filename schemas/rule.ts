import type { Expression, Kysely } from 'kysely';
import type { z } from 'zod';
// Type-only: rules are queries over the warehouse's tables.
import type { Database } from '../src/warehouse/schema.ts';
import type { Department, FeedId, RuleId, SubjectKind } from './vocab.ts';

/** What every rule query returns per finding (one row per subject). */
export interface FindingRow {
  /** Stable subject: the ID number for persons, the household id for households, source#row for records. */
  subject_key: string;
  id_number: string | null;
  household_id: string | null;
  name: string | null;
  township: string | null;
  village: string | null;
  /** The disclosed detail values, keyed by DisclosedField.key. Nothing else leaves the warehouse. */
  details: Record<string, string | number | null>;
  /**
   * Receiving department when a rule routes findings to several (R10: whoever still pays; R13: the source).
   * Omitted → the rule's owner.
   */
  department?: string;
  /** Subject kind when it differs from the rule's (R13: a `record` whose ID could not be recovered). */
  subject_kind?: SubjectKind;
}

/** A column of the department's list: where its value comes from, and its Chinese header. */
export interface DisclosedField {
  key: string;
  label: string;
  /** `finding`: a column of the finding itself; `details`: a key of FindingRow.details. */
  from: 'finding' | 'details';
}

export interface RuleContext<P> {
  /** Reference date (YYYY-MM-DD). Ages and windows are computed from it. */
  asOf: string;
  params: P;
}

/**
 * A cross-match rule (DOMAIN §6), declared without I/O. Example:
 *
 * ```ts
 * export const r02 = defineRule({
 *   id: 'R02', name: '未参加基本医疗保险', nameEn: 'uninsured', owner: '医保局', subjectKind: 'person',
 *   requires: ['roster', 'insurance'], deadlineDays: 30, params: z.object({ … }),
 *   disclosed: [{ key: 'name', label: '姓名', from: 'finding' }, …],
 *   population: (db, ctx) => …count query…,
 *   findings: (db, ctx) => db.selectFrom('roster as p')…select([…FindingRow columns]),
 * });
 * ```
 */
export interface RuleDefinition<P = unknown> {
  id: RuleId;
  name: string;
  nameEn: string;
  /** Department receiving the list (the first, for rules with several; see `owners`). */
  owner: Department;
  /** Every department a rule can route findings to, when there are several. */
  owners?: readonly Department[];
  subjectKind: SubjectKind;
  /** Feeds that must have a complete load; without them the rule does not run (and closes nothing). */
  requires: readonly FeedId[];
  /** Feeds read when present (an empty table changes nothing): recorded among the loads a run read. */
  uses?: readonly FeedId[];
  deadlineDays: number;
  params: z.ZodType<P>;
  disclosed: readonly DisclosedField[];
  /** Size of the population the rule scans (for the run summary and indicators). */
  population(db: Kysely<Database>, ctx: RuleContext<P>): Expression<{ n: number }>;
  /** The finding query: set-based SQL, one row per subject. */
  findings(db: Kysely<Database>, ctx: RuleContext<P>): Expression<FindingRow>;
}

export function defineRule<P>(rule: RuleDefinition<P>): RuleDefinition<P> {
  return rule;
}
