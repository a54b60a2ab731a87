/**
 * 0021: the lineage of findings (issue 21). One row per event a match wrote (opened, reopened, closed by data) ×
 * record behind it: a version of a feed table valid at the match's as-of date that belongs to the finding's
 * subject, or, for a record finding whose row was rejected (R13: an ID that cannot be read), the quarantined row.
 * Written by src/findings/lineage.ts in the rule's own transaction (not by a dry run, which rolls back).
 *
 * What the versions say is copied, not only referenced: the feed, the version's load run, its file, sheet and
 * row, the data date of that load (runs.data_date, NULL before 0019) and the record's key fields. Versions are
 * never deleted, but they are ended by later loads; the copy keeps a finding's history readable as it was
 * whatever happens to them (and whatever a later migration does to the feed tables).
 *
 * No foreign keys: like findings and finding_events (0009), this table is written on the match path, and a
 * per-row RI check per version costs more than the insert; ids are written by the matcher only, inside the
 * run's transaction, after the event exists.
 *
 * Not granted to <schema>_department (0006 granted SELECT on the tables that existed then; later tables are not
 * granted, and this one must stay so): a finding's lineage names other departments' records — the school roll
 * behind an insurance finding — which a department must not read. Only sessions without a department (the CLI,
 * the scheduler, the bureau's API handlers) read it.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE finding_lineage (
      id            bigserial PRIMARY KEY,
      finding_id    bigint NOT NULL,
      event_id      bigint NOT NULL,
      match_run_id  bigint NOT NULL,
      as_of         date NOT NULL,
      feed          text NOT NULL,
      version_id    bigint,
      quarantine_id bigint,
      run_id        bigint NOT NULL,
      source        text NOT NULL,
      sheet         text,
      row_number    integer NOT NULL,
      data_date     date,
      record_key    jsonb NOT NULL DEFAULT '{}'::jsonb,
      CHECK (num_nonnulls(version_id, quarantine_id) = 1)
    )`.execute(db);
  await sql`CREATE INDEX finding_lineage_finding ON finding_lineage (finding_id, event_id)`.execute(db);
  // The writer selects the events of one match run: without this index each rule run would scan every event.
  await sql`CREATE INDEX finding_events_run ON finding_events (run_id) WHERE run_id IS NOT NULL`.execute(db);
  // In case a default privilege of the deployment granted it: a department's role never reads lineage.
  await sql`DO $$
    DECLARE s text := current_schema();
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = s || '_department') THEN
        EXECUTE format('REVOKE ALL ON %I.finding_lineage FROM %I', s, s || '_department');
      END IF;
    END $$`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
