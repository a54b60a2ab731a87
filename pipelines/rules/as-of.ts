/**
 * The one place a rule says which versions of a feed table it reads: those valid at the match's reference date.
 * Every rule (and every shared piece in common.ts) constrains each feed table it reads, by its alias, through
 * `validAt`; no rule writes a validity predicate of its own (test/unit/rules-as-of.test.ts holds them to it).
 * Today the predicate is the current version (`<alias>.valid_to IS NULL`) whatever the date: the history's
 * valid-time axis (issue 21) is to be added here, and every rule then reads the history as of its date.
 */
import { type RawBuilder, sql } from 'kysely';

/**
 * The versions of the feed table aliased `alias` (its name, when it has no alias) valid at `asOf` (YYYY-MM-DD,
 * the rule context's reference date), for `.where(…)`, a join's `.on(…)` or inside a `sql` fragment.
 */
export function validAt(alias: string, asOf: string): RawBuilder<boolean> {
  void asOf; // the valid-time axis is not there yet: every date reads the current versions
  return sql<boolean>`${sql.ref(`${alias}.valid_to`)} IS NULL`;
}
