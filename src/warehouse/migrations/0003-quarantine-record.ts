/**
 * 0003: a quarantined row keeps its whole raw record (canonical field → raw cell text), so an operator can
 * see what was rejected and the source department can be told which person the bad row is about (R13).
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE quarantine ADD COLUMN record jsonb`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
