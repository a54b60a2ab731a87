/**
 * The monthly report (DOMAIN §7, §8): what the bureau sends upward and discusses with departments.
 * Computed from the history, not from today's state, so a report for a past month is reproducible:
 * a finding's state at month end is the target of its last transition dated on or before that day.
 *
 *   - state at month end by rule × department × township;
 *   - movements in the month by rule × department: new, closed (by data / by review), reopened, and the
 *     closure rate = closed in the month ÷ (not closed at the start + new + reopened in the month);
 *   - overdue at month end (deadline passed, not closed) with the days overdue;
 *   - open findings per village, where counts below 5 are shown as "<5" in every copy but the bureau's own;
 *   - the indicators of §8 per township with target and status.
 */
import { sql } from 'kysely';
import { REVIEW_ACCEPTED } from '../delivery/review.ts';
import type { Warehouse } from '../warehouse/connect.ts';

export interface MonthRange {
  month: string;
  start: string;
  end: string;
  /** The last day of the previous month: the state "at the start" is the state at its end. */
  before: string;
}

export function monthRange(month: string): MonthRange {
  const m = /^([0-9]{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new Error(`month must be YYYY-MM, got '${month}'`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const before = new Date(Date.UTC(y, mo - 1, 0)).toISOString().slice(0, 10);
  return { month, start: `${month}-01`, end: `${month}-${String(last).padStart(2, '0')}`, before };
}

export interface StateRow {
  rule_id: string;
  department: string;
  township: string;
  state: string;
  n: number;
}

export interface MovementRow {
  rule_id: string;
  department: string;
  open_at_start: number;
  new: number;
  closed: number;
  closed_by_review: number;
  reopened: number;
  open_at_end: number;
  overdue_at_end: number;
  max_days_overdue: number | null;
  closure_rate: number | null;
}

export interface OverdueRow {
  rule_id: string;
  department: string;
  township: string;
  village: string;
  overdue: number;
  max_days_overdue: number;
}

export interface VillageRow {
  township: string;
  village: string;
  open: number;
}

export interface MonthlyFindings {
  range: MonthRange;
  states: StateRow[];
  movements: MovementRow[];
  overdue: OverdueRow[];
  villages: VillageRow[];
}

/** Each finding's state at the end of `day` (its last transition dated on or before it). */
const stateAt = (day: string) => sql`
  SELECT DISTINCT ON (e.finding_id) e.finding_id, e.to_state AS state
  FROM finding_events e WHERE e.on_date <= ${day}::date
  ORDER BY e.finding_id, e.on_date DESC, e.id DESC`;

export async function monthlyFindings(wh: Warehouse, month: string): Promise<MonthlyFindings> {
  const range = monthRange(month);
  const { start, end, before } = range;
  const states = await sql<StateRow>`
    SELECT f.rule_id, f.department, coalesce(f.township, '') AS township, s.state, count(*)::int AS n
    FROM (${stateAt(end)}) s JOIN findings f ON f.id = s.finding_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`.execute(wh.db);

  const movements = await sql<MovementRow>`
    WITH at_start AS (${stateAt(before)}), at_end AS (${stateAt(end)}),
    moves AS (
      SELECT e.finding_id,
        bool_or(e.from_state IS NULL) AS is_new,
        count(*) FILTER (WHERE e.to_state = 'closed') AS closed,
        count(*) FILTER (WHERE e.to_state = 'closed' AND e.reason = ${REVIEW_ACCEPTED}) AS closed_by_review,
        count(*) FILTER (WHERE e.to_state = 'reopened') AS reopened
      FROM finding_events e WHERE e.on_date BETWEEN ${start}::date AND ${end}::date
      GROUP BY e.finding_id),
    per AS (
      SELECT f.rule_id, f.department,
        count(*) FILTER (WHERE s.state <> 'closed') AS open_at_start,
        count(*) FILTER (WHERE m.is_new) AS new,
        coalesce(sum(m.closed), 0) AS closed,
        coalesce(sum(m.closed_by_review), 0) AS closed_by_review,
        coalesce(sum(m.reopened), 0) AS reopened,
        count(*) FILTER (WHERE x.state <> 'closed') AS open_at_end,
        count(*) FILTER (WHERE x.state <> 'closed' AND f.deadline < ${end}::date) AS overdue_at_end,
        max(${end}::date - f.deadline) FILTER (WHERE x.state <> 'closed' AND f.deadline < ${end}::date)
          AS max_days_overdue
      FROM findings f
      JOIN at_end x ON x.finding_id = f.id
      LEFT JOIN at_start s ON s.finding_id = f.id
      LEFT JOIN moves m ON m.finding_id = f.id
      GROUP BY 1, 2)
    SELECT rule_id, department, open_at_start::int, new::int, closed::int, closed_by_review::int,
      reopened::int, open_at_end::int, overdue_at_end::int, max_days_overdue::int,
      round(closed::numeric / nullif(open_at_start + new + reopened, 0), 4)::float8 AS closure_rate
    FROM per ORDER BY 1, 2`.execute(wh.db);

  const overdue = await sql<OverdueRow>`
    SELECT f.rule_id, f.department, coalesce(f.township, '') AS township, coalesce(f.village, '') AS village,
      count(*)::int AS overdue, max(${end}::date - f.deadline)::int AS max_days_overdue
    FROM (${stateAt(end)}) s JOIN findings f ON f.id = s.finding_id
    WHERE s.state <> 'closed' AND f.deadline < ${end}::date
    GROUP BY 1, 2, 3, 4 ORDER BY 6 DESC, 1, 3, 4`.execute(wh.db);

  const villages = await sql<VillageRow>`
    SELECT coalesce(f.township, '') AS township, coalesce(f.village, '') AS village, count(*)::int AS open
    FROM (${stateAt(end)}) s JOIN findings f ON f.id = s.finding_id
    WHERE s.state <> 'closed'
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(wh.db);

  return {
    range,
    states: states.rows,
    movements: movements.rows,
    overdue: overdue.rows,
    villages: villages.rows,
  };
}

/** Small-cell suppression for copies that leave the bureau: village counts 1–4 become "<5". */
export const SMALL_CELL = 5;
export function villageCount(n: number, bureauCopy: boolean): number | string {
  return !bureauCopy && n > 0 && n < SMALL_CELL ? `<${SMALL_CELL}` : n;
}
