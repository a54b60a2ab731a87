/**
 * The feed-table builder (src/warehouse/feed-table.ts) makes today's shape of a feed table: for every feed of the
 * registry, the table it builds from the declaration (in a second warehouse, where the migrated table is dropped
 * first) has the catalog of the table the numbered migrations made — columns with their types, nullability and
 * defaults, constraints, indexes, triggers, the version_id sequence, grants and table options — schema names
 * aside. Only the order of the columns differs: a migrated table has the columns later ALTERs added at its end.
 *
 * When a migration changes every feed table (a new history column, say), this fails until the builder does the
 * same, so that a feed registered later gets the tables' shape of that day.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { createFeedTable } from '../../src/warehouse/feed-table.ts';
import type { Database } from '../../src/warehouse/schema.ts';
import { testWarehouse } from '../support/warehouse.ts';

/** One table's catalog entries, each a sorted list of lines, the warehouse's schema name written `S`. */
interface TableCatalog {
  table: string[];
  columns: string[];
  constraints: string[];
  indexes: string[];
  triggers: string[];
  sequences: string[];
  policies: string[];
}

async function lines(db: Kysely<Database>, schema: string, query: RawBuilder<{ line: string }>) {
  const rows = (await query.execute(db)).rows.map((r) => r.line.replaceAll(schema, 'S'));
  return rows.sort();
}

/** Privileges as `grantee:privilege`, the owner's own included; the schema's roles are named after it. */
const acl = (column: RawBuilder<unknown>) => sql`(
  SELECT coalesce(string_agg(coalesce(g.rolname, 'PUBLIC') || ':' || x.privilege_type
           || CASE WHEN x.is_grantable THEN '+grant' ELSE '' END, ',' ORDER BY 1), '')
  FROM aclexplode(${column}) x LEFT JOIN pg_roles g ON g.oid = x.grantee)`;

async function describeTable(db: Kysely<Database>, schema: string, table: string): Promise<TableCatalog> {
  const rel = sql`(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ${table})`;
  return {
    table: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', relkind, relpersistence, relreplident, relrowsecurity, relforcerowsecurity,
        coalesce(array_to_string(reloptions, ','), '-'), 'owner=' || pg_get_userbyid(relowner),
        'acl=' || ${acl(sql`relacl`)}) AS line
      FROM pg_class WHERE oid = ${rel}`,
    ),
    columns: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
        CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
        'default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), 'identity=' || a.attidentity::text,
        'generated=' || a.attgenerated::text, 'collation=' || coalesce(co.collname, '-'),
        'storage=' || a.attstorage::text, 'compression=' || a.attcompression::text, 'acl=' || ${acl(sql`a.attacl`)}) AS line
      FROM pg_attribute a
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
      WHERE a.attrelid = ${rel} AND a.attnum > 0 AND NOT a.attisdropped`,
    ),
    constraints: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', conname, contype, pg_get_constraintdef(oid), condeferrable, convalidated) AS line
      FROM pg_constraint WHERE conrelid = ${rel}`,
    ),
    indexes: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisclustered,
        i.indisreplident) AS line
      FROM pg_index i WHERE i.indrelid = ${rel}`,
    ),
    triggers: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', pg_get_triggerdef(oid), tgenabled) AS line
      FROM pg_trigger WHERE tgrelid = ${rel} AND NOT tgisinternal`,
    ),
    // The version_id sequence, owned by its column (bigserial): name, parameters, grants.
    sequences: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', s.relname, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmin,
        q.seqmax, q.seqcache, q.seqcycle, 'owned=' || a.attname, 'acl=' || ${acl(sql`s.relacl`)}) AS line
      FROM pg_depend dep
      JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
      JOIN pg_sequence q ON q.seqrelid = s.oid
      JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
      WHERE dep.classid = 'pg_class'::regclass AND dep.refobjid = ${rel} AND dep.deptype = 'a'`,
    ),
    policies: await lines(
      db,
      schema,
      sql<{ line: string }>`
      SELECT concat_ws(' ', policyname, cmd, permissive, roles::text, qual, with_check) AS line
      FROM pg_policies WHERE schemaname = ${schema} AND tablename = ${table}`,
    ),
  };
}

let migrated: Warehouse;
let built: Warehouse;

beforeAll(async () => {
  [migrated, built] = await Promise.all([testWarehouse('feed_migrated'), testWarehouse('feed_built')]);
  // In the second warehouse every feed table is made again by the builder, after the numbered migrations (the
  // trigger function, feed_state and the department role it relies on are theirs). CASCADE drops the
  // reporting view over the roster, which this comparison does not read.
  await built.db.transaction().execute(async (trx) => {
    for (const feed of Object.values(FEEDS)) {
      await sql`DROP TABLE ${sql.id(feed.id)} CASCADE`.execute(trx);
      await createFeedTable(trx, feed);
    }
  });
});
afterAll(async () => {
  await migrated?.close();
  await built?.close();
});

describe('the feed-table builder makes the tables the numbered migrations made', () => {
  it.each([...FEED_IDS])(
    '%s: the same columns, constraints, indexes, trigger, sequence and grants',
    async (id) => {
      const want = await describeTable(migrated.db, migrated.schema, id);
      const got = await describeTable(built.db, built.schema, id);
      // A table found at all: two empty descriptions would compare equal.
      expect(want.columns.length).toBeGreaterThan(10);
      expect(want.triggers).toHaveLength(1);
      expect(got).toEqual(want);
    },
  );

  it('differs only in the order of the columns: the declared fields, then the history columns', async () => {
    const order = async (wh: Warehouse) =>
      (
        await sql<{ column: string }>`
          SELECT a.attname AS column FROM pg_attribute a
          WHERE a.attrelid = 'student_roll'::regclass AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`.execute(wh.db)
      ).rows.map((r) => r.column);
    const declared = Object.keys(FEEDS.student_roll.fields);
    const history = [
      'row_hash',
      'valid_from',
      'valid_to',
      'run_id',
      'ended_run_id',
      'source',
      'sheet',
      'row_number',
    ];
    expect(await order(built)).toEqual([
      'version_id',
      ...declared,
      ...history,
      'raw_hash',
      'data_from',
      'data_to',
      'id_link',
    ]);
    // As 0001 wrote it, then the columns of 0008's, 0010's, 0015's and 0020's ALTERs at its end.
    expect((await order(migrated)).slice(-8)).toEqual([
      'row_number',
      'birth_date',
      'home_village',
      'id_link',
      'raw_hash',
      'sex',
      'data_from',
      'data_to',
    ]);
  });
});
