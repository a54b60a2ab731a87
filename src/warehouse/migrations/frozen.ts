/**
 * Pieces the shipped migrations share, each named for the migration that froze it: it means what it meant when
 * that migration shipped and never changes (a migration needing something else gets a new piece, named for it).
 * Written out, not derived from pipelines/feeds or src/warehouse/feed-table.ts, which describe today's feeds.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';

/** The twelve feed tables of DOMAIN §4, as migrations 0001 (the first four) and 0002 (the others) made them. */
export const FEED_TABLES_0002 = [
  'roster',
  'student_roll',
  'home_schooling',
  'insurance',
  'settlements',
  'assistance',
  'housing',
  'water',
  'employment',
  'disability',
  'deaths',
  'disasters',
] as const;

/**
 * A feed table as 0001 made them (and 0002 the same way): `version_id`, the feed's own columns, then the history
 * of each version — its content hash, when it was current, the runs that wrote and ended it, where it came from —
 * and the unique index of its current version by business key.
 */
export async function createFeedTable0001(
  db: Kysely<unknown>,
  table: string,
  columns: RawBuilder<unknown>,
  key: readonly string[],
): Promise<void> {
  await sql`
    CREATE TABLE ${sql.id(table)} (
      version_id bigserial PRIMARY KEY,
      ${columns},
      row_hash     bytea NOT NULL,
      valid_from   timestamptz NOT NULL,
      valid_to     timestamptz,
      run_id       bigint NOT NULL REFERENCES runs (id),
      ended_run_id bigint REFERENCES runs (id),
      source       text NOT NULL,
      sheet        text,
      row_number   integer NOT NULL
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX ${sql.id(`${table}_current`)} ON ${sql.id(table)} (${sql.join(key.map((k) => sql.id(k)))})
    WHERE valid_to IS NULL`.execute(db);
}
