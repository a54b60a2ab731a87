/**
 * 0001: the ledger, quarantine, the first three feeds with history, findings and their events, audit.
 * Forward-only: never edit a migration that has shipped; add the next number.
 * Tables are created unqualified: the connection's search_path puts the configured schema first.
 */
import { type Kysely, sql } from 'kysely';
import { createFeedTable0001 } from './frozen.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is being created
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE runs (
      id            bigserial PRIMARY KEY,
      kind          text NOT NULL CHECK (kind IN ('import', 'match', 'export')),
      feed          text,
      status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'noop', 'failed', 'held', 'skipped')),
      source        text,
      source_sha256 text,
      started_at    timestamptz NOT NULL DEFAULT now(),
      finished_at   timestamptz,
      rows_read              bigint NOT NULL DEFAULT 0,
      rows_loaded            bigint NOT NULL DEFAULT 0,
      rows_new               bigint NOT NULL DEFAULT 0,
      rows_changed           bigint NOT NULL DEFAULT 0,
      rows_unchanged         bigint NOT NULL DEFAULT 0,
      rows_ended             bigint NOT NULL DEFAULT 0,
      rows_quarantined       bigint NOT NULL DEFAULT 0,
      exact_duplicates       bigint NOT NULL DEFAULT 0,
      conflicting_duplicates bigint NOT NULL DEFAULT 0,
      rows_skipped           bigint NOT NULL DEFAULT 0,
      details       jsonb NOT NULL DEFAULT '{}'::jsonb,
      error         text,
      pid           integer,
      -- The ledger equation (principle 5) is enforced by the database for every finished import.
      CONSTRAINT runs_reconcile CHECK (
        kind <> 'import' OR status NOT IN ('succeeded', 'noop', 'held') OR
        rows_read = rows_loaded + rows_quarantined + exact_duplicates + conflicting_duplicates),
      CONSTRAINT runs_loaded_split CHECK (rows_loaded = rows_new + rows_changed + rows_unchanged)
    )`.execute(db);
  await sql`CREATE INDEX runs_feed_started ON runs (feed, started_at DESC)`.execute(db);

  await sql`
    CREATE TABLE feed_state (
      feed            text PRIMARY KEY,
      last_run_id     bigint REFERENCES runs (id),
      last_sha256     text,
      cursor          text,
      last_success_at timestamptz,
      current_rows    bigint NOT NULL DEFAULT 0
    )`.execute(db);

  await sql`
    CREATE TABLE quarantine (
      id         bigserial PRIMARY KEY,
      run_id     bigint NOT NULL REFERENCES runs (id),
      feed       text NOT NULL,
      source     text NOT NULL,
      sheet      text,
      row_number integer NOT NULL,
      field      text,
      raw_value  text,
      problem    text NOT NULL,
      detail     text
    )`.execute(db);
  await sql`CREATE INDEX quarantine_feed_run ON quarantine (feed, run_id)`.execute(db);

  await sql`
    CREATE TABLE load_conflicts (
      run_id       bigint NOT NULL REFERENCES runs (id),
      feed         text NOT NULL,
      business_key text NOT NULL,
      source       text NOT NULL,
      row_number   integer NOT NULL,
      winner_row   integer NOT NULL
    )`.execute(db);

  // Feed tables: every version of every record, valid_from/valid_to, and the runs that wrote/ended it.
  await createFeedTable0001(
    db,
    'roster',
    sql`id_number text NOT NULL, household_id text NOT NULL, name text NOT NULL,
      county text, township text, village text, village_code text, sex text, relation text,
      household_type text NOT NULL, monitor_category text, risk_type text, risk_eliminated boolean,
      identified_on date, risk_eliminated_on date, labor_capacity text, schooling_status text,
      income_per_capita numeric(14, 2), phone text`,
    ['id_number'],
  );
  await sql`CREATE INDEX roster_household ON roster (household_id) WHERE valid_to IS NULL`.execute(db);
  await createFeedTable0001(
    db,
    'student_roll',
    sql`id_number text NOT NULL, name text NOT NULL, school_code text, school_name text, stage text,
      grade text, status text NOT NULL, updated_on date`,
    ['id_number'],
  );
  await createFeedTable0001(
    db,
    'home_schooling',
    sql`id_number text NOT NULL, name text NOT NULL, disability_category text, school_name text, started_on date`,
    ['id_number'],
  );
  await createFeedTable0001(
    db,
    'insurance',
    sql`id_number text NOT NULL, name text NOT NULL, scheme text NOT NULL, year integer NOT NULL,
      status text NOT NULL, subsidy_category text, place text`,
    ['id_number', 'year', 'scheme'],
  );

  await sql`
    CREATE TABLE findings (
      id             bigserial PRIMARY KEY,
      rule_id        text NOT NULL,
      subject_key    text NOT NULL,
      subject_kind   text NOT NULL CHECK (subject_kind IN ('person', 'household', 'record')),
      department     text NOT NULL,
      state          text NOT NULL CHECK (state IN ('open', 'sent', 'feedback', 'closed', 'reopened')),
      close_reason   text CHECK (close_reason IN ('data', 'review')),
      id_number      text,
      household_id   text,
      name           text,
      township       text,
      village        text,
      details        jsonb NOT NULL DEFAULT '{}'::jsonb,
      first_seen_on  date NOT NULL,
      first_seen_run bigint NOT NULL REFERENCES runs (id),
      last_seen_on   date NOT NULL,
      last_seen_run  bigint NOT NULL REFERENCES runs (id),
      deadline       date NOT NULL,
      sent_on        date,
      closed_on      date,
      UNIQUE (rule_id, subject_key)
    )`.execute(db);
  await sql`CREATE INDEX findings_department_state ON findings (department, state)`.execute(db);

  await sql`
    CREATE TABLE finding_events (
      id         bigserial PRIMARY KEY,
      finding_id bigint NOT NULL REFERENCES findings (id),
      run_id     bigint REFERENCES runs (id),
      at         timestamptz NOT NULL DEFAULT now(),
      from_state text,
      to_state   text NOT NULL,
      reason     text NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX finding_events_finding ON finding_events (finding_id)`.execute(db);

  await sql`
    CREATE TABLE audit_log (
      id         bigserial PRIMARY KEY,
      at         timestamptz NOT NULL DEFAULT now(),
      actor      text NOT NULL,
      role       text NOT NULL,
      department text,
      action     text NOT NULL,
      target     text,
      row_count  integer NOT NULL DEFAULT 0,
      details    jsonb NOT NULL DEFAULT '{}'::jsonb
    )`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('migrations are forward-only');
}
