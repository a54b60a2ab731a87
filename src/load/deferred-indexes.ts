/**
 * A first load writes its rows into a feed table with no version at all: its secondary indexes are built once,
 * from the written rows, instead of kept up to date row by row. Measured on PostgreSQL 15, 500k roster rows (the
 * insert of the rows in key order, then the builds; the server's own CPU time, best of three, with another load
 * running): the CPU is about the same (4.2–5.2 s with the indexes in place, 4.4–5.1 s built after — the key's two
 * indexes grow at their right edge either way), the WAL a third less (276 → 177–209 MB), which is what a busy
 * disk and a replica pay for.
 *
 * In the publishing transaction: the indexes are dropped and built again before the commit, so a crash (kill -9)
 * rolls the drop back with the rows and the warehouse is as it was. Dropping an index locks its table against
 * readers until the commit: a reader of a table with no version waits for the first load instead of finding
 * nothing, and loses nothing. A reader already at the table keeps it — the load then writes with the indexes in
 * place rather than wait for it (NOWAIT).
 *
 * The primary key stays (version_id, written in ascending order: its index grows at its right edge), and so does
 * any index behind a constraint. Every other index is rebuilt from its own definition as the catalog holds it:
 * what the builder (src/warehouse/feed-table.ts) or a migration made, whatever they are.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../warehouse/schema.ts';

/** Below this many rows to write, the indexes are kept: building them is a pass over the table each. */
export const DEFER_INDEXES_ROWS = 20_000;

/**
 * When `table` has no row and `rows` are about to be written into it: drops its secondary indexes and returns
 * the function that builds them again (call it after the rows are written, in the same transaction). Null when
 * the indexes stay: too few rows, a table with rows, or a reader holding the table now.
 */
export async function deferIndexes(
  trx: Kysely<Database>,
  table: string,
  rows: number,
): Promise<(() => Promise<void>) | null> {
  if (rows < DEFER_INDEXES_ROWS) return null;
  // Empty first (the load holds the feed's lock: no other load writes it meanwhile), then locked — never a table
  // with rows, whose readers must not wait.
  const empty = await sql<{
    empty: boolean;
  }>`SELECT NOT EXISTS (SELECT 1 FROM ${sql.id(table)}) AS empty`.execute(trx);
  if (!empty.rows[0]?.empty) return null;
  await sql`SAVEPOINT rh_defer_indexes`.execute(trx);
  try {
    await sql`LOCK TABLE ${sql.id(table)} IN ACCESS EXCLUSIVE MODE NOWAIT`.execute(trx);
  } catch (err) {
    if ((err as { code?: unknown }).code !== '55P03') throw err; // lock_not_available: a reader is there
    await sql`ROLLBACK TO SAVEPOINT rh_defer_indexes`.execute(trx);
    return null;
  }
  await sql`RELEASE SAVEPOINT rh_defer_indexes`.execute(trx);
  const { rows: indexes } = await sql<{ name: string; def: string }>`
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
    FROM pg_index i
    WHERE i.indrelid = ${table}::regclass AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY i.indexrelid`.execute(trx);
  if (!indexes.length) return null;
  for (const ix of indexes) await sql`DROP INDEX ${sql.raw(ix.name)}`.execute(trx);
  return async () => {
    // Each build sorts the table's keys: in memory for a few million rows rather than spilled at the default 64 MB.
    await sql`SET LOCAL maintenance_work_mem = '256MB'`.execute(trx);
    for (const ix of indexes) await sql.raw(ix.def).execute(trx);
  };
}
