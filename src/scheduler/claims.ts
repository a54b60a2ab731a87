/**
 * Slot claims in PostgreSQL: the primary key (job, slot) makes "who runs this slot" a single conditional
 * INSERT, and retries re-claim the same row with a conditional UPDATE, so concurrent schedulers never run a
 * slot twice. A claim belongs to a session (application_name); when that session is gone, so is the process.
 */
import { sql } from 'kysely';
import type { SlotStatus } from '../../schemas/vocab.ts';
import type { Warehouse } from '../warehouse/connect.ts';

export interface SlotKey {
  job: string;
  slot: Date;
}

/** First claim of a slot. True when this scheduler won it. */
export async function claimNew(wh: Warehouse, k: SlotKey & { kind: string }, me: string, now: Date) {
  const r = await wh.db
    .insertInto('job_slots')
    .values({
      job: k.job,
      slot: k.slot,
      kind: k.kind,
      status: 'running',
      attempts: 1,
      claimed_by: me,
      claimed_at: now,
    })
    .onConflict((oc) => oc.columns(['job', 'slot']).doNothing())
    .returning('attempts')
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * Re-claims slots waiting for another attempt (`retry`) or a re-check (`held`) whose time has come.
 * Returns them with the attempt number now running (a held re-check does not use up an attempt).
 */
export async function claimDue(wh: Warehouse, me: string, now: Date) {
  const r = await sql<{ job: string; slot: Date; attempts: number }>`
    UPDATE job_slots SET status = 'running', claimed_by = ${me}, claimed_at = ${now},
      attempts = attempts + CASE WHEN status = 'retry' THEN 1 ELSE 0 END
    WHERE status IN ('retry', 'held') AND next_attempt_at <= ${now}
    RETURNING job, slot, attempts`.execute(wh.db);
  return r.rows;
}

export async function finishSlot(
  wh: Warehouse,
  k: SlotKey,
  status: Exclude<SlotStatus, 'running'>,
  o: { error?: string | null; nextAttemptAt?: Date | null; runIds?: readonly number[]; now: Date },
): Promise<void> {
  await wh.db
    .updateTable('job_slots')
    .set({
      status,
      error: o.error ?? null,
      next_attempt_at: o.nextAttemptAt ?? null,
      finished_at: o.now,
      run_ids: sql`run_ids || ${[...(o.runIds ?? [])]}::bigint[]`,
    })
    .where('job', '=', k.job)
    .where('slot', '=', k.slot)
    .execute();
}

/** Records slots that will not run (superseded by a later slot after a downtime). */
export async function skipSlots(
  wh: Warehouse,
  job: string,
  kind: string,
  slots: Date[],
  why: string,
  now: Date,
) {
  if (!slots.length) return;
  await wh.db
    .insertInto('job_slots')
    .values(
      slots.map((slot) => ({ job, slot, kind, status: 'skipped' as const, error: why, finished_at: now })),
    )
    .onConflict((oc) => oc.columns(['job', 'slot']).doNothing())
    .execute();
}

/**
 * Crash recovery: a slot or run still `running` whose session is gone belongs to a dead process. Slots go
 * back to `retry` (the attempt limit still applies); runs are marked failed, as the import lock path does.
 */
export async function recoverDead(wh: Warehouse, now: Date) {
  const slots = await sql<{ job: string }>`
    UPDATE job_slots s SET status = 'retry', next_attempt_at = ${now},
      error = 'the scheduler running it ended (' || coalesce(s.claimed_by, '?') || ')'
    WHERE s.status = 'running'
      AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = s.claimed_by)
    RETURNING s.job`.execute(wh.db);
  const runs = await sql<{ id: number }>`
    UPDATE runs r SET status = 'failed', error = 'abandoned: the process running it ended',
      finished_at = clock_timestamp()
    WHERE r.status = 'running'
      AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = 'ruralhub:' || r.pid)
    RETURNING r.id`.execute(wh.db);
  return { slots: slots.rows.length, runs: runs.rows.length };
}
