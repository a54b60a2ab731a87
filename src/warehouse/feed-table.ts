/**
 * A feed's table as it is today, built from its declaration (pipelines/feeds): what migrations 0001–0002 wrote by
 * hand for the twelve feeds of DOMAIN §4 and what 0008 (`id_link`), 0009 (no foreign key to runs), 0010
 * (`raw_hash`) and 0014 (the `<feed>_written` trigger) then added to each. `migrate()` makes it for a registered
 * feed that has no table yet, so a new feed is its declaration and its registry entry, without a migration.
 *
 * This is the CURRENT shape, not a frozen one: a migration that changes every feed table (a new history column,
 * say) changes this builder too, and test/integration/feed-table-builder.test.ts holds the two to the same
 * catalog. A change of one existing feed's fields is still a numbered migration (an ALTER TABLE);
 * test/integration/feed-tables.test.ts fails until there is one.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { FeedDefinition, FieldType } from '../../schemas/feed.ts';
import { ID_LINKS } from '../../schemas/vocab.ts';
import type { Database } from './schema.ts';

/**
 * The SQL type of each field kind: the column's type, which the loader casts normalized values to.
 * Money is numeric(14,2) as the tables have always stored it; the normalizer keeps values within (rh_money).
 */
const COLUMN_TYPES: Readonly<Record<FieldType['kind'], string>> = {
  id_number: 'text',
  name: 'text',
  text: 'text',
  date: 'date',
  money: 'numeric(14,2)',
  integer: 'integer',
  year: 'integer',
  boolean: 'boolean',
  enum: 'text',
};

export const columnTypeOf = (t: FieldType): string => COLUMN_TYPES[t.kind];

/**
 * The columns every feed table has after its declared fields, as the loader and the readers use them:
 * row_hash (content of the normalized fields: changed or unchanged), raw_hash (the raw values and settings
 * fingerprint: a re-sent row recognised without normalizing; NULL for versions older than 0010), the period the
 * version was current (valid_to NULL: current), the runs that wrote and ended it (no foreign key: 0009), and
 * where it came from (file, sheet, row).
 */
const HISTORY = sql`
  row_hash     bytea NOT NULL,
  valid_from   timestamptz NOT NULL,
  valid_to     timestamptz,
  run_id       bigint NOT NULL,
  ended_run_id bigint,
  source       text NOT NULL,
  sheet        text,
  row_number   integer NOT NULL,
  raw_hash     bytea`;

/**
 * Creates `feed`'s table, its indexes, its trigger and its grants in the current schema (the first of the
 * search path). Run it inside a transaction (`trx`), so that a table is there whole or not at all.
 *
 * - one column per declared field, of its kind's type, NOT NULL when the field is required;
 * - `version_id` (primary key), the history columns, and `id_link` when the feed declares `identity`;
 * - `<feed>_current`: one current version per business key, in key order (publish.ts relies on both);
 * - `<feed>_<name>` for each of the declaration's `indexes`, over the current versions;
 * - `<feed>_written`: every statement writing the table replaces feed_state.generation (0014), so the
 *   recognition cache is not trusted after a write other than the loader's;
 * - SELECT for `<schema>_department` where that role exists, as migration 0006 granted every table then.
 */
export async function createFeedTable(trx: Transaction<Database>, feed: FeedDefinition): Promise<void> {
  const table = sql.id(feed.id);
  const fields = Object.entries(feed.fields).map(
    ([name, spec]) =>
      sql`${sql.id(name)} ${sql.raw(columnTypeOf(spec.type))}${sql.raw(spec.required ? ' NOT NULL' : '')}`,
  );
  // How a row got its person ID when its own was missing or invalid (NULL: its own): the loader's person
  // resolution writes it for the feeds declaring `identity` (0008).
  const idLink = feed.identity
    ? [sql`id_link text CHECK (id_link IN (${sql.join(ID_LINKS.map((v) => sql.lit(v)))}))`]
    : [];
  await sql`CREATE TABLE ${table} (
    version_id bigserial PRIMARY KEY,
    ${sql.join([...fields, HISTORY, ...idLink], sql`,\n    `)}
  )`.execute(trx);
  const current = sql.id(`${feed.id}_current`);
  await sql`CREATE UNIQUE INDEX ${current} ON ${table} (${sql.join(feed.key.map((k) => sql.id(k)))})
    WHERE valid_to IS NULL`.execute(trx);
  for (const [name, columns] of Object.entries(feed.indexes ?? {})) {
    await sql`CREATE INDEX ${sql.id(`${feed.id}_${name}`)} ON ${table} (${sql.join(columns.map((c) => sql.id(c)))})
      WHERE valid_to IS NULL`.execute(trx);
  }
  await sql`CREATE TRIGGER ${sql.id(`${feed.id}_written`)}
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION feed_written()`.execute(trx);
  await grantToDepartments(trx, feed.id);
}

/**
 * A department's API requests run as `<schema>_department` (src/api/scope.ts), which migration 0006 let read
 * every table of the schema and use its sequences; a feed table made later gets the same. Without the role
 * (no CREATEROLE when 0006 ran) there is nothing to grant, as 0006 then granted nothing.
 */
async function grantToDepartments(trx: Kysely<Database>, table: string): Promise<void> {
  const found = await sql<{ schema: string; role: string | null; seq: string | null }>`
    SELECT current_schema() AS schema,
           (SELECT rolname FROM pg_roles WHERE rolname = current_schema() || '_department') AS role,
           (SELECT relname FROM pg_class
            WHERE oid = pg_get_serial_sequence(${table}, 'version_id')::regclass) AS seq`.execute(trx);
  const { schema, role, seq } = found.rows[0] ?? { schema: '', role: null, seq: null };
  if (role === null) return;
  await sql`GRANT SELECT ON ${sql.id(schema, table)} TO ${sql.id(role)}`.execute(trx);
  if (seq !== null) await sql`GRANT USAGE ON SEQUENCE ${sql.id(schema, seq)} TO ${sql.id(role)}`.execute(trx);
}
