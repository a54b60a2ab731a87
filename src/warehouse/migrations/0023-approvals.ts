/**
 * 0023: approvals for bulk operations (issue 27). A bulk disclosure of full ID numbers — `findings --full-ids`
 * over more rows than `approvals.findings_full_ids_max_rows`, person lookups over a token's daily allowance — is
 * done only under an approval a second principal gave (src/approvals/).
 *
 *  - `scope` is what exactly is approved (for findings-full-ids: the filter and the number of rows it listed when
 *    asked), compared with the operation when it is used; a different filter or more rows is not covered.
 *  - One decision, by someone else: decided_by is never requested_by (the check below), and a decision is never
 *    changed (the trigger): an approval that was denied cannot be approved later by rewriting the row through the
 *    API; a new request is needed.
 *  - Single use: used_at is set once, by the statement that consumes it (UPDATE … WHERE used_at IS NULL), so two
 *    exports started at once cannot both use it.
 *
 * Not granted to <schema>_department, like every table after 0006: a department token asks through the API, whose
 * handlers write as the server's own role.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE approvals (
      id              bigserial PRIMARY KEY,
      kind            text NOT NULL CHECK (kind IN ('findings-full-ids', 'person-lookups')),
      scope           jsonb NOT NULL,
      requested_by    text NOT NULL CHECK (btrim(requested_by) <> ''),
      reason          text NOT NULL CHECK (char_length(btrim(reason)) >= 2),
      requested_at    timestamptz NOT NULL DEFAULT now(),
      decided_by      text,
      decision        text CHECK (decision IN ('approved', 'denied')),
      decided_at      timestamptz,
      decision_reason text,
      expires_at      timestamptz NOT NULL,
      used_at         timestamptz,
      CHECK (num_nulls(decided_by, decision, decided_at) IN (0, 3)),
      CHECK (decided_by IS DISTINCT FROM requested_by),
      CHECK (used_at IS NULL OR decision = 'approved')
    )`.execute(db);
  await sql`CREATE INDEX approvals_open ON approvals (kind, requested_at) WHERE used_at IS NULL`.execute(db);
  // A token's lookups today are counted at every lookup (src/approvals/person-lookups.ts): only today's rows of
  // one action are read, not the whole log.
  await sql`CREATE INDEX audit_log_person_lookups ON audit_log (at) WHERE action = 'person.lookup'`.execute(
    db,
  );
  // What was asked and what was decided is history: the only change after the decision is marking it used.
  await sql`
    CREATE FUNCTION approvals_keep_decision() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (NEW.kind, NEW.scope, NEW.requested_by, NEW.reason, NEW.requested_at, NEW.expires_at)
         IS DISTINCT FROM (OLD.kind, OLD.scope, OLD.requested_by, OLD.reason, OLD.requested_at, OLD.expires_at)
      THEN RAISE EXCEPTION 'approval %: what was requested cannot be changed', OLD.id;
      END IF;
      IF OLD.decision IS NOT NULL AND (NEW.decided_by, NEW.decision, NEW.decided_at, NEW.decision_reason)
         IS DISTINCT FROM (OLD.decided_by, OLD.decision, OLD.decided_at, OLD.decision_reason)
      THEN RAISE EXCEPTION 'approval %: already %', OLD.id, OLD.decision;
      END IF;
      IF OLD.used_at IS NOT NULL AND NEW.used_at IS DISTINCT FROM OLD.used_at
      THEN RAISE EXCEPTION 'approval %: already used', OLD.id;
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER approvals_keep_decision BEFORE UPDATE ON approvals
    FOR EACH ROW EXECUTE FUNCTION approvals_keep_decision()`.execute(db);
  await sql`DO $$
    DECLARE s text := current_schema();
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = s || '_department') THEN
        EXECUTE format('REVOKE ALL ON %I.approvals FROM %I', s, s || '_department');
      END IF;
    END $$`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
