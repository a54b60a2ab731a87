/**
 * Bureau review of `not_an_issue` answers (DOMAIN §7): accepting one closes the finding by review, which
 * suppresses it — the matcher does not reopen it until the suppression period has passed (transitions.ts);
 * rejecting one sends it back to the department as `sent` with its answer cleared, to be checked again.
 */
import { sql } from 'kysely';
import { insertFindingEvents } from '../findings/events.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';

/** History reason of a review acceptance; the monthly report counts closures by review by it. */
export const REVIEW_ACCEPTED = 'not_an_issue accepted by the bureau';

export interface PendingReview {
  id: string;
  rule_id: string;
  department: string;
  id_number: string | null;
  name: string | null;
  township: string | null;
  village: string | null;
  feedback_reason: string | null;
  feedback_on: string | null;
}

/** The columns of the review queue, in the order the CLI prints them. */
export const PENDING_REVIEW_COLUMNS = [
  'id',
  'rule_id',
  'department',
  'id_number',
  'name',
  'township',
  'village',
  'feedback_reason',
  'feedback_on',
] as const;

export async function pendingReviews(wh: Warehouse, department?: string): Promise<PendingReview[]> {
  let q = wh.db
    .selectFrom('findings')
    .select([sql<string>`id::text`.as('id'), ...PENDING_REVIEW_COLUMNS.filter((c) => c !== 'id')])
    .where('state', '=', 'feedback')
    .where('feedback', '=', 'not_an_issue')
    .orderBy('feedback_on')
    .orderBy('id');
  if (department) q = q.where('department', '=', department);
  return q.execute();
}

export interface ReviewParams {
  wh: Warehouse;
  ids: readonly string[];
  decision: 'accept' | 'reject';
  asOf: string;
  actor: string;
  /** Why a rejection was made; written to the history. */
  note?: string;
}

/** Applies the decision to those of `ids` that await review; returns the ids changed. */
export async function decideReviews(p: ReviewParams): Promise<string[]> {
  const accept = p.decision === 'accept';
  return p.wh.db.transaction().execute(async (trx) => {
    const done = await sql<{ id: string }>`
      WITH o AS (
        SELECT id FROM findings
        WHERE id = ANY(${p.ids}::bigint[]) AND state = 'feedback' AND feedback = 'not_an_issue'
        FOR UPDATE),
      u AS (
        UPDATE findings f SET
          state = ${accept ? 'closed' : 'sent'},
          close_reason = ${accept ? 'review' : null},
          closed_on = ${accept ? p.asOf : null}::date,
          feedback = CASE WHEN ${accept} THEN f.feedback END,
          feedback_reason = CASE WHEN ${accept} THEN f.feedback_reason END,
          feedback_on = CASE WHEN ${accept} THEN f.feedback_on END
        FROM o WHERE f.id = o.id
        RETURNING f.id, f.feedback_reason),
      ev AS (${insertFindingEvents({
        from: sql`u`,
        fromState: 'feedback',
        toState: accept ? 'closed' : 'sent',
        reason: accept
          ? REVIEW_ACCEPTED
          : `not_an_issue rejected by the bureau${p.note ? `: ${p.note}` : ''}`,
        onDate: p.asOf,
      })})
      SELECT id::text AS id FROM u ORDER BY id`.execute(trx);
    const ids = done.rows.map((r) => r.id);
    await writeAudit(trx, {
      actor: p.actor,
      role: 'bureau',
      action: `findings.review.${p.decision}`,
      target: ids.join(','),
      rowCount: ids.length,
      details: { requested: p.ids.length, as_of: p.asOf, note: p.note ?? null },
    });
    return ids;
  });
}
