/**
 * One feed loads once at a time (the ledger's advisory lock): a second run while one holds it is recorded as
 * skipped, naming the holder, and fails busy — before any run of its own starts.
 */
import { BusyError } from '../../core/errors.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { finishRun, startRun, tryFeedLock, ZERO_COUNTS } from '../warehouse/ledger.ts';

/** Takes the feed's lock for a load of `source`; returns its release. */
export async function lockFeed(
  wh: Warehouse,
  feed: FeedDefinition,
  source: string,
): Promise<() => Promise<void>> {
  const { db } = wh;
  const unlock = await tryFeedLock(wh.pool, wh.schema, feed.id);
  if (unlock) return unlock;
  const holder = await db
    .selectFrom('runs')
    .select(['id', 'pid', 'started_at'])
    .where('feed', '=', feed.id)
    .where('status', '=', 'running')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  const who = holder
    ? `run ${holder.id} (pid ${holder.pid}, started ${holder.started_at.toISOString()})`
    : 'another run';
  const skipped = await startRun(db, { kind: 'import', feed: feed.id, source });
  const message = `feed ${feed.id} is being imported by ${who}; this run (${skipped}) was skipped`;
  await finishRun(db, skipped, 'skipped', ZERO_COUNTS, { reason: message });
  throw new BusyError(`${message}; try again when it ends`);
}
