/**
 * 0015: the student roll keeps the 性别 it carries, which R13 checks against the ID number like the roster's.
 *
 * The current versions' content hashes are recomputed with the new (empty) column in its place among the feed's
 * fields, so that the first roll loaded after the upgrade finds its unchanged children unchanged, instead of
 * writing a version of every child that differs from the last one by nothing. The field order is written out
 * here, as the feed declares it at this migration, so that this migration means the same thing forever.
 */
import { type Kysely, sql } from 'kysely';

/** The student roll's row hash (src/load/normalize-staged.ts rowHash) over its fields as of this migration. */
export const STUDENT_ROLL_ROW_HASH = sql`decode(md5(ROW(name, id_number, sex, school_code, school_name, stage, grade,
  status, updated_on, birth_date, home_village)::text), 'hex')`;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE student_roll ADD COLUMN sex text`.execute(db);
  await sql`UPDATE student_roll SET row_hash = ${STUDENT_ROLL_ROW_HASH} WHERE valid_to IS NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
