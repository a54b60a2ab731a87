/**
 * 0009: no foreign keys from the hot tables to `runs`. Each was a per-row RI trigger on the load and match
 * paths: measured on 500k roster rows, the insert of the new versions took 4.8 s without the run_id check and
 * ~8 s with it; every still-found finding's last_seen_run update paid the same check. Integrity does not
 * depend on them: run ids are written only by the loader and the matcher, inside the run's own transaction,
 * after its ledger row exists, and runs are never deleted. Kept where rows are few (quarantine, conflicts,
 * feed state, identity review).
 */
import { type Kysely, sql } from 'kysely';
import { FEED_TABLES_0002 } from './frozen.ts';

const HOT = [...FEED_TABLES_0002, 'findings', 'finding_events'];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  const fks = await sql<{ table: string; name: string }>`
    SELECT t.relname AS table, c.conname AS name
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    WHERE c.contype = 'f' AND c.confrelid = 'runs'::regclass AND t.relname IN (${sql.join(HOT)})
      AND t.relnamespace = current_schema()::regnamespace
    ORDER BY 1, 2`.execute(db);
  for (const fk of fks.rows) {
    await sql`ALTER TABLE ${sql.id(fk.table)} DROP CONSTRAINT ${sql.id(fk.name)}`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
