/**
 * 0011: the feed's state keeps a hash of what besides the file decided its last load (normalizer code, field
 * types and county vocabularies, time zone, region table, header aliases). Re-importing the same file is a
 * no-op only while that hash is unchanged: after a county adds a value spelling or a region table, the same
 * file loads again and its rows rejected for that reason come out of quarantine.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE feed_state ADD COLUMN last_settings_hash text`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
