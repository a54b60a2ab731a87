/**
 * 0007: the deployment's region table (DOMAIN §5.4): county, townships and villages with their 12-digit
 * statistical division codes, loaded by `ruralhub regions load`. Feeds that carry region names or codes are
 * checked against it once it has rows (unknown → region_unknown, ambiguous within the parent →
 * region_ambiguous, both quarantine reasons).
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE regions (
      code        text PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
      name        text NOT NULL,
      level       text NOT NULL CHECK (level IN ('county', 'township', 'village')),
      parent_code text REFERENCES regions (code) DEFERRABLE INITIALLY DEFERRED,
      loaded_at   timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX regions_parent_name ON regions (parent_code, name)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
