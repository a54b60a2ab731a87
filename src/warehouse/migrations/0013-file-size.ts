/**
 * 0013: the feed's state keeps the size of the file it last loaded. A file of another size cannot be the same
 * file, so its SHA-256 (for the ledger) is computed alongside the load instead of in a pass of its own before
 * it (0.3 s of a 2M-row snapshot's 6 s); a file of the same size is hashed first, to tell a no-op.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE feed_state ADD COLUMN last_bytes bigint`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
