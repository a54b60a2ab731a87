import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Drops a warehouse that is no longer wanted — a test's or a benchmark's on a shared server: its schema, its
 * reporting schema and the two cluster-wide roles migration 0006 made beside them (which a dropped schema alone
 * would leave behind). What is not there is passed over.
 */
export async function dropWarehouse(db: Kysely<Database>, schema: string): Promise<void> {
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)}, ${sql.id(`${schema}_reporting`)} CASCADE`.execute(db);
  for (const role of [`${schema}_department`, `${schema}_reader`]) {
    await sql`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(role)}) THEN
        EXECUTE format('DROP OWNED BY %I', ${sql.lit(role)});
        EXECUTE format('DROP ROLE %I', ${sql.lit(role)});
      END IF; END $$`.execute(db);
  }
}
