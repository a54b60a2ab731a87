/**
 * A feed's table as it is today, built from its declaration (pipelines/feeds): what migrations 0001–0002 wrote by
 * hand for the twelve feeds of DOMAIN §4 and what 0008 (`id_link`), 0009 (no foreign key to runs), 0010
 * (`raw_hash`) and 0014 (the `<feed>_written` trigger) then added to each. `migrate()` makes it for a registered
 * feed that has no table yet, so a new feed is its declaration and its registry entry, without a migration.
 *
 * This is the CURRENT shape, not a frozen one: a migration that changes every feed table (a new history column,
 * say) changes this builder too, and test/integration/feed-table-builder.test.ts holds the two to the same
 * catalog. Such a migration alters the feed tables it finds (feedTablesIn), not a list of the twelve: a
 * deployment may hold tables this builder made for feeds added since. A change of one existing feed's fields is still a numbered migration (an ALTER TABLE):
 * test/integration/feed-tables.test.ts fails until there is one for a table the numbered migrations made, and
 * `migrate` refuses a table that lacks what its declaration now needs (feedTableProblems) — the only check that
 * sees a table the builder made, since a fresh test warehouse builds it from the declaration as it is.
 */
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
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

/** A column of a feed table: its type as PostgreSQL prints it (format_type), whether it is NOT NULL. */
export interface FeedColumn {
  name: string;
  type: string;
  notNull: boolean;
  /** What CREATE TABLE says after the name, when it is more than the type and NOT NULL. */
  definition?: RawBuilder<unknown>;
}

/**
 * The version's identity: the recognition cache and the snapshot's end of unseen versions find rows by it
 * (src/load/recognition-cache.ts, publish.ts).
 */
export const VERSION_ID = {
  name: 'version_id',
  type: 'bigint',
  notNull: true,
  definition: sql`bigserial PRIMARY KEY`,
} as const satisfies FeedColumn;

/** The columns every feed table has after its declared fields, each with why it is there. */
export const HISTORY_COLUMNS = [
  // Content hash of the normalized fields (the loader's rowHash): changed or unchanged, on every load.
  { name: 'row_hash', type: 'bytea', notNull: true },
  // When the version became current, and stopped being current (NULL: the current version, the predicate of the
  // current-key index).
  { name: 'valid_from', type: 'timestamp with time zone', notNull: true },
  { name: 'valid_to', type: 'timestamp with time zone', notNull: false },
  // The run that wrote the version (no foreign key: 0009), and the one that ended it (a change or, in a snapshot,
  // its absence).
  { name: 'run_id', type: 'bigint', notNull: true },
  { name: 'ended_run_id', type: 'bigint', notNull: false },
  // Where the version came from, for lists, quarantine and conflicts: file, sheet, row.
  { name: 'source', type: 'text', notNull: true },
  { name: 'sheet', type: 'text', notNull: false },
  { name: 'row_number', type: 'integer', notNull: true },
  // Hash of the raw values and the settings fingerprint (0010): a re-sent row is recognised without normalizing.
  // NULL for versions written before 0010.
  { name: 'raw_hash', type: 'bytea', notNull: false },
  // The data dates the version describes (0020), [data_from, data_to): the valid-time axis beside the load's
  // transaction time above. data_to is NULL exactly when valid_to is (the current version); an empty interval is a
  // version replaced by a later load of the same data date. Rules read the versions valid at their as-of date.
  { name: 'data_from', type: 'date', notNull: true },
  { name: 'data_to', type: 'date', notNull: false },
] as const satisfies readonly FeedColumn[];

/**
 * The versions of the feed table aliased `alias` that describe the data date `date` (YYYY-MM-DD): the one
 * predicate of the valid-time axis, used by the rules (pipelines/rules/as-of.ts) and by a late load's publish.
 */
export const versionValidAt = (alias: string, date: string): RawBuilder<boolean> =>
  sql<boolean>`(${sql.ref(`${alias}.data_from`)} <= ${date}::date AND (${sql.ref(`${alias}.data_to`)} IS NULL OR ${sql.ref(`${alias}.data_to`)} > ${date}::date))`;

/**
 * How a row got its person ID when its own was missing or invalid (0008; NULL: its own): written by the loader's
 * person resolution for the feeds declaring `identity`, absent from the others (the roster, the reference).
 */
export const ID_LINK = {
  name: 'id_link',
  type: 'text',
  notNull: false,
  definition: sql`text CHECK (id_link IN (${sql.join(ID_LINKS.map((v) => sql.lit(v)))}))`,
} as const satisfies FeedColumn;

/**
 * Every column of `feed`'s table: `version_id`, one per declared field (of its kind's type, NOT NULL when the
 * field is required), the history columns, and `id_link` when the feed declares `identity`.
 */
export function feedColumns(feed: FeedDefinition): FeedColumn[] {
  const fields = Object.entries(feed.fields).map(([name, spec]) => ({
    name,
    type: columnTypeOf(spec.type),
    notNull: spec.required === true,
  }));
  return [VERSION_ID, ...fields, ...HISTORY_COLUMNS, ...(feed.identity ? [ID_LINK] : [])];
}

/**
 * Creates `feed`'s table, its indexes, its trigger and its grants in the current schema (the first of the
 * search path). Run it inside a transaction (`trx`), so that a table is there whole or not at all.
 *
 * - the columns of feedColumns;
 * - `<feed>_current`: one current version per business key, in key order (publish.ts relies on both);
 * - `<feed>_all_versions` on the key, and `<feed>_<name>` for each of the declaration's `indexes`, over every
 *   version: rules read the versions valid at their date (0024);
 * - `<feed>_written`: every statement writing the table replaces feed_state.generation (0014), so the
 *   recognition cache is not trusted after a write other than the loader's;
 * - SELECT for `<schema>_department` where that role exists, as migration 0006 granted every table then.
 */
export async function createFeedTable(trx: Transaction<Database>, feed: FeedDefinition): Promise<void> {
  const table = sql.id(feed.id);
  const columns = feedColumns(feed).map(
    (c) => sql`${sql.id(c.name)} ${c.definition ?? sql.raw(`${c.type}${c.notNull ? ' NOT NULL' : ''}`)}`,
  );
  await sql`CREATE TABLE ${table} (
    ${sql.join(columns, sql`,\n    `)}
  )`.execute(trx);
  const current = sql.id(`${feed.id}_current`);
  await sql`CREATE UNIQUE INDEX ${current} ON ${table} (${sql.join(feed.key.map((k) => sql.id(k)))})
    WHERE valid_to IS NULL`.execute(trx);
  // Rules read the versions valid at a date (0020, 0024): the key and the declared lookups over every version.
  await sql`CREATE INDEX ${sql.id(`${feed.id}_all_versions`)} ON ${table} (${sql.join(feed.key.map((k) => sql.id(k)))})`.execute(
    trx,
  );
  for (const [name, fields] of Object.entries(feed.indexes ?? {})) {
    await sql`CREATE INDEX ${sql.id(`${feed.id}_${name}`)} ON ${table} (${sql.join(fields.map((f) => sql.id(f)))})`.execute(
      trx,
    );
  }
  await sql`CREATE TRIGGER ${sql.id(`${feed.id}_written`)}
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION feed_written()`.execute(trx);
  await grantToDepartments(trx, feed.id);
}

/**
 * A department's API requests run as `<schema>_department` (src/http/scope.ts), which migration 0006 let read
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

/**
 * What in the tables of `feeds` in `schema` would break a load of the declaration as it now is, one line a
 * column: a declared field without its column, a column of another type than the field's, a NOT NULL column the
 * declaration may leave empty (an optional field, or one no longer declared). A table made from a declaration
 * has none until the declaration changes: a changed declaration needs its numbered migration (an ALTER TABLE),
 * and this names what is missing. A column kept after its field was dropped, nullable, is history, not a problem;
 * feeds without a table are left out.
 */
export async function feedTableProblems(
  db: Kysely<Database>,
  schema: string,
  feeds: readonly FeedDefinition[],
): Promise<string[]> {
  if (feeds.length === 0) return [];
  const found = await sql<{ table: string; column: string; type: string; not_null: boolean }>`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind = 'r' AND c.relname = ANY(${feeds.map((f) => f.id)}::text[])
      AND a.attnum > 0 AND NOT a.attisdropped`.execute(db);
  const problems: string[] = [];
  for (const feed of feeds) {
    const actual = found.rows.filter((r) => r.table === feed.id);
    if (actual.length === 0) continue;
    const expected = new Map(feedColumns(feed).map((c) => [c.name, c]));
    for (const want of expected.values()) {
      const got = actual.find((r) => r.column === want.name);
      if (!got) problems.push(`${feed.id}.${want.name}: no column (declared ${want.type})`);
      else if (got.type !== want.type)
        problems.push(`${feed.id}.${want.name}: ${got.type}, declared ${want.type}`);
    }
    for (const got of actual.filter((r) => r.not_null && !expected.get(r.column)?.notNull)) {
      const declared = expected.has(got.column) ? 'declared optional' : 'not declared';
      problems.push(`${feed.id}.${got.column}: NOT NULL, ${declared}`);
    }
  }
  return problems;
}

/**
 * The feed tables of `schema`, by the `<table>_written` trigger every one carries (0014, and this builder): what a
 * migration changing every feed table alters — the twelve of the numbered migrations and any this builder made
 * for a feed registered since — in name order.
 */
export async function feedTablesIn(db: Kysely<Database>, schema: string): Promise<string[]> {
  const r = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_class c
    JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname = c.relname || '_written'
    WHERE c.relnamespace = ${schema}::regnamespace AND c.relkind = 'r' ORDER BY 1`.execute(db);
  return r.rows.map((row) => row.name);
}
