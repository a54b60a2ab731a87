/**
 * Pieces shared by rules: the populations several rules scan, the compulsory-education birth window, enum labels
 * for lists, birth dates from IDs. (The columns a list discloses are in disclose.ts.)
 * All dates are compared as YYYYMMDD text taken from the ID number (digits 7–14), which the loader has
 * already validated, so the comparison is exact and can use an index.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Database } from '../../src/warehouse/schema.ts';
import { validAt } from './as-of.ts';

/** The population count of a rule: `count(*)` of its query, as `n`. */
export const countRows = sql<number>`count(*)::int`.as('n');

/** The roster valid at the reference date, aliased `p`. */
export const currentRoster = (db: Kysely<Database>, asOf: string) =>
  db.selectFrom('roster as p').where(validAt('p', asOf));

/**
 * The households of the roster valid at the reference date counted, aliased `r`: the population of the
 * household rules (it takes the rule context, so a rule can pass it as its `population`).
 */
export const countRosterHouseholds = (db: Kysely<Database>, { asOf }: { asOf: string }) =>
  db
    .selectFrom('roster as r')
    .select(sql<number>`count(DISTINCT r.household_id)::int`.as('n'))
    .where(validAt('r', asOf));

/** R02, R03: the insurance year checked. */
export const InsuranceYearParams = z
  .object({
    /** Insurance year to check; default: the year of the reference date. */
    year: z.number().int().min(2000).max(2100).optional(),
  })
  .strict();
export type InsuranceYearParams = z.infer<typeof InsuranceYearParams>;
export const insuranceYear = (asOf: string, p: InsuranceYearParams) => p.year ?? Number(asOf.slice(0, 4));

export const SchoolAgeParams = z
  .object({
    /** Compulsory education starts for children who turn this age by the cut-off day (31 Aug). */
    min_age: z.number().int().min(3).max(8).default(6),
    /** …and ends for those who have turned this age on 1 Sep of the school year. */
    max_age: z.number().int().min(12).max(18).default(16),
  })
  .strict();
export type SchoolAgeParams = z.infer<typeof SchoolAgeParams>;

/**
 * School year of a reference date: it starts on 1 Sep. A child is of compulsory age when it turns
 * `min_age` by 31 Aug of the school year's start, and is not yet `max_age` on 1 Sep:
 *   born on or before (Y − min)-08-31, and born after (Y − max)-09-01.
 */
export function compulsoryBirthWindow(asOf: string, p: SchoolAgeParams) {
  const year = Number(asOf.slice(0, 4));
  const y = asOf.slice(5) >= '09-01' ? year : year - 1;
  return { schoolYear: y, bornBy: `${y - p.min_age}0831`, bornAfter: `${y - p.max_age}0901` };
}

/** Current roster persons (aliased `p`) of compulsory-education age at the reference date. */
export function compulsoryAgeRoster(db: Kysely<Database>, asOf: string, params: SchoolAgeParams) {
  const w = compulsoryBirthWindow(asOf, params);
  return currentRoster(db, asOf)
    .where(birthDigits('p.id_number'), '>', w.bornAfter)
    .where(birthDigits('p.id_number'), '<=', w.bornBy);
}

/** The person's rows on the home-delivered schooling list (送教上门) valid at the reference date, for EXISTS. */
export const homeSchooling = (db: Kysely<Database>, idColumn: string, asOf: string) =>
  db
    .selectFrom('home_schooling as h')
    .select(sql`1`.as('one'))
    .where('h.id_number', '=', sql.ref<string>(idColumn))
    .where(validAt('h', asOf));

/** YYYYMMDD birth date of an 18-character ID column. */
export const birthDigits = (idColumn: string): RawBuilder<string> =>
  sql<string>`substr(${sql.ref(idColumn)}, 7, 8)`;

/** 'YYYY-MM-DD' birth date of an ID column, for lists. */
export const birthDate = (idColumn: string): RawBuilder<string> =>
  sql<string>`substr(${sql.ref(idColumn)}, 7, 4) || '-' || substr(${sql.ref(idColumn)}, 11, 2) || '-' || substr(${sql.ref(idColumn)}, 13, 2)`;

/** The Chinese label (first spelling) of an enum value, as the department writes it. */
export function enumLabel(feed: FeedDefinition, field: string, column: string): RawBuilder<string | null> {
  const t = feed.fields[field]?.type;
  if (t?.kind !== 'enum') throw new Error(`${feed.id}.${field} is not an enum field`);
  const whens = Object.entries(t.values).map(
    ([v, spellings]) => sql`WHEN ${sql.lit(v)} THEN ${sql.lit(spellings[0]!)}`,
  );
  return sql<string | null>`CASE ${sql.ref(column)} ${sql.join(whens, sql` `)} END`;
}

/** 'YYYYMMDD' of the reference date moved back `years` whole years (text arithmetic; 29 Feb compares right). */
export function yearsBefore(asOf: string, years: number): string {
  return `${Number(asOf.slice(0, 4)) - years}${asOf.slice(5, 7)}${asOf.slice(8, 10)}`;
}

/** The person has a death record dated on or before the reference date. */
export const isDead = (idColumn: string, asOf: string): RawBuilder<boolean> =>
  sql<boolean>`EXISTS (SELECT 1 FROM deaths d WHERE d.id_number = ${sql.ref(idColumn)}
    AND ${validAt('d', asOf)} AND d.died_on <= ${asOf}::date)`;

/** Labor capacities counted as an able worker, and disability grades that make a person unable to work. */
export const WorkerParams = z
  .object({
    able_labor: z.array(z.enum(['able', 'weak', 'lost', 'none'])).default(['able', 'weak']),
    severe_disability_grades: z.array(z.enum(['1', '2', '3', '4'])).default(['1', '2']),
  })
  .strict();
export type WorkerParams = z.infer<typeof WorkerParams>;

/**
 * An able worker: labor capacity among `able_labor` and no valid disability certificate of a severe grade
 * (DOMAIN §6 R05/R11). `p` is an alias of a current roster row.
 */
export function isAbleWorker(p: string, asOf: string, params: WorkerParams): RawBuilder<boolean> {
  const labor = sql.join(params.able_labor.map((v) => sql.lit(v)));
  const grades = sql.join(params.severe_disability_grades.map((v) => sql.lit(v)));
  return sql<boolean>`(${sql.ref(`${p}.labor_capacity`)} IN (${labor}) AND NOT EXISTS (
    SELECT 1 FROM disability dz WHERE dz.id_number = ${sql.ref(`${p}.id_number`)} AND ${validAt('dz', asOf)}
      AND dz.cert_status IS DISTINCT FROM 'revoked' AND dz.grade IN (${grades})))`;
}

/** Active 低保 or 特困 support for a person at the reference date. */
export const hasSafetyNet = (idColumn: string, asOf: string): RawBuilder<boolean> =>
  sql<boolean>`EXISTS (SELECT 1 FROM assistance a WHERE a.id_number = ${sql.ref(idColumn)} AND ${validAt('a', asOf)}
    AND a.aid_type IN ('minimum_living', 'extreme_poverty') AND a.status = 'active'
    AND (a.ended_on IS NULL OR a.ended_on >= ${asOf}::date))`;

/** The roster fields focusHouseholds reads: what a rule's record of processing lists for it (rule.ts). */
export const FOCUS_HOUSEHOLD_FIELDS = [
  'household_id',
  'township',
  'village',
  'id_number',
  'name',
  'relation',
  'household_type',
  'income_per_capita',
] as const;

/**
 * A household's head as one split-able aggregate over its roster rows aliased `p`: the member whose relation is
 * 户主, else the lowest ID. Each member gives the text '0' or '1' (户主 or not), its ID, a space and its name, and
 * the least of these in byte order (COLLATE "C") is the head's — `array_agg(… ORDER BY …)[1]` said the same but
 * cannot be split. The ID, of digits and X, holds no space and sorts in byte order as it does in any collation.
 * A member whose relation is empty is not taken for the 户主 (the ordered array put `NULL = '户主'` first).
 * `min` can be split: on a cluster (docs/scaling.md) each worker takes it over its shards' members of a household
 * and the coordinator the least of those, where an ordered array_agg made every worker ship every roster row.
 */
const headKey = (p: string): RawBuilder<string> =>
  sql<string>`min((CASE WHEN ${sql.ref(`${p}.relation`)} = '户主' THEN '0' ELSE '1' END
    || ${sql.ref(`${p}.id_number`)} || ' ' || ${sql.ref(`${p}.name`)}) COLLATE "C")`;

/** The columns of a focus household over its current roster rows aliased `p` grouped by household (focusHouseholds). */
const householdColumns = (p: string) => {
  const col = (c: string) => sql.ref(`${p}.${c}`);
  const head = headKey(p);
  return [
    sql.ref<string>(`${p}.household_id`).as('household_id'),
    sql<string | null>`min(${col('township')})`.as('township'),
    sql<string | null>`min(${col('village')})`.as('village'),
    sql<string>`substr(split_part(${head}, ' ', 1), 2)`.as('head_id'),
    sql<string>`substr(${head}, length(split_part(${head}, ' ', 1)) + 2)`.as('head_name'),
    sql<boolean>`bool_or(${col('household_type')} = 'monitored')`.as('monitored'),
    sql<number>`count(*)::int`.as('members'),
    // 家庭年人均纯收入 × members; NULL when no member's row carries the income.
    sql<string | null>`max(${col('income_per_capita')}) * count(*)`.as('annual_income'),
  ] as const;
};

/**
 * Focus households from the current roster, one row each: where they live, the head (the member whose relation
 * is 户主, else the lowest ID), whether the household is monitored, its size and annual income where known.
 * Every column is an aggregate Citus can split (min, bool_or, count, max): on a cluster the members of a household
 * live on the shards of their own IDs, and each worker groups its own, so one row per household and shard reaches
 * the coordinator instead of the roster.
 */
export function focusHouseholds(db: Kysely<Database>, asOf: string) {
  return db
    .selectFrom('roster as r')
    .where(validAt('r', asOf))
    .groupBy('r.household_id')
    .select(householdColumns('r'));
}

/**
 * Monitored households (`h`, as focusHouseholds gives them) in which no current member `p` meets `member`:
 * R05 asks it of a living able worker or a 低保/特困 recipient, its indicator (safety_net) of a living able worker.
 * Whether some member meets it is one more aggregate of the same grouping (bool_or; a member for whom `member` is
 * NULL does not meet it, as in NOT EXISTS), not a NOT EXISTS correlated with the grouped subquery: Citus refuses
 * a correlated subquery whose FROM holds a subquery, and this way the members are read once.
 */
export const monitoredHouseholdsWithout = (db: Kysely<Database>, asOf: string, member: RawBuilder<boolean>) =>
  db
    .selectFrom(
      db
        .selectFrom('roster as p')
        .where(validAt('p', asOf))
        .groupBy('p.household_id')
        .select([...householdColumns('p'), sql<boolean>`bool_or(coalesce(${member}, false))`.as('met')])
        .as('h'),
    )
    .where('h.monitored', '=', true)
    .where('h.met', '=', false);
