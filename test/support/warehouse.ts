import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { createDb, createPool, type Warehouse } from '../../src/warehouse/connect.ts';
import { migrate } from '../../src/warehouse/migrate.ts';

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
    async close() {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}

export const databaseUrl = () => inject('databaseUrl');
