/**
 * From staged to plannable: the staged rows normalized and ranked in SQL (unless the bulk path normalized them in
 * Node), their identities linked, and on a cluster copied beside the feed's table (placement.ts). Recognised
 * records that meet a staged row of the same key are pulled back in once the plan has found them (plan-run.ts).
 */
import { sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { mapHeader } from '../normalize/header-map.ts';
import { linkRecords } from './link-identities.ts';
import { loadSettings } from './load-settings.ts';
import { buildNormalize, rankDuplicates } from './normalize-staged.ts';
import { distributeStaging, localStaging, type Staging } from './placement.ts';
import type { Normalized, RunContext, Staged } from './run-context.ts';

/** Normalizes, ranks and links the staged rows. */
export async function normalizeAndLink(run: RunContext, staged: Staged): Promise<Normalized> {
  const { wh, params: p, feed, source, headerAliases: extra, limits, phase, log: rlog } = run;
  const { db } = wh;
  const { raw, norm, distributed, fingerprint } = run;
  const { header, headerRow, normalizedInNode, keysUnique } = staged;
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
    await sql`ANALYZE ${sql.id(norm)} (${sql.join(plannedColumns(feed).map((c) => sql.id(c)))})`.execute(trx);
    // Nothing to rank when the stager saw every valid row's key once: every row keeps rn = hrn = 1.
    if (!keysUnique) await rankDuplicates(trx, feed, norm);
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
  const staging: Staging = distributed ? await distributeStaging(db, feed, norm) : localStaging(norm);
  if (distributed) phase('distribute');
  return { mapping, staging };
}

/** The staged columns the load's joins and filters use: what the planner needs statistics for. */
function plannedColumns(feed: FeedDefinition): string[] {
  const fields = [
    ...feed.key,
    ...(feed.scope ?? []),
    ...Object.values(feed.identity ?? {}),
    ...Object.values(feed.surrogate ?? {}),
  ];
  // rn with them: `ok AND rn = 1` (the winners) estimated at 0.5 % of a first load's 2M rows, not all of them, planned
  // the publish's sort and its registrations for 10,000 rows.
  return [...new Set(['rec_no', 'skip', 'ok', 'rn', 'row_hash', 'raw_hash', ...fields])];
}
