/**
 * 0010: each feed version keeps the hash of the raw values it was normalized from (with the normalization's
 * salt, see normalizationSalt). A re-sent row with the same raw hash takes the current version's typed values
 * instead of being normalized again. Versions written before this migration have none and are normalized once.
 */
import { type Kysely, sql } from 'kysely';
import { FEED_TABLES_0002 } from './frozen.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  for (const t of FEED_TABLES_0002) await sql`ALTER TABLE ${sql.id(t)} ADD COLUMN raw_hash bytea`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
