/**
 * What the closed findings retention deletes contributed to the monthly report, kept as counts
 * (retired_finding_months, migration 0022) so that a past month's report is the same after the purge.
 *
 * The report (src/reporting/monthly-report.ts) derives each finding's state at a day from its events (the target
 * of its last transition dated on or before it) and counts by rule, department, township, village. For a finding
 * about to be deleted, the same is computed here for every month from its first event to the purge's month —
 * each placed as the report places it at that month's end (its person's roster row then) — and grouped so that
 * no person and no finding id remains; after the purge's month it is `closed` for good, placed as on the purge's
 * day, which one `onward` row says for all later months. Months × findings lookups (by the events' finding_id
 * index): a purge of many findings closed long ago is a statement of seconds, once. `retiredFindingsMonth` reads a month back in the report's shapes
 * and `withRetired` adds it to what the report computed from the findings that are left.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { REVIEW_ACCEPTED } from '../delivery/review.ts';
import type { Database } from '../warehouse/schema.ts';

/** Shown for a finding whose person is on no roster and whose department's record names no place. */
export const PLACE_NOT_ON_ROSTER = '（名册外）';
/** Shown for a rejected record whose person could not be identified and whose row names no place. */
export const PLACE_UNIDENTIFIED = '（未识别）';

/**
 * A finding's township and village at `day`, as the monthly report places it: its own place when the rule gave
 * one, else the roster row of its person (for a household, of any member) valid at that day, else a label.
 * The report's further step — the village named by the department's own record behind it (its lineage) — is
 * not repeated here: TODO share one place function with src/reporting/monthly-report.ts.
 */
function placeAt(f: RawBuilder<unknown>, day: RawBuilder<unknown>) {
  return sql`(SELECT
      CASE WHEN ${f}.ft IS NOT NULL OR ${f}.fv IS NOT NULL THEN coalesce(${f}.ft, '')
           WHEN r.found THEN coalesce(r.township, '')
           WHEN ${f}.id_number IS NULL THEN ${PLACE_UNIDENTIFIED} ELSE ${PLACE_NOT_ON_ROSTER} END AS township,
      CASE WHEN ${f}.ft IS NOT NULL OR ${f}.fv IS NOT NULL THEN coalesce(${f}.fv, '')
           WHEN r.found THEN coalesce(r.village, '')
           WHEN ${f}.id_number IS NULL THEN ${PLACE_UNIDENTIFIED} ELSE ${PLACE_NOT_ON_ROSTER} END AS village
    FROM (SELECT 1) one LEFT JOIN LATERAL (
      SELECT true AS found, p.township, p.village FROM roster p
      WHERE (p.id_number = ${f}.id_number OR (${f}.subject_kind = 'household' AND p.household_id = ${f}.household_id))
        AND p.data_from <= ${day} AND (p.data_to IS NULL OR p.data_to > ${day})
      ORDER BY p.id_number = ${f}.id_number DESC, p.version_id LIMIT 1) r ON true)`;
}

/**
 * Writes the summary of the findings `doomed` selects (a query of one column `id`), as of `today`. Returns the rows
 * written. Called in the transaction that deletes them, before the delete.
 */
export async function summarizeRetiredFindings(
  db: Kysely<Database>,
  doomed: RawBuilder<unknown>,
  today: string,
): Promise<number> {
  const r = await sql`
    WITH d AS (
      SELECT f.id, f.rule_id, f.department, f.township AS ft, f.village AS fv, f.id_number, f.household_id,
             f.subject_kind, f.deadline
      FROM findings f WHERE f.id IN (${doomed})),
    span AS (
      SELECT d.id, date_trunc('month', min(e.on_date))::date AS first_m, date_trunc('month', max(e.on_date))::date AS last_m
      FROM d JOIN finding_events e ON e.finding_id = d.id GROUP BY d.id),
    dated AS (
      SELECT d.*, m::date AS month, (m + interval '1 month' - interval '1 day')::date AS m_end,
             (m - interval '1 day')::date AS m_before
      FROM d JOIN span s ON s.id = d.id,
        generate_series(s.first_m, greatest(s.last_m, date_trunc('month', ${today}::date)::date), interval '1 month') m),
    months AS (SELECT x.*, pl.township, pl.village FROM dated x CROSS JOIN LATERAL ${placeAt(sql`x`, sql`x.m_end`)} pl),
    per AS (
      SELECT mo.*, st_end.state AS state_end, st_start.state AS state_start, mv.*
      FROM months mo
      CROSS JOIN LATERAL (SELECT e.to_state AS state FROM finding_events e
        WHERE e.finding_id = mo.id AND e.on_date <= mo.m_end ORDER BY e.on_date DESC, e.id DESC LIMIT 1) st_end
      LEFT JOIN LATERAL (SELECT e.to_state AS state FROM finding_events e
        WHERE e.finding_id = mo.id AND e.on_date <= mo.m_before ORDER BY e.on_date DESC, e.id DESC LIMIT 1) st_start ON true
      CROSS JOIN LATERAL (SELECT
          coalesce(bool_or(e.from_state IS NULL), false) AS is_new,
          count(*) FILTER (WHERE e.to_state = 'closed') AS n_closed,
          count(*) FILTER (WHERE e.to_state = 'closed' AND e.reason = ${REVIEW_ACCEPTED}) AS n_review,
          count(*) FILTER (WHERE e.to_state = 'reopened') AS n_reopened
        FROM finding_events e WHERE e.finding_id = mo.id AND e.on_date BETWEEN mo.month AND mo.m_end) mv),
    by_month AS (
      SELECT month, false AS onward, rule_id, department, township, village, state_end AS state,
        count(*)::int AS n,
        count(*) FILTER (WHERE state_start IS NOT NULL AND state_start <> 'closed')::int AS open_at_start,
        count(*) FILTER (WHERE is_new)::int AS new,
        sum(n_closed)::int AS closed, sum(n_review)::int AS closed_by_review, sum(n_reopened)::int AS reopened,
        count(*) FILTER (WHERE state_end <> 'closed' AND deadline < m_end)::int AS overdue,
        max(m_end - deadline) FILTER (WHERE state_end <> 'closed' AND deadline < m_end)::int AS max_days_overdue
      FROM per GROUP BY 1, 2, 3, 4, 5, 6, 7),
    onward AS (
      SELECT (date_trunc('month', ${today}::date) + interval '1 month')::date AS month, true AS onward, d.rule_id,
        d.department, pl.township, pl.village, 'closed' AS state, count(*)::int AS n, 0, 0, 0, 0, 0, 0, NULL::int
      FROM d CROSS JOIN LATERAL ${placeAt(sql`d`, sql`${today}::date`)} pl
      GROUP BY 1, 2, 3, 4, 5, 6, 7)
    INSERT INTO retired_finding_months (month, onward, rule_id, department, township, village, state, n,
      open_at_start, new, closed, closed_by_review, reopened, overdue, max_days_overdue, retired_on)
    SELECT *, ${today}::date FROM (SELECT * FROM by_month UNION ALL SELECT * FROM onward) x`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * The monthly report's rows (src/reporting/monthly-report.ts uses these): defined on this floor, below the report,
 * because the counts retention keeps for deleted findings are read back in the same shapes.
 */
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

export interface RetiredMonth {
  states: StateRow[];
  movements: MovementRow[];
  overdue: OverdueRow[];
  villages: VillageRow[];
}

/**
 * What deleted findings add to the report of `month` (YYYY-MM), in the report's shapes; closure_rate is that of
 * these counts alone (withRetired recomputes it for the sum).
 */
export async function retiredFindingsMonth(db: Kysely<Database>, month: string): Promise<RetiredMonth> {
  const first = `${month}-01`;
  const rows = sql`SELECT * FROM retired_finding_months
    WHERE (NOT onward AND month = ${first}::date) OR (onward AND month <= ${first}::date)`;
  const states = await sql<RetiredMonth['states'][number]>`
    SELECT rule_id, department, township, state, sum(n)::int AS n FROM (${rows}) r
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`.execute(db);
  const movements = await sql<RetiredMonth['movements'][number]>`
    SELECT rule_id, department, sum(open_at_start)::int AS open_at_start, sum(new)::int AS new,
      sum(closed)::int AS closed, sum(closed_by_review)::int AS closed_by_review, sum(reopened)::int AS reopened,
      (sum(n) FILTER (WHERE state <> 'closed'))::int AS open_at_end, sum(overdue)::int AS overdue_at_end,
      max(max_days_overdue)::int AS max_days_overdue, NULL::float8 AS closure_rate
    FROM (${rows}) r GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  const overdue = await sql<RetiredMonth['overdue'][number]>`
    SELECT rule_id, department, township, village, sum(overdue)::int AS overdue,
      max(max_days_overdue)::int AS max_days_overdue
    FROM (${rows}) r WHERE overdue > 0 GROUP BY 1, 2, 3, 4`.execute(db);
  const villages = await sql<RetiredMonth['villages'][number]>`
    SELECT township, village, sum(n)::int AS open FROM (${rows}) r WHERE state <> 'closed'
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return {
    states: states.rows,
    movements: movements.rows.map((m) => ({ ...m, open_at_end: m.open_at_end ?? 0 })),
    overdue: overdue.rows,
    villages: villages.rows,
  };
}

/** round(closed / (open_at_start + new + reopened), 4) as PostgreSQL's numeric rounds it (half away from zero). */
export function closureRate(closed: number, base: number): number | null {
  if (base === 0) return null;
  return Math.floor((2 * closed * 10_000 + base) / (2 * base)) / 10_000;
}

const add = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * The report computed from the findings left, plus what the deleted ones contributed: the report of a month as
 * it was before any purge. Rows are merged by their keys; the report's own order is kept, rows only the
 * retired counts have come last.
 */
export function withRetired<T extends RetiredMonth>(report: T, retired: RetiredMonth): T {
  const merge = <R>(mine: R[], theirs: R[], key: (r: R) => string, sum: (a: R, b: R) => R): R[] => {
    const out = mine.map((r) => ({ ...r }));
    const at = new Map(out.map((r, i) => [key(r), i]));
    for (const r of theirs) {
      const i = at.get(key(r));
      if (i === undefined) {
        at.set(key(r), out.length);
        out.push({ ...r });
      } else out[i] = sum(out[i] as R, r);
    }
    return out;
  };
  const k = (...parts: string[]) => JSON.stringify(parts);
  const movements = merge(
    report.movements,
    retired.movements,
    (m) => k(m.rule_id, m.department),
    (a, b) => ({
      ...a,
      open_at_start: a.open_at_start + b.open_at_start,
      new: a.new + b.new,
      closed: a.closed + b.closed,
      closed_by_review: a.closed_by_review + b.closed_by_review,
      reopened: a.reopened + b.reopened,
      open_at_end: a.open_at_end + b.open_at_end,
      overdue_at_end: a.overdue_at_end + b.overdue_at_end,
      max_days_overdue: add(a.max_days_overdue, b.max_days_overdue),
    }),
  ).map((m) => ({ ...m, closure_rate: closureRate(m.closed, m.open_at_start + m.new + m.reopened) }));
  return {
    ...report,
    states: merge(
      report.states,
      retired.states,
      (s) => k(s.rule_id, s.department, s.township, s.state),
      (a, b) => ({ ...a, n: a.n + b.n }),
    ),
    movements,
    overdue: merge(
      report.overdue,
      retired.overdue,
      (o) => k(o.rule_id, o.department, o.township, o.village),
      (a, b) => ({
        ...a,
        overdue: a.overdue + b.overdue,
        max_days_overdue: Math.max(a.max_days_overdue, b.max_days_overdue),
      }),
    ),
    villages: merge(
      report.villages,
      retired.villages,
      (v) => k(v.township, v.village),
      (a, b) => ({ ...a, open: a.open + b.open }),
    ),
  };
}
