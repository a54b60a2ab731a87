/**
 * One import run of one feed from one source:
 *
 *   lock feed → ledger row → (same file as last success? no-op) → stage raw via COPY (bulk bytes, with the
 *   records that are current versions byte for byte left out — src/load/recognize.ts, their hashes from the
 *   recognition cache; or records from the connector) → normalize + rank in SQL → plan → guard rails → ONE
 *   transaction: (feed table unwritten since the start?) quarantine + conflicts + new versions + their cache
 *   steps + feed state + ledger counts → drop staging → unlock.
 *
 * A crash at any point before the commit leaves the warehouse as it was (staging tables are invisible to
 * readers and dropped by the next run of the feed); the ledger equation is checked by a database
 * constraint in the same commit.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { connectorFor, openSource } from '../../connectors/registry.ts';
import { configError, dataError } from '../../core/errors.ts';
import { phaseTimer } from '../../core/phase-timer.ts';
import { countyFeed } from '../../pipelines/feeds/resolve.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { SourceConfig } from '../../schemas/sources.ts';
import { headerDetector, mapHeader } from '../normalize/header-map.ts';
import { firstChars } from '../normalize/text.ts';
import { poolTimeouts, type Warehouse, within } from '../warehouse/connect.ts';
import { finishRun, type RunCounts } from '../warehouse/ledger.ts';
import type { Database } from '../warehouse/schema.ts';
import { startImport } from './import-start.ts';
import { assertInputFile, assertUnchanged } from './input-file.ts';
import { linkRecords } from './link-identities.ts';
import { lockFeed } from './lock-feed.ts';
import { buildNormalize, rankDuplicates } from './normalize-staged.ts';
import { distributeStaging, localStaging, type Staging } from './placement.ts';
import { endedByScope, type LoadPlan, planLoad, publish, recordQuarantine } from './publish.ts';
import { currentRows } from './publish-late.ts';
import { pullInRecognized } from './pull-in.ts';
import { beginPublish, writeBase } from './recognition-cache.ts';
import { loadCurrentVersions } from './recognize.ts';
import type { ImportParams, ImportSummary, LoadInput, RecordSource, RunHandles } from './run-context.ts';
import { runFailed } from './run-failure.ts';
import { settleDataDate } from './settle-data-date.ts';
import { dropStaging } from './stage.ts';
import { stageBulk } from './stage-bulk.ts';
import { stageRecords } from './stage-records.ts';

export { assertInputFile, sha256File } from './input-file.ts';
export type { ImportParams, ImportProgress, ImportSummary, RecordSource } from './run-context.ts';

/**
 * The configured source of a feed (feeds.<feed>.source: a database, an API) as a RecordSource, read by the
 * connector of its kind (connectors/registry.ts).
 */
export function configuredSource(
  feed: FeedDefinition,
  feedConfig?: { source?: SourceConfig | undefined },
): RecordSource {
  const cfg = feedConfig?.source;
  if (!cfg) {
    throw configError(
      `feed ${feed.id}: give --file, or configure a database or API under feeds.${feed.id}.source`,
    );
  }
  const { label, read } = openSource(cfg);
  const column = 'data_date_column' in cfg ? cfg.data_date_column : undefined;
  return { label, read, ...(column !== undefined ? { dataDateColumn: column } : {}) };
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

/**
 * Planner settings for a load's statements, local to their transaction. Memory for the sorts and hash joins
 * (per operation, not per session). The cost of a random page read as on SSD-backed, well-cached servers: at the
 * default (4, spinning disks) a few thousand staged rows were diffed by a scan of the whole feed table instead of
 * probes of its key index (measured: 145 ms vs 50 ms for 5k rows against a 500k-row roster). And no JIT: cost
 * estimates inflated by per-row subplans made PostgreSQL spend ~400 ms compiling a 140 ms query, and the one
 * long statement (normalizing the file: calls of SQL functions) ran no faster with it (500k rows: 6.3 s with,
 * 5.9 s without).
 */
async function loadSettings(trx: Kysely<Database>, statementMs: number): Promise<void> {
  // The loader's own limit per statement (RURALHUB_DB_LOAD_STATEMENT_TIMEOUT), below the session's: a load
  // whose statement runs away fails with its reason instead of holding the feed's lock.
  await sql`SET LOCAL statement_timeout = ${sql.lit(statementMs)}`.execute(trx);
  await sql`SET LOCAL work_mem = '256MB'`.execute(trx);
  await sql`SET LOCAL random_page_cost = 1.1`.execute(trx);
  await sql`SET LOCAL jit = off`.execute(trx);
}

/** The staged columns the load's joins and filters use: what the planner needs statistics for. */
function plannedColumns(feed: FeedDefinition): string[] {
  const fields = [
    ...feed.key,
    ...(feed.scope ?? []),
    ...Object.values(feed.identity ?? {}),
    ...Object.values(feed.surrogate ?? {}),
  ];
  return [...new Set(['rec_no', 'skip', 'ok', 'row_hash', 'raw_hash', ...fields])];
}

export async function importFeed(p: ImportParams): Promise<ImportSummary> {
  const { wh } = p;
  const feed = countyFeed(p.feed, p.feedConfig);
  const path = p.path;
  if (path === undefined && !p.source)
    throw dataError(
      `${p.feed.id}: an import needs a file (--file) or the feed's configured source (feeds.${p.feed.id}.source)`,
    );
  if (path !== undefined) await assertInputFile(path);
  const headerAliases = p.feedConfig?.header_aliases ?? {};
  const input: LoadInput = {
    wh,
    params: p,
    feed,
    path,
    limits: poolTimeouts(wh.pool),
    source: path !== undefined ? basename(path) : p.source!.label,
    connector: path !== undefined ? connectorFor(path) : null,
    headerAliases,
    isHeader: headerDetector(feed, headerAliases),
    // Milliseconds per phase, for the run's log line: 'start' is the lock, the ledger row and the no-op check.
    phase: phaseTimer(),
  };
  const unlock = await lockFeed(wh, feed, input.source);
  const handles: RunHandles = { runId: 0, recordSha: null, base: null };
  try {
    const started = await startImport(input, handles);
    if ('noop' in started) return started.noop;
    const { run } = started;
    const { db } = wh;
    const { source, headerAliases: extra, limits, phase } = run;
    const { runId, log: rlog, state, generation, bytes, distributed } = run;
    const { fingerprint, settingsHash } = run;
    const { start: startSha, record: recordSha } = run.sha;
    const { raw, norm } = run;
    phase('start');
    // Stage: bulk bytes into COPY when the connector offers them and PostgreSQL accepts them; else records.
    const staged = (await stageBulk(run, handles)) ?? (await stageRecords(run));
    if (path !== undefined && run.opened) await assertUnchanged(path, run.opened);
    const { dataDate, late } = await settleDataDate(run, staged);
    const { header, headerRow, connectorProblems, connectorSkipped, recognized } = staged;
    const { bulkStaged, normalizedInNode, checkpoint, readBounds } = staged;
    startSha();
    const mapping = mapHeader(feed, header, source, extra);
    if (mapping.unmapped.length) rlog.info({ columns: mapping.unmapped }, 'columns not used by this feed');
    phase('stage');

    p.onProgress?.({ phase: 'normalize' });
    // Hash aggregates and joins over the whole file in memory rather than spilled to disk (measured: a 500k-row
    // roster spilled 94 MB at the default 4 MB); loadSettings keeps that to each statement's transaction.
    await db.transaction().execute(async (trx) => {
      await loadSettings(trx, limits.loadStatementMs);
      if (!normalizedInNode)
        await buildNormalize({
          feed,
          rawTable: raw,
          normTable: norm,
          columns: mapping.columns,
          width: header.length,
          headerRow,
          today: p.today,
          timeZone: p.timeZone,
          fingerprint,
          lookupKnown: headerRow === 0,
        }).execute(trx);
      // Statistics before anything joins it: ranking, identity linking, pull-in and the plan — for the columns
      // they join and filter on only (the row count comes with any ANALYZE): every column of a wide feed took
      // 0.1–0.15 s for 20k staged rows.
      await sql`ANALYZE ${sql.id(norm)} (${sql.join(plannedColumns(feed).map((c) => sql.id(c)))})`.execute(
        trx,
      );
      await rankDuplicates(trx, feed, norm);
    });
    phase('normalize');
    const identity = await db.transaction().execute(async (trx) => {
      await loadSettings(trx, limits.loadStatementMs);
      return linkRecords(trx, { feed, norm, raw, columns: mapping.columns });
    });
    if (identity.unresolved) {
      // Counts only: which rows were linked is in the feed table (id_link) and identity_review.
      rlog.info({ ...identity }, 'records without a valid ID: linked where exactly one person matched');
    }
    phase('link');
    // On a cluster, the staged rows' copy co-located with the feed's table, once linking has settled their IDs.
    let staging: Staging = distributed ? await distributeStaging(db, feed, norm) : localStaging(norm);
    if (distributed) phase('distribute');
    if (recognized) {
      const r = recognized; // a const: the callback below cannot narrow a let
      const s = staging;
      r.pulledIn = await db.transaction().execute(async (trx) => {
        await loadSettings(trx, limits.loadStatementMs);
        return pullInRecognized(trx, { feed, staging: s, headerRow, recognized: r });
      });
      // Rows pulled into normalized staging (rare): its copy made again with them.
      if (r.pulledIn && distributed) staging = await distributeStaging(db, feed, norm);
      phase('pull_in');
    }
    p.onProgress?.({ phase: 'plan' });
    const plan = await db.transaction().execute(async (trx) => {
      await loadSettings(trx, limits.loadStatementMs);
      return planLoad(trx, feed, staging, recognized, late?.date);
    });
    phase('plan');
    const counts = countsFrom(plan, connectorProblems.length, connectorSkipped);
    const problems = await problemCounts(wh, norm, connectorProblems);

    /** Rows the connector could not read (ragged, a quote never closed …), quarantined with the run. */
    const quarantineConnectorProblems = async (trx: Kysely<Database>) => {
      if (!connectorProblems.length) return;
      await trx
        .insertInto('quarantine')
        .values(
          connectorProblems.map((m) => {
            const kept = firstChars(m.raw, MAX_RAW_CHARS);
            return {
              run_id: runId,
              feed: feed.id,
              source,
              sheet: m.position.sheet ?? null,
              row_number: m.position.row,
              field: m.field ?? null,
              raw_value: kept,
              problem: m.problem,
              detail:
                kept.length < m.raw.length
                  ? `${m.detail} (the row's first ${MAX_RAW_CHARS} characters kept)`
                  : m.detail,
            };
          }),
        )
        .execute();
    };

    // Guard rail: a department that sent half a file must not end half the county's records.
    const maxShrink = p.feedConfig?.max_shrink ?? 0.3;
    if (
      feed.mode === 'snapshot' &&
      !p.confirmShrink &&
      plan.currentBefore > 0 &&
      plan.ended / plan.currentBefore > maxShrink
    ) {
      const byScope = await endedByScope(db, feed, staging, recognized, late?.date);
      const where = byScope.length
        ? ` (${feed.scope!.map((f) => feed.fields[f]?.label ?? feed.fields[f]?.aliases[0] ?? f).join('/')} ${byScope
            .map((b) => `${b.scope}: ${b.ended} of ${b.current}`)
            .join(', ')})`
        : '';
      const message =
        `snapshot would end ${plan.ended} of ${plan.currentBefore} current records${where} ` +
        `(more than ${Math.round(maxShrink * 100)}%); held: re-run with --confirm-shrink if the file is complete` +
        (counts.rows_quarantined
          ? ` (its rejected rows: ruralhub quarantine --feed ${feed.id} --all-runs)`
          : '');
      await recordSha(db);
      // What was rejected is kept for the held run too: the operator decides on --confirm-shrink seeing it.
      await db.transaction().execute(async (trx) => {
        await recordQuarantine(trx, { feed, norm, raw, runId, source, columns: mapping.columns });
        await quarantineConnectorProblems(trx);
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
          recognized,
          cache,
          dataDate: dataDate.date,
          late,
          staging,
        },
        plan,
      );
      await quarantineConnectorProblems(trx);
      const fileSha = await recordSha(trx);
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
  } catch (thrown) {
    throw await runFailed(input, handles, thrown);
  } finally {
    // Not bounded: its transaction ends before the feed is unlocked (the connection's watchdog bounds it).
    await handles.base?.catch(() => undefined);
    if (handles.runId) await within(dropStaging(wh.db, handles.runId), input.limits.graceMs);
    await within(unlock(), input.limits.graceMs);
  }
}

/**
 * Characters kept of a row the connector could not read: such a row can run to max_record_bytes (1 MB) of
 * runaway quoting, and up to 100,000 of them are quarantined. Values quarantined from staging are kept whole.
 */
const MAX_RAW_CHARS = 4000;

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

async function problemCounts(
  wh: Warehouse,
  norm: string,
  fromConnector: readonly { problem: string }[],
): Promise<Record<string, number>> {
  const { rows } = await sql<{ problem: string; n: number }>`
    SELECT pr AS problem, count(*)::int AS n
    FROM ${sql.id(norm)} CROSS JOIN LATERAL unnest(problems) AS pr
    WHERE skip IS NULL GROUP BY pr ORDER BY pr`.execute(wh.db);
  const out: Record<string, number> = Object.fromEntries(rows.map((r) => [r.problem, r.n]));
  for (const m of fromConnector) out[m.problem] = (out[m.problem] ?? 0) + 1;
  return out;
}
