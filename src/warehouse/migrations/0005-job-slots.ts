/**
 * 0005: scheduled slots. One row per (job, slot time) is the claim: the scheduler that inserts it runs it, so
 * any number of schedulers on any number of machines run each slot once. Retries re-claim the same row with
 * a conditional UPDATE. `claimed_by` is the claiming session's application_name, so a slot whose claimer's
 * session is gone (the process died) can be recognised and retried.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE job_slots (
      job             text NOT NULL,
      slot            timestamptz NOT NULL,
      kind            text NOT NULL,
      status          text NOT NULL
        CHECK (status IN ('running', 'succeeded', 'retry', 'failed', 'held', 'skipped')),
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      claimed_by      text,
      claimed_at      timestamptz,
      finished_at     timestamptz,
      run_ids         bigint[] NOT NULL DEFAULT '{}',
      error           text,
      PRIMARY KEY (job, slot)
    )`.execute(db);
  await sql`CREATE INDEX job_slots_open ON job_slots (status, next_attempt_at)
    WHERE status IN ('running', 'retry', 'held')`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
