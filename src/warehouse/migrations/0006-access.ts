/**
 * 0006: access for the HTTP API and BI tools (DOMAIN §9).
 *
 *  - api_tokens: API tokens, stored as SHA-256 hashes (a token is 32 random bytes, so a fast hash is enough;
 *    the plain token is shown once, at creation), with a role and, for departments, the department.
 *  - Department boundaries in the database: row-level security on findings and finding_events, forced for the
 *    table owner too. A session that sets `ruralhub.department` sees only that department's findings; one
 *    that does not (the CLI, the matcher) sees all. Superusers bypass row-level security, so the API also
 *    switches to the NOLOGIN role <schema>_department for department requests.
 *  - <schema>_reporting: masked views for BI tools, and the NOLOGIN role <schema>_reader that may read them
 *    and nothing else. Grant it to a login role: `GRANT ruralhub_reader TO metabase;`.
 *
 * Roles are cluster-wide and need CREATEROLE; without it the roles are skipped with a notice (the views and
 * policies are still created) and an administrator can create them later with the statements below.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE api_tokens (
      id           bigserial PRIMARY KEY,
      token_sha256 text NOT NULL UNIQUE,
      role         text NOT NULL CHECK (role IN ('bureau', 'operator', 'department')),
      department   text,
      label        text,
      created_at   timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at   timestamptz,
      CHECK ((role = 'department') = (department IS NOT NULL))
    )`.execute(db);

  // The one mask format (src/normalize/mask.ts), for SQL readers.
  await sql`
    CREATE FUNCTION rh_mask(v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN v IS NULL THEN NULL
                  WHEN char_length(v) <= 8 THEN repeat('*', char_length(v))
                  ELSE left(v, 4) || repeat('*', char_length(v) - 8) || right(v, 4) END
    $$`.execute(db);

  const scoped = sql`(coalesce(current_setting('ruralhub.department', true), '') = ''
    OR department = current_setting('ruralhub.department', true))`;
  await sql`ALTER TABLE findings ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE findings FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`CREATE POLICY department_scope ON findings USING ${scoped} WITH CHECK ${scoped}`.execute(db);
  await sql`ALTER TABLE finding_events ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE finding_events FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`CREATE POLICY department_scope ON finding_events
    USING (EXISTS (SELECT 1 FROM findings f WHERE f.id = finding_id))`.execute(db);

  await sql`DO $$
    DECLARE s text := current_schema();
    BEGIN
      EXECUTE format('CREATE SCHEMA %I', s || '_reporting');
      EXECUTE format($v$CREATE VIEW %I.findings AS
        SELECT f.id, f.rule_id, f.department, f.subject_kind, f.state, f.close_reason, f.feedback,
               %I.rh_mask(f.id_number) AS id_number_masked, f.township, f.village,
               f.first_seen_on, f.last_seen_on, f.deadline, f.sent_on, f.closed_on,
               CASE WHEN f.state <> 'closed' THEN greatest(0, current_date - f.deadline) ELSE 0 END AS overdue_days
        FROM %I.findings f$v$, s || '_reporting', s, s);
      EXECUTE format($v$CREATE VIEW %I.finding_counts AS
        SELECT rule_id, department, coalesce(township, '') AS township, state, count(*) AS findings,
               count(*) FILTER (WHERE state <> 'closed' AND deadline < current_date) AS overdue
        FROM %I.findings GROUP BY 1, 2, 3, 4$v$, s || '_reporting', s);
      EXECUTE format($v$CREATE VIEW %I.runs AS
        SELECT id, kind, feed, source, status, started_at, finished_at, rows_read, rows_loaded, rows_new,
               rows_changed, rows_unchanged, rows_ended, rows_quarantined, exact_duplicates,
               conflicting_duplicates, error
        FROM %I.runs$v$, s || '_reporting', s);
      EXECUTE format($v$CREATE VIEW %I.feed_freshness AS
        SELECT feed, last_success_at, current_rows FROM %I.feed_state$v$, s || '_reporting', s);
      EXECUTE format($v$CREATE VIEW %I.focus_population AS
        SELECT coalesce(township, '') AS township, coalesce(village, '') AS village,
               count(DISTINCT household_id) AS households, count(*) AS persons,
               count(*) FILTER (WHERE household_type = 'monitored') AS monitored_persons
        FROM %I.roster WHERE valid_to IS NULL GROUP BY 1, 2$v$, s || '_reporting', s);
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', s || '_department');
        EXECUTE format('CREATE ROLE %I NOLOGIN', s || '_reader');
      EXCEPTION
        WHEN duplicate_object THEN NULL;
        WHEN insufficient_privilege THEN
          RAISE NOTICE 'no CREATEROLE: roles %_department and %_reader not created', s, s;
          RETURN;
      END;
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, s || '_department');
      EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', s, s || '_department');
      EXECUTE format('GRANT UPDATE ON %I.findings TO %I', s, s || '_department');
      EXECUTE format('GRANT INSERT ON %I.finding_events, %I.audit_log TO %I', s, s, s || '_department');
      EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I', s, s || '_department');
      EXECUTE format('REVOKE SELECT ON %I.api_tokens FROM %I', s, s || '_department');
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s || '_reporting', s || '_reader');
      EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', s || '_reporting', s || '_reader');
    END $$`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
