/**
 * The run published in ONE transaction: (feed table unwritten since the start?) quarantine + conflicts + new
 * versions + their cache steps (publish.ts), the connector's unreadable rows quarantined, the feed's state and the
 * ledger's counts. After it, what only speeds the next load: a first base of the recognition cache, fresh
 * statistics after a large change.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { finishRun } from '../warehouse/ledger.ts';
import { loadSettings } from './load-settings.ts';
import { publish } from './publish.ts';
import { currentRows } from './publish-late.ts';
import { quarantineConnectorProblems } from './quarantine-connector.ts';
import { beginPublish, writeBase } from './recognition-cache.ts';
import { loadCurrentVersions } from './recognize.ts';
import type { ImportSummary, PlannedLoad, RunContext, RunHandles } from './run-context.ts';

/** Publishes the run and finishes it in the ledger; awaits `handles.base` first. */
export async function publishRun(
  run: RunContext,
  handles: RunHandles,
  load: PlannedLoad,
): Promise<ImportSummary> {
  const { wh, params: p, feed, runId, source, raw, norm, limits, phase, log: rlog } = run;
  const { db } = wh;
  const { state, generation, bytes, settingsHash, distributed } = run;
  const { plan, counts, problems, staging, recognized, recognition, late, mapping, dataDate } = load;
  const { connectorProblems, checkpoint, readBounds, bulkStaged } = load;
  p.onProgress?.({ phase: 'publish' });
  if (handles.base) {
    await handles.base;
    phase('base'); // what of writing the cache's new base did not fit alongside normalization
  }
  const nextGeneration = randomUUID();
  const cached = await db.transaction().execute(async (trx) => {
    await loadSettings(trx, limits.loadStatementMs);
    // A late load writes versions the cache does not describe (not current ones): it is not kept then.
    const cache = (await beginPublish(trx, feed, generation)) && !late;
    await publish(
      trx,
      {
        feed,
        norm,
        raw,
        runId,
        source,
        columns: mapping.columns,
        recognition,
        cache,
        dataDate: dataDate.date,
        late,
        staging,
      },
      plan,
    );
    await quarantineConnectorProblems(trx, run, connectorProblems);
    const fileSha = await run.sha.record(trx);
    await trx
      .insertInto('feed_state')
      .values({
        feed: feed.id,
        last_run_id: runId,
        last_sha256: fileSha,
        last_bytes: bytes,
        last_settings_hash: settingsHash,
        cursor: checkpoint ?? state?.cursor ?? null,
        last_success_at: sql`clock_timestamp()`,
        current_rows: late ? await currentRows(trx, feed) : plan.currentAfter,
        // Set after this transaction's writes to the table (whose trigger replaced it): the cache describes them.
        generation: nextGeneration,
        cache_generation: cache ? nextGeneration : null,
      })
      .onConflict((oc) =>
        oc.column('feed').doUpdateSet((eb) => ({
          last_run_id: eb.ref('excluded.last_run_id'),
          last_sha256: eb.ref('excluded.last_sha256'),
          last_settings_hash: eb.ref('excluded.last_settings_hash'),
          last_bytes: eb.ref('excluded.last_bytes'),
          cursor: eb.ref('excluded.cursor'),
          last_success_at: eb.ref('excluded.last_success_at'),
          current_rows: eb.ref('excluded.current_rows'),
          generation: eb.ref('excluded.generation'),
          cache_generation: eb.ref('excluded.cache_generation'),
        })),
      )
      .execute();
    await finishRun(trx, runId, 'succeeded', counts, {
      problems,
      unmapped_columns: mapping.unmapped,
      headers: mapping.headers,
      ...(readBounds ? { read: readBounds } : {}),
    });
    return cache;
  });
  phase('publish');
  // A feed's first load by the bulk path leaves its versions in the cache as pairs, which the next load would
  // add to its set one by one (~0.5 s for 2M) and then write as an image: done here instead, beside the ANALYZE
  // below, so that every later load reads an image. The load is published: a failure here is only logged.
  const firstBase =
    bulkStaged && !recognized && cached && plan.currentAfter >= FIRST_BASE_ROWS
      ? firstLoadBase(wh, feed, plan.currentAfter, nextGeneration, distributed).catch((err: unknown) =>
          rlog.warn({ reason: (err as Error).message }, 'recognition cache base not written'),
        )
      : null;
  // Fresh statistics after a large change: autovacuum gets there later, and meanwhile the next load's
  // recognition join and the rules planned on the old counts (measured: a 500k-row roster estimated at 807
  // rows, three sorts of it instead of one hash). ANALYZE reads a sample: well under a second.
  if (plan.new + plan.changed + plan.ended > Math.max(10_000, plan.currentBefore / 10)) {
    await sql`ANALYZE ${sql.id(feed.id)}`.execute(db);
    phase('analyze');
  }
  if (firstBase) {
    await firstBase;
    phase('base');
  }
  rlog.info({ ...counts, recognized: plan.recognized, ms: phase.all() }, 'published');
  return {
    runId,
    feed: feed.id,
    source,
    status: 'succeeded',
    counts,
    problems,
    unmappedColumns: mapping.unmapped,
    recognized: plan.recognized,
    dataDate,
  };
}

/** Below this many current versions a base of pairs costs the next load little: none is written after a first load. */
const FIRST_BASE_ROWS = 10_000;

/** The cache's base as an image, from the pairs a first load's publish left in it (valid for `generation`). */
async function firstLoadBase(
  wh: Warehouse,
  feed: FeedDefinition,
  expected: number,
  generation: string,
  distributed: boolean,
): Promise<void> {
  const current = await loadCurrentVersions(wh.db, wh.pool, feed, expected, generation, { distributed });
  if (current?.fromCache) await writeBase(wh.db, wh.pool, feed, current, generation);
}
