/**
 * The one place a rule says which versions of a feed table it reads: those valid at the match's reference date.
 * Every rule (and every shared piece in common.ts) constrains each feed table it reads, by its alias, through
 * `validAt`; no rule writes a validity predicate of its own (test/unit/rules-as-of.test.ts holds them to it).
 * The axis is the data date (valid time, migration 0020): a version describes the data dates [data_from,
 * data_to) of the loads that wrote and ended it, so a match as of a past date reads what the data said that day,
 * whatever was loaded since, and a late file is read at the dates it describes.
 */
import { type RawBuilder, sql } from 'kysely';
import { versionValidAt } from '../../src/warehouse/feed-table.ts';

/**
 * The versions of the feed table aliased `alias` (its name, when it has no alias) valid at `asOf` (YYYY-MM-DD,
 * the rule context's reference date), for `.where(…)`, a join's `.on(…)` or inside a `sql` fragment.
 */
export function validAt(alias: string, asOf: string): RawBuilder<boolean> {
  return versionValidAt(alias, asOf);
}

/**
 * The run of each feed's load that stood at `asOf` on the same axis: of the loads that succeeded (a no-op is no
 * load), the one with the latest data date on or before it. What is judged from a load as a whole (its
 * quarantine, its conflicts) is judged from this one; a load from before data dates counts by the day it started.
 */
export function loadsAt(asOf: string): RawBuilder<unknown> {
  const described = sql`coalesce(data_date, started_at::date)`;
  return sql`SELECT DISTINCT ON (feed) id FROM runs
    WHERE kind = 'import' AND status = 'succeeded' AND ${described} <= ${asOf}::date
    ORDER BY feed, ${described} DESC, id DESC`;
}
