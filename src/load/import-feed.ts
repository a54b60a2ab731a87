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
 *
 * Each stage is a module of its own with one entry point, sharing the run's context (run-context.ts):
 * import-start.ts, stage-bulk.ts or stage-records.ts, settle-data-date.ts, normalize-link.ts, plan-run.ts,
 * guard-shrink.ts, publish-run.ts; run-failure.ts when one throws.
 */
import { basename } from 'node:path';
import { connectorFor, openSource } from '../../connectors/registry.ts';
import { configError, dataError } from '../../core/errors.ts';
import { phaseTimer } from '../../core/phase-timer.ts';
import { countyFeed } from '../../pipelines/feeds/resolve.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { SourceConfig } from '../../schemas/sources.ts';
import { headerDetector } from '../normalize/header-map.ts';
import { poolTimeouts, within } from '../warehouse/connect.ts';
import { holdShrunk } from './guard-shrink.ts';
import { startImport } from './import-start.ts';
import { assertInputFile, assertUnchanged } from './input-file.ts';
import { lockFeed } from './lock-feed.ts';
import { normalizeAndLink } from './normalize-link.ts';
import { planRun } from './plan-run.ts';
import { publishRun } from './publish-run.ts';
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
    run.phase('start');
    // Stage: bulk bytes into COPY when the connector offers them and PostgreSQL accepts them; else records.
    const staged = (await stageBulk(run, handles)) ?? (await stageRecords(run));
    if (path !== undefined && run.opened) await assertUnchanged(path, run.opened);
    const dated = await settleDataDate(run, staged);
    run.sha.start(); // hashed while PostgreSQL normalizes (import-start.ts)
    const normalized = await normalizeAndLink(run, staged);
    const planned = await planRun(run, staged, normalized.staging, dated.late);
    const load = { ...staged, ...dated, ...normalized, ...planned };
    return (await holdShrunk(run, load)) ?? (await publishRun(run, handles, load));
  } catch (thrown) {
    throw await runFailed(input, handles, thrown);
  } finally {
    // Not bounded: its transaction ends before the feed is unlocked (the connection's watchdog bounds it).
    await handles.base?.catch(() => undefined);
    if (handles.runId) await within(dropStaging(wh.db, handles.runId), input.limits.graceMs);
    await within(unlock(), input.limits.graceMs);
  }
}
