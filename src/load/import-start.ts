/**
 * The start of an import run, under the feed's lock: runs abandoned by a crashed process marked failed, the run's
 * ledger row, orphaned staging dropped, and the no-op decision — the same file as the last successful load, under
 * the same settings and with no identity-review decisions since, is not loaded again.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { sql } from 'kysely';
import { gb18030Fingerprint } from '../../connectors/gb18030.ts';
import { decisionsSince } from '../identity/review.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { failAbandoned, finishRun, startRun, ZERO_COUNTS } from '../warehouse/ledger.ts';
import { fileSha, sha256File } from './input-file.ts';
import { normalizationFingerprint } from './normalize-staged.ts';
import { feedDistributed } from './placement.ts';
import { lateLoadOf } from './publish-late.ts';
import type { ImportSummary, LoadInput, RunContext, RunHandles } from './run-context.ts';
import { setDataDate } from './settle-data-date.ts';
import { stagingNames } from './stage.ts';

/** The run to load, or the summary of a no-op run (already finished in the ledger). */
export type Started = { run: RunContext } | { noop: ImportSummary };

/** Starts the run: sets `handles.runId` and `handles.recordSha` as soon as the run has them. */
export async function startImport(input: LoadInput, handles: RunHandles): Promise<Started> {
  const { wh, params: p, feed, path, source, headerAliases: extra } = input;
  const { db } = wh;
  const log = p.log;
  // On a Citus cluster the statements meeting the feed's table take their cluster forms (placement.ts): decided
  // here, once, from whether the feed's table is distributed.
  const distributed = await feedDistributed(db, feed);
  const abandoned = await failAbandoned(db, 'import', feed.id);
  if (abandoned) log.warn({ feed: feed.id, abandoned }, 'marked abandoned runs of this feed as failed');
  const state = await db.selectFrom('feed_state').selectAll().where('feed', '=', feed.id).executeTakeFirst();
  // Files are compared by content hash (an identical file is a no-op); connector sources by their cursor. A
  // file of another size than the last one loaded cannot be it: its hash (for the ledger) is computed once it is
  // staged, while PostgreSQL normalizes — not in a pass of its own before, nor beside the staging, where its
  // reads slowed the recognizer's (measured: 2.1–2.8 s for the first pass with it, 1.3–1.7 s without).
  // Also what the file must still be once staged and hashed (assertUnchanged): the ledger's hash and the staged
  // rows are of one file.
  const opened = path !== undefined ? await stat(path) : null;
  // What the feed's table was when this load started: a write since by anything else fails the load.
  const generation = state?.generation ?? null;
  const bytes = opened?.size ?? null;
  const maybeSame = bytes !== null && (state?.last_bytes == null || Number(state.last_bytes) === bytes);
  // A hash started before the warehouse was opened, if it is of the file opened here (else hashed again).
  const early =
    p.earlySha && opened
      ? p.earlySha.then((e) =>
          e && e.ino === opened.ino && e.size === opened.size && e.mtimeMs === opened.mtimeMs ? e.sha : null,
        )
      : null;
  const sha = maybeSame ? ((await early) ?? (await sha256File(path!))) : null;
  const runId = await startRun(db, {
    kind: 'import',
    feed: feed.id,
    source,
    sha256: sha,
    dataDate: p.dataDate,
  });
  handles.runId = runId;
  let dataDate: { date: string; from: string } | undefined = p.dataDate;
  const rlog = log.child({ run_id: runId, feed: feed.id });
  await cleanOrphanStaging(wh);
  const hash = fileSha({ path, opened, sha, runId, early });
  handles.recordSha = () => hash.record(db);
  // The same file loads the same only under the same settings (normalizers, vocabularies, regions, header
  // aliases), the same choice of sheet (another sheet of the same workbook is other data) and identity-review
  // decisions: otherwise it is loaded again.
  const fingerprint = await normalizationFingerprint(db, feed, p.timeZone);
  const settingsHash = createHash('sha256')
    .update(fingerprint)
    .update(JSON.stringify(extra))
    .update(JSON.stringify({ sheet: p.feedConfig?.sheet ?? null }))
    // The same bytes are the same text only under the same GB18030 decoder (connectors/gb18030.ts): a file loaded
    // under another mapping (PostgreSQL's, before) is read again rather than taken as already loaded.
    .update(gb18030Fingerprint())
    .digest('hex');
  const sameFile = sha !== null && state?.last_sha256 === sha && state.last_settings_hash === settingsHash;
  const decided = sameFile && state ? await decisionsSince(db, feed.id, state.last_success_at) : 0;
  if (decided) rlog.info({ decisions: decided }, 'same file, but identity-review decisions since its load');
  // The load's local date: the caller's `today` (import --as-of) unless told otherwise.
  const loadDay = p.loadDay ?? p.today;
  const lateBefore = await lateLoadOf(db, feed, dataDate?.date ?? loadDay);
  // The same file given a date earlier than one loaded since is that date's picture: it is loaded in its place.
  if (!p.force && sameFile && !decided && !(p.dataDate && lateBefore)) {
    // The same file describes the same date as when it was loaded (unless the caller gives one).
    if (!dataDate && state.last_run_id !== null) {
      const same = await db
        .selectFrom('runs')
        .select(['data_date', 'data_date_from'])
        .where('id', '=', state.last_run_id)
        .executeTakeFirst();
      if (same?.data_date) {
        dataDate = { date: same.data_date, from: same.data_date_from ?? 'load_day' };
        await setDataDate(db, runId, dataDate);
      }
    }
    await finishRun(db, runId, 'noop', undefined, { same_as_run: state.last_run_id });
    rlog.info({ source }, 'same file as the last successful load: nothing to do');
    return {
      noop: {
        runId,
        feed: feed.id,
        source,
        status: 'noop',
        counts: { ...ZERO_COUNTS },
        problems: {},
        unmappedColumns: [],
        message: `identical to run ${state.last_run_id}`,
        ...(dataDate ? { dataDate } : {}),
      },
    };
  }
  return {
    run: {
      ...input,
      runId,
      log: rlog,
      ...stagingNames(runId),
      distributed,
      state,
      generation,
      bytes,
      opened,
      sha: hash,
      fingerprint,
      settingsHash,
      loadDay,
      lateBefore,
    },
  };
}

/** Staging tables of runs that are no longer running (a crashed process) are dropped. */
async function cleanOrphanStaging(wh: Warehouse): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${wh.schema} AND c.relkind = 'r' AND c.relname ~ '^stg_[0-9]+_(raw|norm|unseen|norm_dist|norm_ends)$'
      AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.status = 'running'
                      AND r.id = substring(c.relname FROM '^stg_([0-9]+)_')::bigint)`.execute(wh.db);
  for (const r of rows) await sql`DROP TABLE IF EXISTS ${sql.id(r.name)}`.execute(wh.db);
}
