/**
 * 0020: the history's valid-time axis. Beside when a version was current in the warehouse (valid_from/valid_to,
 * the load's transaction time), every version now says which data dates it describes: [data_from, data_to), in
 * the dates of the loads' data (runs.data_date, 0019). A rule reads the versions valid at its as-of date on this
 * axis (pipelines/rules/as-of.ts), so a late file lands in its place in the history instead of on top of it.
 *
 * The versions already there get the data date of the run that wrote them and of the run that ended them; a run
 * from before 0019 has none, and its version takes the load's date (the start of its transaction time, in the
 * server's zone: the county's zone is configuration, not known here; the difference is one day at most, for
 * loads made around midnight before this release). An empty interval (data_to = data_from) means a version that
 * describes no date, as a version replaced by a later load of the same data date does.
 *
 * Invariant kept by the loader from here on: data_to IS NULL exactly when valid_to IS NULL (the current version
 * describes every date from its data_from on); the intervals of one key never overlap.
 */
import { type Kysely, sql } from 'kysely';
import { feedTablesIn } from '../feed-table.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  for (const table of await feedTablesIn(db, rows[0]!.schema)) {
    const t = sql.id(table);
    await sql`ALTER TABLE ${t} ADD COLUMN data_from date, ADD COLUMN data_to date`.execute(db);
    await sql`UPDATE ${t} f SET
        data_from = coalesce(w.data_date, f.valid_from::date),
        data_to = CASE WHEN f.valid_to IS NOT NULL
          THEN greatest(coalesce(w.data_date, f.valid_from::date), coalesce(e.data_date, f.valid_to::date)) END
      FROM ${t} g
      LEFT JOIN runs w ON w.id = g.run_id
      LEFT JOIN runs e ON e.id = g.ended_run_id
      WHERE g.version_id = f.version_id`.execute(db);
    await sql`ALTER TABLE ${t} ALTER COLUMN data_from SET NOT NULL`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
