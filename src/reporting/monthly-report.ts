/**
 * The monthly report (DOMAIN §7, §8): what the bureau sends upward and discusses with departments.
 * Computed from the history, not from today's state, so a report for a past month is reproducible:
 * a finding's state at the cut-off is the target of its last transition dated on or before that day. The
 * cut-off is the month's last day for a past month and today for the current one: counting the current month
 * at its end would call overdue what is not yet (a deadline of the 20th is not passed on the 3rd), and disagree
 * with `status`, which counts at today.
 *
 *   - state at the cut-off by rule × department × township;
 *   - movements in the month by rule × department: new, closed (by data / by review), reopened, and the
 *     closure rate = closed in the month ÷ (not closed at the start + new + reopened in the month);
 *   - overdue at the cut-off (deadline before it, not closed) with the days overdue;
 *   - open findings per village, where counts below 5 are shown as "<5" in every copy but the bureau's own;
 *   - the indicators of §8 per township with target and status.
 *
 * Every finding is placed in a township and village, at the cut-off: its own place when the rule gave one,
 * else the roster's row of its person (or household) valid at the cut-off, else the place the department's own
 * record behind it states (its lineage: 村 of the record, or of the rejected row; the township from the region
 * list), else a label saying why there is none — never a blank a clerk would read as "the county".
 */
import { type RawBuilder, sql } from 'kysely';
import { configError } from '../../core/errors.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { validAt } from '../../pipelines/rules/as-of.ts';
import { REVIEW_ACCEPTED } from '../delivery/review.ts';
import {
  type MovementRow,
  type OverdueRow,
  PLACE_NOT_ON_ROSTER,
  PLACE_UNIDENTIFIED,
  type StateRow,
  type VillageRow,
} from '../retention/retired-findings.ts';
import type { Warehouse } from '../warehouse/connect.ts';

export interface MonthRange {
  month: string;
  start: string;
  end: string;
  /** The last day of the previous month: the state "at the start" is the state at its end. */
  before: string;
  /** The day the month is counted at: `end` for a past month, today for the current one. */
  cutoff: string;
}

/** The month `month` (YYYY-MM) as counted on `today` (YYYY-MM-DD, the county's date); a future month is refused. */
export function monthRange(month: string, today: string): MonthRange {
  const m = /^([0-9]{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw configError(`month must be YYYY-MM, got '${month}'`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const before = new Date(Date.UTC(y, mo - 1, 0)).toISOString().slice(0, 10);
  const start = `${month}-01`;
  const end = `${month}-${String(last).padStart(2, '0')}`;
  if (today < start) throw configError(`month ${month} has not begun (today is ${today})`);
  return { month, start, end, before, cutoff: end < today ? end : today };
}

// The rows' shapes and place labels live a floor below, where retention writes the same rows.
export type { MovementRow, OverdueRow, StateRow, VillageRow } from '../retention/retired-findings.ts';
export { PLACE_NOT_ON_ROSTER, PLACE_UNIDENTIFIED };

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

/** The place columns a feed's record holds: the roster's own, else its identity hint 村 (DOMAIN §5.1). */
const placeColumns = Object.values(FEEDS).flatMap((feed) => {
  const fields: Readonly<Record<string, unknown>> = feed.fields;
  const village = feed.identity?.village ?? ('village' in fields ? 'village' : null);
  if (!village) return [];
  return [{ feed: feed.id, township: 'township' in fields ? 'township' : null, village }];
});

/**
 * Each finding's township and village at `day` (see the file's comment): one source for both, the first that
 * has any, so a township never comes from one record and the village from another. The department's record is
 * looked for only for the findings neither the rule nor the roster placed, each feed joined by its version, so
 * the cost follows those few findings and not the size of the feed tables.
 */
const placesAt = (day: string): RawBuilder<unknown> => {
  const versions = placeColumns.map(
    (c) => sql`SELECT lin.finding_id, lin.on_date, lin.event_id, lin.id,
        ${c.township ? sql.ref(`t.${c.township}`) : sql`NULL`}::text AS township, ${sql.ref(`t.${c.village}`)}::text AS village
      FROM lin JOIN ${sql.table(c.feed)} t ON t.version_id = lin.version_id WHERE lin.feed = ${c.feed}`,
  );
  const cols = sql.join(
    placeColumns.map((c) => sql`(${c.feed}::text, ${c.township}::text, ${c.village}::text)`),
  );
  return sql`
  -- one read of the roster at the day, joined to the findings as a set (a lookup per finding measured 1 s for
  -- 550 findings on a 3,000-person roster read without an index on every version; this, 0.05 s)
  WITH at_day AS MATERIALIZED (
    SELECT p.id_number, p.household_id, p.township, p.village, p.version_id FROM roster p WHERE ${validAt('p', day)}),
  by_person AS (SELECT DISTINCT ON (id_number) id_number, township, village FROM at_day
    ORDER BY id_number, version_id),
  by_household AS (SELECT DISTINCT ON (household_id) household_id, township, village FROM at_day
    WHERE household_id IS NOT NULL ORDER BY household_id, version_id),
  rostered AS MATERIALIZED (
    SELECT f.id, f.id_number, f.township AS ft, f.village AS fv,
      (rp.id_number IS NOT NULL OR rh.household_id IS NOT NULL) AS found,
      CASE WHEN rp.id_number IS NOT NULL THEN rp.township ELSE rh.township END AS rt,
      CASE WHEN rp.id_number IS NOT NULL THEN rp.village ELSE rh.village END AS rv
    FROM findings f
    -- the person's own row; for a household without it, any member's row (they share the place)
    LEFT JOIN by_person rp ON rp.id_number = f.id_number
    LEFT JOIN by_household rh ON f.subject_kind = 'household' AND rh.household_id = f.household_id),
  lin AS MATERIALIZED (
    SELECT l.id, l.finding_id, l.feed, l.version_id, l.quarantine_id, e.on_date, e.id AS event_id
    FROM finding_lineage l JOIN finding_events e ON e.id = l.event_id AND e.on_date <= ${day}::date
    WHERE l.finding_id IN (SELECT id FROM rostered WHERE ft IS NULL AND fv IS NULL AND NOT found)),
  recs AS (
    ${sql.join(versions, sql` UNION ALL `)}
    UNION ALL
    SELECT lin.finding_id, lin.on_date, lin.event_id, lin.id, q.record ->> c.tcol, q.record ->> c.vcol
    FROM lin JOIN quarantine q ON q.id = lin.quarantine_id
    JOIN (VALUES ${cols}) c(feed, tcol, vcol) ON c.feed = q.feed),
  -- the record naming a village behind the latest event (on or before the day) that has one
  rec AS (
    SELECT DISTINCT ON (finding_id) finding_id, township, btrim(village) AS village FROM recs
    WHERE nullif(btrim(village), '') IS NOT NULL
    ORDER BY finding_id, on_date DESC, event_id DESC, id)
  SELECT x.id AS finding_id,
    CASE WHEN x.ft IS NOT NULL OR x.fv IS NOT NULL THEN coalesce(x.ft, '')
         WHEN x.found THEN coalesce(x.rt, '')
         WHEN d.village IS NOT NULL THEN coalesce(d.township, (
           -- the region list names the village's township when the village's name is unique in the county
           SELECT CASE WHEN count(DISTINCT t.name) = 1 THEN min(t.name) END
           FROM regions v JOIN regions t ON t.code = v.parent_code
           WHERE v.level = 'village' AND v.name = d.village), '')
         WHEN x.id_number IS NULL THEN ${PLACE_UNIDENTIFIED}
         ELSE ${PLACE_NOT_ON_ROSTER} END AS township,
    CASE WHEN x.ft IS NOT NULL OR x.fv IS NOT NULL THEN coalesce(x.fv, '')
         WHEN x.found THEN coalesce(x.rv, '')
         WHEN d.village IS NOT NULL THEN d.village
         WHEN x.id_number IS NULL THEN ${PLACE_UNIDENTIFIED}
         ELSE ${PLACE_NOT_ON_ROSTER} END AS village
  FROM rostered x LEFT JOIN rec d ON d.finding_id = x.id`;
};

export async function monthlyFindings(wh: Warehouse, month: string, today: string): Promise<MonthlyFindings> {
  const range = monthRange(month, today);
  const { start, before, cutoff } = range;
  const states = await sql<StateRow>`
    SELECT f.rule_id, f.department, pl.township, s.state, count(*)::int AS n
    FROM (${stateAt(cutoff)}) s JOIN findings f ON f.id = s.finding_id
    JOIN (${placesAt(cutoff)}) pl ON pl.finding_id = f.id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`.execute(wh.db);

  const movements = await sql<MovementRow>`
    WITH at_start AS (${stateAt(before)}), at_end AS (${stateAt(cutoff)}),
    moves AS (
      SELECT e.finding_id,
        bool_or(e.from_state IS NULL) AS is_new,
        count(*) FILTER (WHERE e.to_state = 'closed') AS closed,
        count(*) FILTER (WHERE e.to_state = 'closed' AND e.reason = ${REVIEW_ACCEPTED}) AS closed_by_review,
        count(*) FILTER (WHERE e.to_state = 'reopened') AS reopened
      FROM finding_events e WHERE e.on_date BETWEEN ${start}::date AND ${cutoff}::date
      GROUP BY e.finding_id),
    per AS (
      SELECT f.rule_id, f.department,
        count(*) FILTER (WHERE s.state <> 'closed') AS open_at_start,
        count(*) FILTER (WHERE m.is_new) AS new,
        coalesce(sum(m.closed), 0) AS closed,
        coalesce(sum(m.closed_by_review), 0) AS closed_by_review,
        coalesce(sum(m.reopened), 0) AS reopened,
        count(*) FILTER (WHERE x.state <> 'closed') AS open_at_end,
        count(*) FILTER (WHERE x.state <> 'closed' AND f.deadline < ${cutoff}::date) AS overdue_at_end,
        max(${cutoff}::date - f.deadline) FILTER (WHERE x.state <> 'closed' AND f.deadline < ${cutoff}::date)
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
    SELECT f.rule_id, f.department, pl.township, pl.village,
      count(*)::int AS overdue, max(${cutoff}::date - f.deadline)::int AS max_days_overdue
    FROM (${stateAt(cutoff)}) s JOIN findings f ON f.id = s.finding_id
    JOIN (${placesAt(cutoff)}) pl ON pl.finding_id = f.id
    WHERE s.state <> 'closed' AND f.deadline < ${cutoff}::date
    GROUP BY 1, 2, 3, 4 ORDER BY 6 DESC, 1, 3, 4`.execute(wh.db);

  const villages = await sql<VillageRow>`
    SELECT pl.township, pl.village, count(*)::int AS open
    FROM (${stateAt(cutoff)}) s JOIN findings f ON f.id = s.finding_id
    JOIN (${placesAt(cutoff)}) pl ON pl.finding_id = f.id
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

/**
 * The month a report shows when none is named, on `today`: the current month when a finding moved in it (its
 * report has something to show), else the previous one — right after the first match of a new month, the
 * month just begun holds the findings and the one before nothing.
 */
export async function defaultReportMonth(wh: Warehouse, today: string): Promise<string> {
  const current = today.slice(0, 7);
  const moved = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM finding_events
      WHERE on_date BETWEEN ${`${current}-01`}::date AND ${today}::date LIMIT 1) x`.execute(wh.db);
  if (moved.rows[0]!.n > 0) return current;
  const [y, m] = current.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** Small-cell suppression for copies that leave the bureau: village counts 1–4 become "<5". */
export const SMALL_CELL = 5;
export function villageCount(n: number, bureauCopy: boolean): number | string {
  return !bureauCopy && n > 0 && n < SMALL_CELL ? `<${SMALL_CELL}` : n;
}
