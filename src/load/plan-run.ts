/**
 * The run's plan: what publishing its staged rows would do to the feed's table (publish.ts planLoad), as the
 * ledger's counts and the rejected values by problem code.
 */
import { sql } from 'kysely';
import type { RunCounts } from '../warehouse/ledger.ts';
import { loadSettings } from './load-settings.ts';
import { distributeStaging, type Staging } from './placement.ts';
import { type LoadPlan, planLoad } from './publish.ts';
import type { LateLoad } from './publish-late.ts';
import { pullInRecognized } from './pull-in.ts';
import { type Recognition, recognitionOf } from './recognition.ts';
import type { Planned, RunContext, Staged } from './run-context.ts';

export async function planRun(
  run: RunContext,
  staged: Staged,
  staging: Staging,
  late: LateLoad | null,
): Promise<Planned> {
  const { wh, params: p, feed, limits, phase, norm } = run;
  const { db } = wh;
  const { recognized, connectorProblems, connectorSkipped } = staged;
  p.onProgress?.({ phase: 'plan' });
  const plan = (recognition: Recognition) =>
    db.transaction().execute(async (trx) => {
      await loadSettings(trx, limits.loadStatementMs);
      return planLoad(trx, feed, staging, recognition, late?.date);
    });
  let recognition = recognitionOf(recognized);
  let planned = await plan(recognition);
  phase('plan');
  if (recognized && planned.meetsCarried > 0) {
    // A staged row shares its key with a record recognised before staging (rare: a file naming one record twice,
    // once as loaded before): that record goes back into staging, the rows are ranked again, and the load is
    // planned again with it counted there.
    recognized.pulledIn = await db.transaction().execute(async (trx) => {
      await loadSettings(trx, limits.loadStatementMs);
      return pullInRecognized(trx, { feed, staging, headerRow: staged.headerRow, recognized });
    });
    // On a cluster, the staged rows' copy made again with them (the same table).
    if (staging.distributed) await distributeStaging(db, feed, norm);
    phase('pull_in');
    recognition = recognitionOf(recognized);
    planned = await plan(recognition);
    phase('plan');
  }
  const counts = countsFrom(planned, connectorProblems.length, connectorSkipped);
  const { rows } = await sql<{ problem: string; n: number }>`
    SELECT pr AS problem, count(*)::int AS n
    FROM ${sql.id(norm)} CROSS JOIN LATERAL unnest(problems) AS pr
    WHERE skip IS NULL GROUP BY pr ORDER BY pr`.execute(db);
  const problems: Record<string, number> = Object.fromEntries(rows.map((r) => [r.problem, r.n]));
  for (const m of connectorProblems) problems[m.problem] = (problems[m.problem] ?? 0) + 1;
  return { plan: planned, counts, problems, recognition };
}

function countsFrom(plan: LoadPlan, connectorProblems: number, connectorSkipped: number): RunCounts {
  return {
    rows_read: plan.read + connectorProblems,
    rows_loaded: plan.new + plan.changed + plan.unchanged,
    rows_new: plan.new,
    rows_changed: plan.changed,
    rows_unchanged: plan.unchanged,
    rows_ended: plan.ended,
    rows_quarantined: plan.quarantined + connectorProblems,
    exact_duplicates: plan.exactDuplicates,
    conflicting_duplicates: plan.conflictingDuplicates,
    rows_skipped: plan.skipped + connectorSkipped,
  };
}
