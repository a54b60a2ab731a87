import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import { terminalError } from '../../core/errors.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { distributeWarehouse, hasCitus } from './distribution.ts';
import { createFeedTable, feedTableProblems } from './feed-table.ts';
import { NORMALIZE_FUNCTIONS } from './functions/normalize-sql.ts';
import * as m0001 from './migrations/0001-initial.ts';
import * as m0002 from './migrations/0002-more-feeds.ts';
import * as m0003 from './migrations/0003-quarantine-record.ts';
import * as m0004 from './migrations/0004-feedback.ts';
import * as m0005 from './migrations/0005-job-slots.ts';
import * as m0006 from './migrations/0006-access.ts';
import * as m0007 from './migrations/0007-regions.ts';
import * as m0008 from './migrations/0008-identity.ts';
import * as m0009 from './migrations/0009-no-per-row-run-checks.ts';
import * as m0010 from './migrations/0010-raw-hash.ts';
import * as m0011 from './migrations/0011-load-settings.ts';
import * as m0012 from './migrations/0012-conflict-names.ts';
import * as m0013 from './migrations/0013-file-size.ts';
import * as m0014 from './migrations/0014-recognition-cache.ts';
import * as m0015 from './migrations/0015-student-roll-sex.ts';
import * as m0016 from './migrations/0016-console-sessions.ts';
import * as m0017 from './migrations/0017-audit-chain.ts';
import * as m0018 from './migrations/0018-money-cents.ts';
import * as m0019 from './migrations/0019-data-date.ts';
import * as m0020 from './migrations/0020-valid-time.ts';
import * as m0021 from './migrations/0021-finding-lineage.ts';
import * as m0022 from './migrations/0022-retention.ts';
import * as m0023 from './migrations/0023-approvals.ts';
import * as m0024 from './migrations/0024-version-indexes.ts';
import type { Database } from './schema.ts';

/** Numbered, forward-only migrations. Add new ones at the end; never edit a shipped one. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-more-feeds': m0002,
  '0003-quarantine-record': m0003,
  '0004-feedback': m0004,
  '0005-job-slots': m0005,
  '0006-access': m0006,
  '0007-regions': m0007,
  '0008-identity': m0008,
  '0009-no-per-row-run-checks': m0009,
  '0010-raw-hash': m0010,
  '0011-load-settings': m0011,
  '0012-conflict-names': m0012,
  '0013-file-size': m0013,
  '0014-recognition-cache': m0014,
  '0015-student-roll-sex': m0015,
  '0016-console-sessions': m0016,
  '0017-audit-chain': m0017,
  '0018-money-cents': m0018,
  '0019-data-date': m0019,
  '0020-valid-time': m0020,
  '0021-finding-lineage': m0021,
  '0022-retention': m0022,
  '0023-approvals': m0023,
  '0024-version-indexes': m0024,
};

/** Repeatable definitions (functions), re-applied on every migrate; CREATE OR REPLACE keeps it idempotent. */
const REPEATABLE = [...NORMALIZE_FUNCTIONS];

export interface MigrateOutcome {
  /** Numbered migrations applied by this call. */
  applied: string[];
  skipped: number;
  /** Feeds whose table this call created from their declaration (createFeedTable). */
  feedTables: string[];
  /** On a Citus coordinator: the tables this call distributed or made reference tables (distribution.ts). */
  distributed?: string[];
}

/** The feeds whose tables the warehouse must have: the project's registry, or an extension's own list. */
export type FeedRegistry = Readonly<Record<string, FeedDefinition>>;

export interface MigrateOptions {
  /** Default: the project's registry (pipelines/feeds/index.ts). */
  feeds?: FeedRegistry;
}

function migrator(db: Kysely<Database>, schema: string): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableSchema: schema,
  });
}

/**
 * Names of migrations not yet applied in `schema` (all of them on an empty database). Reads Kysely's ledger
 * table directly: Kysely's own getMigrations() first lists every table of the database, which fails when a
 * concurrent import drops its staging table (or another schema goes) between the listing and the reading —
 * a spurious error for every command that checks the schema while a load finishes.
 */
export async function pendingMigrations(
  db: Kysely<Database>,
  schema: string,
  opts: MigrateOptions = {},
): Promise<string[]> {
  const exists = await sql<{
    ok: boolean;
  }>`SELECT to_regclass(${`${schema}.kysely_migration`}) IS NOT NULL AS ok`.execute(db);
  if (!exists.rows[0]?.ok) return Object.keys(MIGRATIONS);
  const done = await sql<{
    name: string;
  }>`SELECT name FROM ${sql.table(`${schema}.kysely_migration`)}`.execute(db);
  const applied = new Set(done.rows.map((r) => r.name));
  const pending = Object.keys(MIGRATIONS).filter((m) => !applied.has(m));
  // The feed tables are made after the numbered migrations: only then is a missing one worth naming.
  if (pending.length) return pending;
  const missing = await missingFeedTables(db, schema, Object.values(opts.feeds ?? FEEDS));
  return missing.map((f) => `feed table ${f.id}`);
}

/**
 * The registered feeds without a table in `schema`. A relation of a feed's name that is not a feed table (it has
 * no `<feed>_written` trigger: `runs`, say) is refused: the loader would write into it.
 */
async function missingFeedTables(
  db: Kysely<Database>,
  schema: string,
  feeds: readonly FeedDefinition[],
): Promise<FeedDefinition[]> {
  if (feeds.length === 0) return [];
  const found = await sql<{ feed: string; table: boolean; trigger: boolean }>`
    SELECT f.feed, c.oid IS NOT NULL AS table,
           EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = f.feed || '_written') AS trigger
    FROM unnest(${feeds.map((f) => f.id)}::text[]) AS f(feed)
    LEFT JOIN pg_class c ON c.relname = f.feed AND c.relnamespace = (
      SELECT oid FROM pg_namespace WHERE nspname = ${schema})`.execute(db);
  const clash = found.rows.filter((r) => r.table && !r.trigger).map((r) => r.feed);
  if (clash.length) {
    throw terminalError(
      `feed ${clash.join(', ')}: schema ${schema} has a table of that name that is not a feed table (no ${clash[0]}_written trigger); give the feed another id`,
    );
  }
  const missing = new Set(found.rows.filter((r) => !r.table).map((r) => r.feed));
  return feeds.filter((f) => missing.has(f.id));
}

/**
 * Kysely's migration lock on PostgreSQL (PostgresAdapter.acquireMigrationLock, kysely 0.28): a feed table is made
 * under the same advisory lock as the numbered migrations, so it never runs beside a migrator of another process.
 */
export const KYSELY_MIGRATION_LOCK = '3853314791062309107';

/**
 * Creates the table of every registered feed that has none yet (createFeedTable), under the migrators' lock and in
 * one transaction: two processes migrating at once make it once, and a failure leaves none half made.
 */
async function createMissingFeedTables(
  db: Kysely<Database>,
  schema: string,
  feeds: readonly FeedDefinition[],
): Promise<string[]> {
  // Unlocked first: the common case (every table there) takes no lock the other schemas' migrators wait on.
  if ((await missingFeedTables(db, schema, feeds)).length === 0) return [];
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(KYSELY_MIGRATION_LOCK)}::bigint)`.execute(trx);
    const missing = await missingFeedTables(trx, schema, feeds);
    for (const feed of missing) {
      try {
        await createFeedTable(trx, feed);
      } catch (err) {
        // PostgreSQL's words alone (a relation that already exists, say) would not name the declaration at fault.
        throw terminalError(`feed table ${feed.id} could not be created: ${(err as Error).message}`, err);
      }
    }
    return missing.map((f) => f.id);
  });
}

/**
 * A feed whose declaration changed without the numbered migration its table needs is refused (terminal error)
 * naming the columns — by `migrate`, and by every command that checks the schema before it starts — rather than
 * by the first load failing on one.
 */
export async function expectFeedTablesMatch(
  db: Kysely<Database>,
  schema: string,
  feeds: readonly FeedDefinition[] = Object.values(FEEDS),
): Promise<void> {
  const problems = await feedTableProblems(db, schema, feeds);
  if (problems.length) {
    throw terminalError(
      `feed tables do not match their declarations (a changed feed needs a numbered migration): ${problems.join('; ')}`,
    );
  }
}

const RACE_CODES = new Set(['42P01', '3F000', '42703', 'XX000']);

export function isIntrospectionRace(result: MigrationResultSet): boolean {
  const code = (result.error as { code?: string } | undefined)?.code;
  // Between Kysely's catalog listing and its reading (pg_get_serial_sequence on every column of every table of
  // the database), another session's DDL removed what was listed: 42P01 a table, 3F000 a whole schema, 42703 a
  // column (a migration in another warehouse's schema), XX000 "cache lookup failed" for a relation mid-drop.
  return RACE_CODES.has(code ?? '') && (result.results ?? []).length === 0;
}

/**
 * Applies pending migrations inside `schema` (Kysely's Migrator holds an advisory lock so two processes never
 * migrate at once), creates the table of each registered feed that has none yet (`opts.feeds`, default the
 * project's registry) from its declaration, then re-applies the repeatable definitions under an advisory lock.
 * Then it refuses (terminal error) a registered feed whose table lacks what its declaration now needs. Last, on a
 * server with the citus extension, it places every table on the cluster as src/warehouse/distribution.ts declares.
 */
export async function migrate(
  db: Kysely<Database>,
  schema: string,
  opts: MigrateOptions = {},
): Promise<MigrateOutcome> {
  // Under a lock: two commands started at once on a new warehouse both see no schema, and the loser of a bare
  // CREATE SCHEMA IF NOT EXISTS fails on pg_namespace's unique index (23505) instead of finding it there.
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.schema'), hashtext(${schema}))`.execute(trx);
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(trx);
  });
  let result: MigrationResultSet = await migrator(db, schema).migrateToLatest();
  // Kysely's Migrator introspects every table of the database before it takes its lock; a table dropped
  // meanwhile in another schema (a finishing import's staging table, another warehouse's schema) makes that
  // read fail before any migration ran. That is a race, not a failure of ours: try again.
  for (let attempt = 1; attempt <= 10 && isIntrospectionRace(result); attempt++) {
    await new Promise((r) => setTimeout(r, 50 * attempt));
    result = await migrator(db, schema).migrateToLatest();
  }
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw terminalError(`migration ${failed} failed: ${(result.error as Error).message}`, result.error);
  }
  const feeds = Object.values(opts.feeds ?? FEEDS);
  const feedTables = await createMissingFeedTables(db, schema, feeds);
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.repeatable'), hashtext(${schema}))`.execute(
      trx,
    );
    for (const stmt of REPEATABLE) await stmt.execute(trx);
  });
  await expectFeedTablesMatch(db, schema, feeds);
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const outcome = { applied, skipped: Object.keys(MIGRATIONS).length - applied.length, feedTables };
  // On a Citus coordinator the same schema is then placed on the cluster (issue 26); a single server has no
  // citus extension and nothing more is done.
  if (!(await hasCitus(db))) return outcome;
  return { ...outcome, distributed: await distributeWarehouse(db, schema, feeds) };
}
