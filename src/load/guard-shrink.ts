/**
 * Guard rail: a department that sent half a file must not end half the county's records. A snapshot that would
 * end more than `max_shrink` of the feed's current records is held — nothing published, its rejected rows
 * quarantined for the operator to see — until it is loaded again with --confirm-shrink.
 */
import { finishRun } from '../warehouse/ledger.ts';
import { endedByScope, recordQuarantine } from './publish.ts';
import { quarantineConnectorProblems } from './quarantine-connector.ts';
import type { ImportSummary, PlannedLoad, RunContext } from './run-context.ts';

/** The held run's summary (finished in the ledger), or null when the run may publish. */
export async function holdShrunk(run: RunContext, load: PlannedLoad): Promise<ImportSummary | null> {
  const { wh, params: p, feed, runId, source, raw, norm, log: rlog } = run;
  const { db } = wh;
  const { plan, counts, problems, staging, recognition, late, mapping, connectorProblems, dataDate } = load;
  const maxShrink = p.feedConfig?.max_shrink ?? 0.3;
  const shrinks =
    feed.mode === 'snapshot' &&
    !p.confirmShrink &&
    plan.currentBefore > 0 &&
    plan.ended / plan.currentBefore > maxShrink;
  if (!shrinks) return null;
  const byScope = await endedByScope(db, feed, staging, recognition, late?.date);
  const where = byScope.length
    ? ` (${feed.scope!.map((f) => feed.fields[f]?.label ?? feed.fields[f]?.aliases[0] ?? f).join('/')} ${byScope
        .map((b) => `${b.scope}: ${b.ended} of ${b.current}`)
        .join(', ')})`
    : '';
  const message =
    `snapshot would end ${plan.ended} of ${plan.currentBefore} current records${where} ` +
    `(more than ${Math.round(maxShrink * 100)}%); held: re-run with --confirm-shrink if the file is complete` +
    (counts.rows_quarantined ? ` (its rejected rows: ruralhub quarantine --feed ${feed.id} --all-runs)` : '');
  await run.sha.record(db);
  // What was rejected is kept for the held run too: the operator decides on --confirm-shrink seeing it.
  await db.transaction().execute(async (trx) => {
    await recordQuarantine(trx, { feed, norm, raw, runId, source, columns: mapping.columns });
    await quarantineConnectorProblems(trx, run, connectorProblems);
  });
  // The header cells as the file spelled them: what `ruralhub quarantine` names a rejected value's column by.
  await finishRun(db, runId, 'held', counts, { message, headers: mapping.headers });
  rlog.warn({ ended: plan.ended, current: plan.currentBefore }, message);
  return {
    runId,
    feed: feed.id,
    source,
    status: 'held',
    counts,
    problems,
    unmappedColumns: mapping.unmapped,
    message,
    dataDate,
  };
}
