/**
 * 0012: a conflicting duplicate keeps the person's ID and both names when the two rows of one file share an ID
 * but name the person differently — an identity conflict R13 reports to the department (DOMAIN §5.2: "to report,
 * not to overwrite"), not only a row set aside by the de-duplication order.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE load_conflicts ADD COLUMN person_id text, ADD COLUMN name text, ADD COLUMN winner_name text`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
