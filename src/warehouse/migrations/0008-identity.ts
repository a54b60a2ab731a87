/**
 * 0008: person resolution (DOMAIN §5.1).
 *   - Every person feed may carry a birth date and a home village (hints for linking a record whose ID is
 *     missing or invalid), and records how a linked row got its ID (`id_link`: NULL = its own ID).
 *   - `persons` and `households`: stable surrogate keys, given once per ID number / 户编号 and never reused.
 *   - `identity_review`: records that could not be linked to exactly one person, one item per distinct
 *     (feed, raw ID, name key, birth date, village), for an operator to link or dismiss from the CLI.
 * Nullable columns without a default are added without rewriting the tables. `first_run_id` has no foreign key:
 * keys are registered by the loader for every new row it writes, and a per-row RI trigger would cost more
 * than the insert itself (see 0009).
 */
import { type Kysely, sql } from 'kysely';
import { FEED_TABLES_0002 } from './frozen.ts';

/** The feeds about persons: every feed of 0001–0002 but the roster (the reference) and water (no home village). */
const PERSON_FEEDS = FEED_TABLES_0002.filter((t) => t !== 'roster' && t !== 'water');

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  for (const t of PERSON_FEEDS) {
    await sql`ALTER TABLE ${sql.id(t)} ADD COLUMN birth_date date, ADD COLUMN home_village text,
      ADD COLUMN id_link text CHECK (id_link IN ('unique_candidate', 'operator'))`.execute(db);
  }
  await sql`ALTER TABLE water ADD COLUMN birth_date date,
    ADD COLUMN id_link text CHECK (id_link IN ('unique_candidate', 'operator'))`.execute(db);

  // The two registries of surrogate keys: one key per ID number (person) or 户编号 (household), given once.
  for (const [table, key, id] of [
    ['persons', 'person_key', 'id_number'],
    ['households', 'household_key', 'household_id'],
  ] as const) {
    await sql`
      CREATE TABLE ${sql.id(table)} (
        ${sql.id(key)} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ${sql.id(id)}  text NOT NULL UNIQUE,
        first_run_id   bigint,
        first_seen     timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
  }
  // Keys for what earlier versions loaded, in the order it was first loaded.
  const idSources = [
    sql`SELECT id_number AS id, version_id, run_id FROM roster`,
    ...PERSON_FEEDS.filter((t) => !['housing', 'disasters'].includes(t)).map(
      (t) => sql`SELECT id_number, version_id, run_id FROM ${sql.id(t)}`,
    ),
    ...['housing', 'water', 'disasters'].map(
      (t) => sql`SELECT head_id_number, version_id, run_id FROM ${sql.id(t)}`,
    ),
  ];
  await sql`INSERT INTO persons (id_number, first_run_id)
    SELECT id, min(run_id) FROM (${sql.join(idSources, sql` UNION ALL `)}) s
    GROUP BY id ORDER BY min(run_id), min(version_id)`.execute(db);
  await sql`INSERT INTO households (household_id, first_run_id)
    SELECT household_id, min(run_id) FROM roster GROUP BY household_id ORDER BY min(run_id), min(version_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE identity_review (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      feed          text NOT NULL,
      fingerprint   text NOT NULL,
      status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'dismissed')),
      problem       text NOT NULL,
      raw_id        text,
      name          text,
      birth_date    date,
      village       text,
      candidates    integer NOT NULL,
      candidate_keys bigint[] NOT NULL DEFAULT '{}',
      source        text NOT NULL,
      sheet         text,
      row_number    integer NOT NULL,
      first_run_id  bigint NOT NULL REFERENCES runs (id),
      last_run_id   bigint NOT NULL REFERENCES runs (id),
      person_key    bigint REFERENCES persons (person_key),
      resolved_by   text,
      resolved_at   timestamptz,
      note          text,
      UNIQUE (feed, fingerprint),
      CHECK ((status = 'linked') = (person_key IS NOT NULL))
    )`.execute(db);
  await sql`CREATE INDEX identity_review_open ON identity_review (feed) WHERE status = 'open'`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
