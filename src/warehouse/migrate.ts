import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import { terminalError } from '../../core/errors.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { createFeedTable, feedTableProblems } from './feed-table.ts';
import type { Database } from './schema.ts';

/**
 * Numbered, forward-only migrations. Add new ones at the end; never edit a shipped one. Each is loaded when a
 * migration runs, not when this module is: every command checks the schema (pendingMigrations: the names
 * only) and leaves the migrations' modules, and the SQL functions and distribution `migrate` applies, unloaded
 * (in the bundle, chunks of their own): ~25 ms of every start of a command that opens the warehouse.
 */
const MIGRATIONS: Record<string, () => Promise<Migration>> = {
  '0001-initial': () => import('./migrations/0001-initial.ts'),
  '0002-more-feeds': () => import('./migrations/0002-more-feeds.ts'),
  '0003-quarantine-record': () => import('./migrations/0003-quarantine-record.ts'),
  '0004-feedback': () => import('./migrations/0004-feedback.ts'),
  '0005-job-slots': () => import('./migrations/0005-job-slots.ts'),
  '0006-access': () => import('./migrations/0006-access.ts'),
  '0007-regions': () => import('./migrations/0007-regions.ts'),
  '0008-identity': () => import('./migrations/0008-identity.ts'),
  '0009-no-per-row-run-checks': () => import('./migrations/0009-no-per-row-run-checks.ts'),
  '0010-raw-hash': () => import('./migrations/0010-raw-hash.ts'),
  '0011-load-settings': () => import('./migrations/0011-load-settings.ts'),
  '0012-conflict-names': () => import('./migrations/0012-conflict-names.ts'),
  '0013-file-size': () => import('./migrations/0013-file-size.ts'),
  '0014-recognition-cache': () => import('./migrations/0014-recognition-cache.ts'),
  '0015-student-roll-sex': () => import('./migrations/0015-student-roll-sex.ts'),
  '0016-console-sessions': () => import('./migrations/0016-console-sessions.ts'),
  '0017-audit-chain': () => import('./migrations/0017-audit-chain.ts'),
  '0018-money-cents': () => import('./migrations/0018-money-cents.ts'),
  '0019-data-date': () => import('./migrations/0019-data-date.ts'),
  '0020-valid-time': () => import('./migrations/0020-valid-time.ts'),
  '0021-finding-lineage': () => import('./migrations/0021-finding-lineage.ts'),
  '0022-retention': () => import('./migrations/0022-retention.ts'),
  '0023-approvals': () => import('./migrations/0023-approvals.ts'),
  '0024-version-indexes': () => import('./migrations/0024-version-indexes.ts'),
};

/** Repeatable definitions (functions), re-applied on every migrate; CREATE OR REPLACE keeps it idempotent. */
const repeatable = async () => [...(await import('./functions/normalize-sql.ts')).NORMALIZE_FUNCTIONS];

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
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          await Promise.all(Object.entries(MIGRATIONS).map(async ([name, load]) => [name, await load()])),
        ),
    },
    migrationTableSchema: schema,
  });
}

/**
 * Names of migrations not yet applied in `schema` (all of them on an empty database). Reads Kysely's ledger
 * table directly: Kysely's own getMigrations() first lists every table of the database, which fails when a
 * concurrent import drops its staging table (or another schema goes) between the listing and the reading —
 * a spurious error for every command that checks the schema while a load finishes.
 *
 * One statement, one round trip, reads both the ledger and the feeds' tables (every command that opens the
 * warehouse waits for this check; on a busy server each round trip is 2–7 ms): the feed tables are named only
 * when no numbered migration is pending, as they are made after those. A database without the ledger table (or
 * the schema) fails the statement with 42P01 or 3F000: every migration is pending. `db` is never a transaction
 * here (a failed statement would end it).
 */
export async function pendingMigrations(
  db: Kysely<Database>,
  schema: string,
  opts: MigrateOptions = {},
): Promise<string[]> {
  const feeds = Object.values(opts.feeds ?? FEEDS);
  let read: { applied: string[]; feeds: FeedTableRow[] };
  try {
    const r = await sql<{ applied: string[] | null; feeds: FeedTableRow[] | null }>`
      SELECT (SELECT array_agg(name) FROM ${sql.table(`${schema}.kysely_migration`)}) AS applied,
             (${feedTablesQuery(schema, feeds)}) AS feeds`.execute(db);
    read = { applied: r.rows[0]?.applied ?? [], feeds: r.rows[0]?.feeds ?? [] };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === '42P01' || code === '3F000') return Object.keys(MIGRATIONS);
    throw err;
  }
  const applied = new Set(read.applied);
  const pending = Object.keys(MIGRATIONS).filter((m) => !applied.has(m));
  // The feed tables are made after the numbered migrations: only then is a missing one worth naming.
  if (pending.length) return pending;
  return missingOf(schema, feeds, read.feeds).map((f) => `feed table ${f.id}`);
}

/** A registered feed, whether `schema` has a relation of its name, and whether that has the feed's trigger. */
interface FeedTableRow {
  feed: string;
  table: boolean;
  trigger: boolean;
}

/** The rows of `feeds` (FeedTableRow) as one JSON array: null when there are none. */
function feedTablesQuery(schema: string, feeds: readonly FeedDefinition[]) {
  return sql<FeedTableRow[] | null>`
    SELECT json_agg(json_build_object('feed', f.feed, 'table', c.oid IS NOT NULL, 'trigger',
             EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = f.feed || '_written')))
    FROM unnest(${feeds.map((f) => f.id)}::text[]) AS f(feed)
    LEFT JOIN pg_class c ON c.relname = f.feed AND c.relnamespace = (
      SELECT oid FROM pg_namespace WHERE nspname = ${schema})`;
}

/**
 * The registered feeds without a table in `schema`. A relation of a feed's name that is not a feed table (it has
 * no `<feed>_written` trigger: `runs`, say) is refused: the loader would write into it.
 */
function missingOf(
  schema: string,
  feeds: readonly FeedDefinition[],
  found: readonly FeedTableRow[],
): FeedDefinition[] {
  const clash = found.filter((r) => r.table && !r.trigger).map((r) => r.feed);
  if (clash.length) {
    throw terminalError(
      `feed ${clash.join(', ')}: schema ${schema} has a table of that name that is not a feed table (no ${clash[0]}_written trigger); give the feed another id`,
    );
  }
  const missing = new Set(found.filter((r) => !r.table).map((r) => r.feed));
  return feeds.filter((f) => missing.has(f.id));
}

/** The registered feeds without a table in `schema` (missingOf). */
async function missingFeedTables(
  db: Kysely<Database>,
  schema: string,
  feeds: readonly FeedDefinition[],
): Promise<FeedDefinition[]> {
  if (feeds.length === 0) return [];
  const r = await sql<{
    feeds: FeedTableRow[] | null;
  }>`SELECT (${feedTablesQuery(schema, feeds)}) AS feeds`.execute(db);
  return missingOf(schema, feeds, r.rows[0]?.feeds ?? []);
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
    for (const stmt of await repeatable()) await stmt.execute(trx);
  });
  await expectFeedTablesMatch(db, schema, feeds);
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const outcome = { applied, skipped: Object.keys(MIGRATIONS).length - applied.length, feedTables };
  // On a Citus coordinator the same schema is then placed on the cluster (issue 26); a single server has no
  // citus extension and nothing more is done.
  const { distributeWarehouse, hasCitus } = await import('./distribution.ts');
  if (!(await hasCitus(db))) return outcome;
  return { ...outcome, distributed: await distributeWarehouse(db, schema, feeds) };
}
