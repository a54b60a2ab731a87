/**
 * Where a load's staged rows meet its feed's table (issue 26, docs/scaling.md): on one server, normalized staging
 * itself; on a Citus cluster, a copy of it distributed like the feed's table and co-located with it, so that the
 * statements joining the two (the plan's diff, the publish's UPDATE, NOT EXISTS and INSERT, the pull-in) run shard
 * against shard on the workers. Citus refuses a join of a distributed table with a local one in those statements
 * ("direct joins between distributed and local tables are not supported"), and the way round it — a LEFT JOIN that
 * pulls the feed's current versions to the coordinator — costs a copy of the whole feed per load.
 *
 * Decided once per load, from the catalog (whether the feed's table is distributed), and carried by `Staging` to
 * every statement that differs: nothing else in the loader asks.
 *
 * The copy is distributed on the feed's person column itself (the same column, type and co-location group as the
 * feed's table), holding the staged rows that are not skipped and have a person: Citus refuses a NULL distribution
 * value, and a row without one is rejected (the person field is required) and can meet no version — its key holds
 * the person column in every feed but settlements, an incremental feed, where a rejected row keeps nothing alive.
 *
 * A feed whose key lacks its person column (settlements: settlement_id) is matched there on the key and the person
 * (the only join Citus runs shard against shard), so a record re-sent under another person — a corrected ID — meets
 * no version on its new person's shard. `personOutsideKey` names that column, decided here once: the plan and the
 * publish then also look for the staged keys under other persons (version-match.ts movedVersions), as one server's
 * match by key alone finds them.
 */
import { type Kysely, sql } from 'kysely';
import { terminalError } from '../../core/errors.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { feedPlacement } from '../warehouse/distribution.ts';
import type { Database } from '../warehouse/schema.ts';

/** The staged rows as the statements meeting the feed's table read them (see the top of this file). */
export interface Staging {
  /** Normalized staging: the run's own table, on the coordinator. */
  norm: string;
  /** The table joined with the feed's table: `norm` on one server, its co-located copy on a cluster. */
  table: string;
  /** The feed's table is distributed by Citus (the statements take their cluster forms). */
  distributed: boolean;
  /**
   * On a cluster, the feed's person (distribution) column when its key lacks it: matches compare it too, and a
   * staged key current under another person is found apart (see the top of this file). Null on one server and for
   * every feed whose key holds its person.
   */
  personOutsideKey: string | null;
}

/** The name of a run's co-located copy of normalized staging (dropped with the rest of its staging). */
export const distributedStaging = (norm: string) => `${norm}_dist`;

/** One server: the statements read normalized staging itself. */
export const localStaging = (norm: string): Staging => ({
  norm,
  table: norm,
  distributed: false,
  personOutsideKey: null,
});

/**
 * Whether `feed`'s table is distributed by Citus in the connection's schema: false on a server without the citus
 * extension (one catalog lookup), else whether Citus holds the table as a distributed one.
 */
export async function feedDistributed(db: Kysely<Database>, feed: FeedDefinition): Promise<boolean> {
  const citus = await sql<{ ok: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS ok`.execute(db);
  if (!citus.rows[0]?.ok) return false;
  const r = await sql<{ ok: boolean }>`SELECT EXISTS (SELECT 1 FROM pg_dist_partition d
      WHERE d.logicalrelid = to_regclass(quote_ident(${feed.id})) AND d.partmethod = 'h') AS ok`.execute(db);
  return r.rows[0]?.ok === true;
}

/**
 * On a cluster: (re)makes the co-located copy of `norm` (dropping one made before, after pull-in added rows) and
 * returns the load's Staging. Its own statements, outside any transaction of the load: create_distributed_table
 * makes a shard per shard of the feed's table on the workers. UNLOGGED as normalized staging is: nothing reads it
 * after a crash (cleanOrphanStaging drops it).
 */
export async function distributeStaging(
  db: Kysely<Database>,
  feed: FeedDefinition,
  norm: string,
): Promise<Staging> {
  const table = distributedStaging(norm);
  const placed = feedPlacement(feed);
  if (placed.kind !== 'distributed') throw new Error(`internal: feed ${feed.id} is not distributed`);
  const person = sql.ref(placed.column);
  const personOutsideKey = feed.key.includes(placed.column) ? null : placed.column;
  // A snapshot keyed without its person would end a version whose key a row under another person keeps alive (and
  // aliveKeys selects the key alone): no such feed exists; refused here in words rather than by a failing statement.
  if (personOutsideKey && feed.mode === 'snapshot') {
    throw terminalError(
      `feed ${feed.id}: a snapshot feed whose key (${feed.key.join(', ')}) lacks its distribution column ${placed.column} cannot be loaded on a Citus cluster; add the column to the key`,
    );
  }
  await sql`DROP TABLE IF EXISTS ${sql.id(table)}`.execute(db);
  await sql`CREATE UNLOGGED TABLE ${sql.id(table)} (LIKE ${sql.id(norm)})`.execute(db);
  await sql`SELECT create_distributed_table(quote_ident(${table})::regclass, ${placed.column}::text,
      colocate_with => quote_ident(${feed.id}))`.execute(db);
  await sql`INSERT INTO ${sql.id(table)} SELECT * FROM ${sql.id(norm)} WHERE skip IS NULL AND ${person} IS NOT NULL`.execute(
    db,
  );
  await sql`ANALYZE ${sql.id(table)}`.execute(db);
  return { norm, table, distributed: true, personOutsideKey };
}
