/**
 * Pieces shared by rules: the compulsory-education birth window, enum labels for lists, birth dates from IDs.
 * All dates are compared as YYYYMMDD text taken from the ID number (digits 7–14), which the loader has
 * already validated, so the comparison is exact and can use an index.
 */
import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { FeedDefinition } from '../../schemas/feed.ts';

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
