/**
 * 0024: indexes that serve the versions valid at a date. Since rules read the versions valid at their as-of date
 * (0020), an index restricted to the current versions (`WHERE valid_to IS NULL`) serves no rule: a lookup of a
 * person's insurance, death or home-schooling record per roster row became a scan of the table per row
 * (measured: R02 89–127 s at 20k persons). So every feed table gets `<feed>_all_versions` on its business key
 * over every version (the key's columns read from its `<feed>_current` index), and the indexes the declarations
 * asked for over the current versions are rebuilt over every version. `<feed>_current` stays as it is: it keeps
 * one current version per key and serves the loader, which compares with the current versions.
 */
import { type Kysely, sql } from 'kysely';
import { feedTablesIn } from '../feed-table.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const schema = rows[0]!.schema;
  for (const table of await feedTablesIn(db, schema)) {
    const key = await sql<{ column: string }>`
      SELECT a.attname AS column
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE c.relname = ${`${table}_current`} AND c.relnamespace = ${schema}::regnamespace
      ORDER BY k.n`.execute(db);
    await sql`CREATE INDEX ${sql.id(`${table}_all_versions`)} ON ${sql.id(table)} (${sql.join(
      key.rows.map((r) => sql.id(r.column)),
    )})`.execute(db);
    const partial = await sql<{ name: string; def: string }>`
      SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = ${sql.lit(`${schema}.${table}`)}::regclass AND NOT i.indisunique
        AND pg_get_expr(i.indpred, i.indrelid) = '(valid_to IS NULL)'`.execute(db);
    for (const idx of partial.rows) {
      await sql`DROP INDEX ${sql.id(idx.name)}`.execute(db);
      await sql.raw(idx.def.replace(/ WHERE \(valid_to IS NULL\)$/, '')).execute(db);
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
