import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import { terminalError } from '../../core/errors.ts';
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
};

/** Repeatable definitions (functions), re-applied on every migrate; CREATE OR REPLACE keeps it idempotent. */
const REPEATABLE = [...NORMALIZE_FUNCTIONS];

export interface MigrateOutcome {
  applied: string[];
  skipped: number;
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
export async function pendingMigrations(db: Kysely<Database>, schema: string): Promise<string[]> {
  const exists = await sql<{
    ok: boolean;
  }>`SELECT to_regclass(${`${schema}.kysely_migration`}) IS NOT NULL AS ok`.execute(db);
  if (!exists.rows[0]?.ok) return Object.keys(MIGRATIONS);
  const done = await sql<{
    name: string;
  }>`SELECT name FROM ${sql.table(`${schema}.kysely_migration`)}`.execute(db);
  const applied = new Set(done.rows.map((r) => r.name));
  return Object.keys(MIGRATIONS).filter((m) => !applied.has(m));
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
 * Applies pending migrations inside `schema` (Kysely's Migrator holds a lock table so two processes never
 * migrate at once), then re-applies the repeatable definitions under an advisory lock.
 */
export async function migrate(db: Kysely<Database>, schema: string): Promise<MigrateOutcome> {
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
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
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.repeatable'), hashtext(${schema}))`.execute(
      trx,
    );
    for (const stmt of REPEATABLE) await stmt.execute(trx);
  });
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, skipped: Object.keys(MIGRATIONS).length - applied.length };
}
