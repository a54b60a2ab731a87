/**
 * 0004: the feedback loop (DOMAIN §7–§9).
 *  - findings carry the department's answer: what (rectified / not_an_issue / in_progress), why, the date it
 *    was rectified, the day it was answered, and the list version the item was last sent in;
 *  - finding_events get the business date of each transition (`on_date`: the run's as-of, the export or
 *    answer date), which the monthly report counts by — `at` is only when the row was written;
 *  - audit_log becomes append-only for everyone, the table owner included: a trigger refuses UPDATE, DELETE
 *    and TRUNCATE, so the application's own database role cannot rewrite what it did.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE findings
      ADD COLUMN feedback        text CHECK (feedback IN ('rectified', 'not_an_issue', 'in_progress')),
      ADD COLUMN feedback_reason text,
      ADD COLUMN rectified_on    date,
      ADD COLUMN feedback_on     date,
      ADD COLUMN list_version    text`.execute(db);
  await sql`ALTER TABLE finding_events ADD COLUMN on_date date`.execute(db);
  await sql`UPDATE finding_events SET on_date = (at AT TIME ZONE 'Asia/Shanghai')::date`.execute(db);
  await sql`ALTER TABLE finding_events ALTER COLUMN on_date SET NOT NULL,
    ALTER COLUMN on_date SET DEFAULT current_date`.execute(db);
  await sql`CREATE INDEX finding_events_on_date ON finding_events (on_date)`.execute(db);

  await sql`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
