/** The figures the console shows, each one query; pages only render them. */
import { sql } from 'kysely';
import type { Warehouse } from '../../warehouse/connect.ts';

export async function openByRuleAndDepartment(wh: Warehouse, today: string) {
  return (
    await sql<{ rule_id: string; department: string; open: number; overdue: number }>`
      SELECT rule_id, department, count(*)::int AS open,
             count(*) FILTER (WHERE deadline < ${today}::date)::int AS overdue
      FROM findings WHERE state <> 'closed' GROUP BY 1, 2 ORDER BY 1, 2`.execute(wh.db)
  ).rows;
}

/** Open findings at the end of each of the last `n` days a match ran (from the history). */
export async function openTrend(wh: Warehouse, n = 12) {
  return (
    await sql<{ day: string; open: number }>`
      WITH days AS (SELECT DISTINCT on_date AS day FROM finding_events WHERE run_id IS NOT NULL
                    ORDER BY 1 DESC LIMIT ${n})
      SELECT d.day::text AS day,
        (SELECT count(*)::int FROM (
           SELECT DISTINCT ON (e.finding_id) e.to_state FROM finding_events e WHERE e.on_date <= d.day
           ORDER BY e.finding_id, e.on_date DESC, e.id DESC) s WHERE s.to_state <> 'closed') AS open
      FROM days d ORDER BY d.day`.execute(wh.db)
  ).rows;
}
