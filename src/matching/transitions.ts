/**
 * Finding life cycle (DOMAIN §7) as two set-based statements per rule run, each writing its history rows:
 *
 *   upsert  — every subject found: new → open; found again → last_seen moves; closed by data → reopened;
 *             closed by review → stays closed until its suppression expires, then reopened.
 *   close   — every finding of the rule not found by this run (and not closed) → closed by data.
 *
 * Both read the result of the rule from `match_result` (a temp table of FindingRow). Their moves are those of
 * src/findings/states.ts `by: 'match'`; their events are written by src/findings/events.ts.
 */
import { type Kysely, sql } from 'kysely';
import type { RuleInfo } from '../../pipelines/rules/rule.ts';
import { insertFindingEvents } from '../findings/events.ts';
import type { Database } from '../warehouse/schema.ts';

export interface TransitionCounts {
  found: number;
  new: number;
  reopened: number;
  stillOpen: number;
  closed: number;
}

export interface TransitionParams {
  rule: RuleInfo;
  runId: number;
  asOf: string;
  deadlineDays: number;
  /** A finding closed by review is not reopened before this many days have passed. */
  suppressDays: number;
  resultTable: string;
}

export async function applyTransitions(
  trx: Kysely<Database>,
  p: TransitionParams,
): Promise<TransitionCounts> {
  const { rule, runId, asOf } = p;
  const reopen = sql`(f.state = 'closed' AND (f.close_reason = 'data'
      OR (f.close_reason = 'review' AND f.closed_on + ${p.suppressDays}::int <= ${asOf}::date)))`;
  const up = await sql<{ found: number; new: number; reopened: number; still_open: number }>`
    WITH prev AS (SELECT id, state FROM findings WHERE rule_id = ${rule.id}),
    up AS (
      INSERT INTO findings AS f (rule_id, subject_key, subject_kind, department, state, id_number, household_id,
        name, township, village, details, first_seen_on, first_seen_run, last_seen_on, last_seen_run, deadline)
      SELECT ${rule.id}, m.subject_key, m.subject_kind, m.department, 'open', m.id_number, m.household_id,
        m.name, m.township, m.village, m.details, ${asOf}::date, ${runId}, ${asOf}::date, ${runId},
        ${asOf}::date + ${p.deadlineDays}::int
      FROM ${sql.id(p.resultTable)} m
      ON CONFLICT (rule_id, subject_key) DO UPDATE SET
        last_seen_on = excluded.last_seen_on,
        last_seen_run = excluded.last_seen_run,
        details = excluded.details,
        department = excluded.department,
        id_number = excluded.id_number,
        household_id = excluded.household_id,
        name = excluded.name,
        township = excluded.township,
        village = excluded.village,
        state = CASE WHEN ${reopen} THEN 'reopened' ELSE f.state END,
        close_reason = CASE WHEN ${reopen} THEN NULL ELSE f.close_reason END,
        closed_on = CASE WHEN ${reopen} THEN NULL ELSE f.closed_on END,
        deadline = CASE WHEN ${reopen} THEN excluded.deadline ELSE f.deadline END,
        -- A reopened item is a new case for the department: the old answer no longer applies.
        feedback = CASE WHEN ${reopen} THEN NULL ELSE f.feedback END,
        feedback_reason = CASE WHEN ${reopen} THEN NULL ELSE f.feedback_reason END,
        rectified_on = CASE WHEN ${reopen} THEN NULL ELSE f.rectified_on END,
        feedback_on = CASE WHEN ${reopen} THEN NULL ELSE f.feedback_on END
      RETURNING f.id, f.state, (xmax = 0) AS inserted
    ),
    ev AS (${insertFindingEvents({
      from: sql`up LEFT JOIN prev ON prev.id = up.id`,
      id: sql`up.id`,
      fromState: sql`prev.state`,
      toState: sql`up.state`,
      reason: sql`CASE WHEN up.inserted THEN 'found' ELSE 'found again after being closed' END`,
      where: sql`up.inserted OR prev.state IS DISTINCT FROM up.state`,
      onDate: asOf,
      runId,
    })})
    SELECT count(*)::int AS found,
           count(*) FILTER (WHERE up.inserted)::int AS new,
           count(*) FILTER (WHERE NOT up.inserted AND up.state = 'reopened' AND prev.state = 'closed')::int AS reopened,
           count(*) FILTER (WHERE NOT up.inserted AND up.state <> 'closed' AND prev.state <> 'closed')::int AS still_open
    FROM up LEFT JOIN prev ON prev.id = up.id`.execute(trx);

  const closed = await sql<{ n: number }>`
    WITH gone AS (
      UPDATE findings f SET state = 'closed', close_reason = 'data', closed_on = ${asOf}::date
      FROM (SELECT id, state AS from_state FROM findings
            WHERE rule_id = ${rule.id} AND state <> 'closed' AND last_seen_run <> ${runId} FOR UPDATE) o
      WHERE f.id = o.id
      RETURNING f.id, o.from_state
    ),
    ev AS (${insertFindingEvents({
      from: sql`gone`,
      fromState: sql`from_state`,
      toState: 'closed',
      reason: 'no longer found by the data',
      onDate: asOf,
      runId,
    })})
    SELECT count(*)::int AS n FROM gone`.execute(trx);

  const u = up.rows[0]!;
  return {
    found: u.found,
    new: u.new,
    reopened: u.reopened,
    stillOpen: u.still_open,
    closed: closed.rows[0]!.n,
  };
}
