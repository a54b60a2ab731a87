/**
 * Each feed's table, as the migrations left it, against what its declaration (pipelines/feeds) implies: one
 * column per declared field of the type the loader casts it to (columnTypeOf), NOT NULL exactly when the field is
 * required; the history columns every feed table has (feedColumns in src/warehouse/feed-table.ts lists them, each
 * with why); the indexes the loader and the rules rely on; the `<feed>_written` trigger. A feed's table is made
 * once, when it is first migrated (by the numbered migrations for the twelve of 0001–0002, by
 * src/warehouse/feed-table.ts for a feed registered later), while the loader
 * writes whatever the declaration says today: a field added to or changed in a declaration without its numbered
 * migration (an ALTER TABLE), or a migration that drifts from the declaration, fails here with the feed, the
 * column and what was expected — not on a department's first file.
 *
 * The Kysely view of the tables (src/warehouse/schema.ts) is checked at compile time, at the end of this file:
 * types do not exist at run time, so `npx tsc` (part of `npm test`) is what runs that check, not vitest.
 */
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECLARED_FEEDS, FEEDS, type FeedId } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import {
  feedColumns,
  type HISTORY_COLUMNS,
  type ID_LINK,
  type VERSION_ID,
} from '../../src/warehouse/feed-table.ts';
import type { Database } from '../../src/warehouse/schema.ts';
import { testWarehouse } from '../support/warehouse.ts';

interface ColumnSpec {
  /** As `format_type` prints it. */
  type: string;
  notNull: boolean;
}

/** Every column a feed's table must have: version_id, the declared fields, the history columns, id_link if any. */
function expectedColumns(feed: FeedDefinition): Map<string, ColumnSpec> {
  return new Map(feedColumns(feed).map((c) => [c.name, { type: c.type, notNull: c.notNull }]));
}

interface CatalogColumn {
  table: string;
  column: string;
  /** Without type modifier. */
  base: string;
  /** With it (`numeric(14,2)`), as the column stores values and the loader casts them (columnTypeOf). */
  full: string;
  not_null: boolean;
}

interface CatalogIndex {
  table: string;
  index: string;
  unique: boolean;
  primary: boolean;
  columns: string[];
  predicate: string | null;
  expressions: boolean;
}

interface CatalogTrigger {
  table: string;
  trigger: string;
  fn: string;
  fn_schema: string;
  tgtype: number;
  enabled: string;
}

/** pg_trigger.tgtype: AFTER (no BEFORE bit), FOR EACH STATEMENT (no ROW bit), INSERT | DELETE | UPDATE | TRUNCATE. */
const WRITTEN_TGTYPE = 4 | 8 | 16 | 32;

let wh: Warehouse;
let columns: CatalogColumn[];
let indexes: CatalogIndex[];
let triggers: CatalogTrigger[];
let runsForeignKeys: { table: string; name: string }[];

async function readCatalog(db: Kysely<Database>, schema: string): Promise<void> {
  const tables = Object.keys(FEEDS);
  columns = (
    await sql<CatalogColumn>`
      SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, NULL) AS base,
             format_type(a.atttypid, a.atttypmod) AS full, a.attnotnull AS not_null
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind = 'r' AND c.relname IN (${sql.join(tables)})
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY 1, a.attnum`.execute(db)
  ).rows;
  indexes = (
    await sql<CatalogIndex>`
      SELECT c.relname AS table, ic.relname AS index, i.indisunique AS unique, i.indisprimary AS primary,
             ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
             pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indexprs IS NOT NULL AS expressions
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relname IN (${sql.join(tables)}) AND i.indisvalid
      ORDER BY 1, 2`.execute(db)
  ).rows;
  triggers = (
    await sql<CatalogTrigger>`
      SELECT c.relname AS table, t.tgname AS trigger, p.proname AS fn, pn.nspname AS fn_schema,
             t.tgtype::int AS tgtype, t.tgenabled::text AS enabled
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid
      JOIN pg_namespace pn ON pn.oid = p.pronamespace
      WHERE n.nspname = ${schema} AND c.relname IN (${sql.join(tables)}) AND NOT t.tgisinternal
      ORDER BY 1, 2`.execute(db)
  ).rows;
  runsForeignKeys = (
    await sql<{ table: string; name: string }>`
      SELECT c.relname AS table, k.conname AS name
      FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid
      JOIN pg_class r ON r.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND k.contype = 'f' AND r.relname = 'runs'
        AND c.relname IN (${sql.join(tables)})
      ORDER BY 1, 2`.execute(db)
  ).rows;
}

const feeds = Object.values(FEEDS);
const show = (c: ColumnSpec) => `${c.type} ${c.notNull ? 'NOT NULL' : 'NULL'}`;

beforeAll(async () => {
  wh = await testWarehouse('feed_tables');
  await readCatalog(wh.db, wh.schema);
});
afterAll(async () => wh?.close());

describe('feed tables match their declarations', () => {
  it('every declared feed has a table', () => {
    const present = new Set(columns.map((c) => c.table));
    expect(feeds.filter((f) => !present.has(f.id)).map((f) => `${f.id}: no table`)).toEqual([]);
  });

  it('has one column per declared field and history column, of the type the loader casts to', () => {
    const problems: string[] = [];
    for (const feed of feeds) {
      const expected = expectedColumns(feed);
      const actual = new Map(columns.filter((c) => c.table === feed.id).map((c) => [c.column, c]));
      for (const [name, want] of expected) {
        const got = actual.get(name);
        if (!got) {
          problems.push(`${feed.id}.${name}: missing, expected ${show(want)}`);
          continue;
        }
        const have = { type: got.full, notNull: got.not_null };
        if (have.type !== want.type || have.notNull !== want.notNull) {
          problems.push(`${feed.id}.${name}: expected ${show(want)}, found ${show(have)}`);
        }
      }
      for (const name of actual.keys()) {
        if (!expected.has(name)) {
          problems.push(`${feed.id}.${name}: not declared (no field, history column or id_link)`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("has the business key's unique current-version index and the version_id primary key", () => {
    const problems: string[] = [];
    for (const feed of feeds) {
      const own = indexes.filter((i) => i.table === feed.id);
      // One current version per key (publish.ts inserts a new key only when no current row has it, and reads
      // the current row by key); in key order, as the new versions are inserted (publish.ts ORDER BY key).
      const current = own.find(
        (i) =>
          i.unique &&
          !i.expressions &&
          i.predicate === '(valid_to IS NULL)' &&
          i.columns.join() === feed.key.join(),
      );
      if (!current) {
        const seen = own.map((i) => `${i.index} (${i.columns.join(', ')}) WHERE ${i.predicate ?? 'TRUE'}`);
        problems.push(
          `${feed.id}: expected a UNIQUE index on (${feed.key.join(', ')}) WHERE valid_to IS NULL; found ${seen.join('; ') || 'none'}`,
        );
      }
      if (!own.some((i) => i.primary && i.columns.join() === 'version_id')) {
        problems.push(`${feed.id}: expected PRIMARY KEY (version_id)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("has each of the declaration's further indexes, and one on the key, over every version (0024)", () => {
    const problems: string[] = [];
    for (const feed of feeds) {
      const wanted: [string, readonly string[]][] = [
        [`${feed.id}_all_versions`, feed.key],
        ...Object.entries(feed.indexes ?? {}).map(([name, fields]): [string, readonly string[]] => [
          `${feed.id}_${name}`,
          fields,
        ]),
      ];
      for (const [index, fields] of wanted) {
        const found = indexes.find((i) => i.table === feed.id && i.index === index);
        const want = `(${fields.join(', ')})`;
        if (!found) problems.push(`${feed.id}: missing index ${index} ${want}`);
        else if (found.columns.join() !== fields.join() || found.predicate !== null || found.unique) {
          problems.push(
            `${feed.id}: ${index} expected ${want}, found ${found.unique ? 'UNIQUE ' : ''}(${found.columns.join(', ')}) WHERE ${found.predicate ?? 'TRUE'}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('has no foreign key to runs (0009: a per-row check on the load path)', () => {
    expect(runsForeignKeys.map((k) => `${k.table}: foreign key ${k.name} to runs`)).toEqual([]);
  });

  it('has the <feed>_written trigger that bumps feed_state.generation (0014)', () => {
    const problems: string[] = [];
    for (const feed of feeds) {
      const name = `${feed.id}_written`;
      const t = triggers.find((x) => x.table === feed.id && x.trigger === name);
      if (!t) {
        problems.push(`${feed.id}: missing trigger ${name}`);
        continue;
      }
      if (t.fn !== 'feed_written' || t.fn_schema !== wh.schema) {
        problems.push(
          `${feed.id}: ${name} expected to run ${wh.schema}.feed_written, runs ${t.fn_schema}.${t.fn}`,
        );
      }
      if (t.tgtype !== WRITTEN_TGTYPE) {
        problems.push(
          `${feed.id}: ${name} expected AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE FOR EACH STATEMENT (tgtype ${WRITTEN_TGTYPE}), found tgtype ${t.tgtype}`,
        );
      }
      if (t.enabled !== 'O')
        problems.push(`${feed.id}: ${name} expected enabled, found tgenabled ${t.enabled}`);
    }
    expect(problems).toEqual([]);
  });
});

// ---- Compile-time: src/warehouse/schema.ts's Database lists every feed table with its columns. ----

const DECLARED = DECLARED_FEEDS;
type Declared = typeof DECLARED;

/**
 * Compile-time assertions: these do nothing when called; tsc rejects the call when the type argument breaks the
 * constraint. A feed id Database lacks shows in the error as the type that is not `never`.
 */
function noneMissing<_T extends never>(): void {}
noneMissing<Exclude<FeedId, keyof Database>>();

type ColumnsOf<F extends FeedDefinition> =
  | keyof F['fields']
  | typeof VERSION_ID.name
  | (typeof HISTORY_COLUMNS)[number]['name']
  | (F extends { identity: object } ? typeof ID_LINK.name : never);
type DatabaseColumns<K extends FeedId> = K extends keyof Database ? keyof Database[K] : never;
/** Per feed: columns the declaration implies that Database lacks, and Database columns it does not imply. */
type Drift = {
  [K in FeedId]: {
    missing: Exclude<ColumnsOf<Declared[K]>, DatabaseColumns<K>>;
    extra: Exclude<DatabaseColumns<K>, ColumnsOf<Declared[K]>>;
  };
};
/** A drift names the feed and the column in the error: "Types of property 'water' are incompatible…". */
function inStep<_T extends Record<FeedId, { missing: never; extra: never }>>(): void {}
inStep<Drift>();
