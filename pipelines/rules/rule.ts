/**
 * The shape of a cross-match rule. It lives with the rules, not in schemas/, because a rule is a query over the
 * warehouse's tables (its `Database` type), and schemas/ imports nothing of ours.
 */
import type { Expression, Kysely } from 'kysely';
import type { z } from 'zod';
import type { Department, SubjectKind } from '../../schemas/vocab.ts';
import type { Database } from '../../src/warehouse/schema.ts';

/** The columns of a finding a list can disclose as they are (`from: 'finding'`). */
export type FindingColumn = 'id_number' | 'household_id' | 'name' | 'township' | 'village';

/** What every rule query returns per finding (one row per subject). */
export interface FindingRow extends Record<FindingColumn, string | null> {
  /** Stable subject: the ID number for persons, the household id for households, source#row for records. */
  subject_key: string;
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

/**
 * A column of the department's list: where its value comes from, and its Chinese header. The common ones are
 * in disclose.ts.
 */
export type DisclosedField =
  /** A column of the finding itself. */
  | { key: FindingColumn; label: string; from: 'finding' }
  /** A key of FindingRow.details. */
  | { key: string; label: string; from: 'details' };

export interface RuleContext<P> {
  /** Reference date (YYYY-MM-DD). Ages and windows are computed from it. */
  asOf: string;
  params: P;
}

/**
 * What a rule says about itself: everything but its parameters and queries. `F` is the feeds it may read: the
 * catalog's rules are held to the project's feeds by its registry (pipelines/rules/index.ts); an extension's
 * rule may read its own feeds too.
 */
export interface RuleInfo<Id extends string = string, F extends string = string> {
  id: Id;
  name: string;
  nameEn: string;
  /** Department receiving the list (the first, for rules with several; see `owners`). */
  owner: Department;
  /** Every department a rule can route findings to, when there are several. */
  owners?: readonly Department[];
  subjectKind: SubjectKind;
  /** Feeds that must have a complete load; without them the rule does not run (and closes nothing). */
  requires: readonly F[];
  /** Feeds read when present (an empty table changes nothing): recorded among the loads a run read. */
  uses?: readonly F[];
  deadlineDays: number;
  disclosed: readonly DisclosedField[];
}

/**
 * A cross-match rule (DOMAIN §6) as its file declares it, without I/O; `P` is what its parameter schema
 * parses to. Example:
 *
 * ```ts
 * export const r02 = defineRule({
 *   id: 'R02', name: '未参加基本医疗保险', nameEn: 'uninsured', owner: '医保局', subjectKind: 'person',
 *   requires: ['roster', 'insurance'], deadlineDays: 30, params: z.object({ … }),
 *   disclosed: [...PERSON_IN_HOUSEHOLD, ...details({ birth_date: '出生日期', … })],
 *   population: (db, ctx) => …count query…,
 *   findings: (db, ctx) => db.selectFrom('roster as p')…select([...personFinding('p'), …details]),
 * });
 * ```
 */
export interface RuleDefinition<P, Id extends string = string, F extends string = string>
  extends RuleInfo<Id, F> {
  params: z.ZodType<P>;
  /** Size of the population the rule scans (for the run summary and indicators). */
  population(db: Kysely<Database>, ctx: RuleContext<P>): Expression<{ n: number }>;
  /** The finding query: set-based SQL, one row per subject. */
  findings(db: Kysely<Database>, ctx: RuleContext<P>): Expression<FindingRow>;
}

/** A rule's queries with its parameters checked and bound: what a run executes. */
export interface BoundRule {
  /** The parameters as parsed (defaults filled in), for what reads them beside the rule (the indicators). */
  params: unknown;
  population(db: Kysely<Database>, asOf: string): Expression<{ n: number }>;
  findings(db: Kysely<Database>, asOf: string): Expression<FindingRow>;
}

export type BindResult = { ok: true; rule: BoundRule } | { ok: false; issues: readonly z.core.$ZodIssue[] };

/**
 * A rule as the registry and the engine hold it. Its parameter type stays inside: `bind` checks the county's
 * parameters with the rule's own schema before its queries see them, so rules with different parameters are
 * one type and a registry of them needs no cast.
 */
export interface Rule<Id extends string = string, F extends string = string> extends RuleInfo<Id, F> {
  /** The parameter schema (its shape and defaults are documented); what it parses to is the rule's business. */
  params: z.ZodType<unknown>;
  /** Checks `raw` (config `rules.<id>.params`; `{}` takes the defaults) and binds the queries to the result. */
  bind(raw: unknown): BindResult;
}

/** Declares a rule: the one step of adding one is a file calling this, and its entry in index.ts. */
export function defineRule<P, const Id extends string, const F extends string>(
  def: RuleDefinition<P, Id, F>,
): Rule<Id, F> {
  const { params: schema, population, findings, ...info } = def;
  return {
    ...info,
    params: schema,
    bind(raw) {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) return { ok: false, issues: parsed.error.issues };
      const params = parsed.data;
      return {
        ok: true,
        rule: {
          params,
          population: (db, asOf) => population(db, { asOf, params }),
          findings: (db, asOf) => findings(db, { asOf, params }),
        },
      };
    },
  };
}
