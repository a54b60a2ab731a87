/**
 * The shape of a cross-match rule. It lives with the rules, not in schemas/, because a rule is a query over the
 * warehouse's tables (its `Database` type), and schemas/ imports nothing of ours.
 */
import type { Expression, Kysely } from 'kysely';
import { z } from 'zod';
import { configError } from '../../core/errors.ts';
import { DATA_GRADES, type FeedDefinition } from '../../schemas/feed.ts';
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

/** One feed a rule reads, and the fields of it its queries use (its grade follows from theirs). */
export interface FeedRead<F extends string = string> {
  feed: FeedDefinition<F>;
  fields: readonly string[];
}

/**
 * `read(roster, ['id_number', 'household_id'])`: a feed's declaration and the fields of it a rule uses, the
 * field names checked by the compiler against the declaration.
 */
export const read = <const Id extends string, const D extends FeedDefinition<Id>>(
  feed: D & FeedDefinition<Id>,
  fields: readonly (keyof D['fields'] & string)[],
): FeedRead<Id> => ({ feed, fields });

/**
 * Whether a rule evaluates children's data: `targeted` — its condition is about children (compulsory-age);
 * `included` — it evaluates persons of any age, children among them; `none` — no child's record is read.
 * Declared, because which ages a query evaluates is the query's business; a rule reading a feed about children
 * (FeedDefinition.minors) cannot say `none`.
 */
export const MINORS_SCOPES = ['targeted', 'included', 'none'] as const;
export type MinorsScope = (typeof MINORS_SCOPES)[number];

/**
 * The record of processing of a rule (PIPL Arts. 13, 28, 34, 55–56; issue 27): why the cross-match is lawful,
 * what it reads, how long its findings are kept, whether it evaluates children. Who receives what is the rule's
 * `disclosed` and `owner`/`owners`; its grade is the highest of the fields it reads (pipelines/rules/privacy.ts
 * computes both, `ruralhub privacy rules` lists them, docs/privacy.md is held to them). Required: a rule without
 * one does not compile, and a registry holding one is refused (checkProcessing).
 */
export interface ProcessingRecord<F extends string = string> {
  /** The statutory duty the cross-match serves, named by its law (中文). */
  duty: string;
  /** The legal basis of the processing (中文): PIPL Art. 13(1)(3) 履行法定职责, and so on. */
  legalBasis: string;
  /** Each feed of `requires` and `uses`, once, with the fields its queries read (`read(feed, [...])`). */
  reads: readonly FeedRead<F>[];
  /** A closed finding is kept this many whole years, then deleted (PIPL Arts. 19, 47: the shortest necessary). */
  retentionYears: number;
  minors: MinorsScope;
}

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
  /** Its record of processing: lawful basis, duty, inputs, retention, minors. */
  processing: ProcessingRecord<F>;
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
  extends Omit<RuleInfo<Id, F>, 'processing'> {
  /** Its feeds are those of `requires` and `uses`, which alone say what F is. */
  processing: ProcessingRecord<NoInfer<F>>;
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
  checkProcessing(def);
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

/** The record's shape as plain JavaScript may give it: checked field by field, as the compiler checks TS. */
const ProcessingShape = z.object({
  duty: z.string().trim().min(1),
  legalBasis: z.string().trim().min(1),
  reads: z
    .array(
      z.object({
        feed: z.looseObject({
          id: z.string(),
          fields: z.record(z.string(), z.looseObject({ classification: z.enum(DATA_GRADES) })),
          minors: z.boolean().optional(),
        }),
        fields: z.array(z.string()).min(1),
      }),
    )
    .min(1),
  retentionYears: z.number().int().positive(),
  minors: z.enum(MINORS_SCOPES),
});

/**
 * Refuses a rule without a complete record of processing, in one line naming the rule (a config error: exit 2,
 * before anything runs). defineRule calls it, and ruleRegistry for every rule given (an extension's rule may be
 * plain JavaScript that never went through defineRule).
 */
export function checkProcessing(rule: Pick<RuleInfo, 'id' | 'requires' | 'uses'>): void {
  const raw: unknown = (rule as { processing?: unknown }).processing;
  const refuse = (why: string) =>
    configError(
      `rule ${rule.id}: ${why}; every rule declares its record of processing (duty, legalBasis, reads, retentionYears, minors: see docs/privacy.md)`,
    );
  if (raw === undefined || raw === null) throw refuse('no record of processing');
  const parsed = ProcessingShape.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `processing.${i.path.join('.')}: ${i.message}`);
    throw refuse(`incomplete record of processing (${issues.join('; ')})`);
  }
  const record = parsed.data;
  const declared = [...rule.requires, ...(rule.uses ?? [])];
  const readIds = record.reads.map((r) => r.feed.id);
  const unread = declared.filter((f) => !readIds.includes(f));
  const extra = readIds.filter((f, i) => !declared.includes(f) || readIds.indexOf(f) !== i);
  if (unread.length || extra.length) {
    throw refuse(
      `processing.reads must name each feed of requires and uses once${unread.length ? `; missing ${unread.join(', ')}` : ''}${extra.length ? `; not required or used, or twice: ${extra.join(', ')}` : ''}`,
    );
  }
  for (const r of record.reads) {
    const unknown = r.fields.filter((f) => !Object.hasOwn(r.feed.fields, f));
    if (unknown.length)
      throw refuse(`processing.reads: ${r.feed.id} declares no field ${unknown.join(', ')}`);
  }
  const childrenFeed = record.reads.find((r) => r.feed.minors);
  if (childrenFeed && record.minors === 'none') {
    throw refuse(`processing.minors is none, but it reads ${childrenFeed.feed.id}, a feed about children`);
  }
}
