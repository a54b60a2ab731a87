import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { inject } from 'vitest';
import { createDb, createPool, type Warehouse } from '../../src/warehouse/connect.ts';
import { migrate } from '../../src/warehouse/migrate.ts';
import type { Database } from '../../src/warehouse/schema.ts';

/** A migrated warehouse in a schema of its own on the test run's server; `close` drops the schema. */
export async function testWarehouse(label: string): Promise<Warehouse> {
  const url = inject('databaseUrl');
  const schema = `t_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(3).toString('hex')}`;
  const pool = createPool(url, schema);
  const db = createDb(pool);
  await migrate(db, schema);
  return {
    db,
    pool,
    schema,
    where: 'test',
    embedded: false,
    connectionUrl: () => url,
    async close() {
      await dropWarehouse(db, schema);
      await db.destroy();
    },
  };
}

export const databaseUrl = () => inject('databaseUrl');

/** Drops a test warehouse: its schema, its reporting schema and the cluster-wide roles migration 0006 made. */
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
