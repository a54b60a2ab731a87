/**
 * A late load: its data date is earlier than one the feed has already loaded (a file sent late, an old month sent
 * again). Its picture holds from its date up to the next date already loaded, and the history takes it there, on
 * the valid-time axis (data_from/data_to, migration 0020), without changing what the later loads established:
 *
 * - the versions valid at its date that it changes (or, in a snapshot, leaves out) are cut at its date; the part
 *   of such a version beyond the window (the later load found it unchanged) is kept as a copy from the window's
 *   end, which also keeps its place as the current version;
 * - its new and changed rows are written for the window only, [date, end): versions that were never current.
 *
 * The window ends, per business key, at the key's next version after the date or, for a snapshot, at the feed's
 * next loaded data date (a later snapshot spoke for every key, changed or not), whichever is first. A key with
 * neither (an incremental feed's record no later load touched) is updated as an in-order load would: its late row
 * is the latest word on it and becomes current. Nothing here touches findings: they move when a match runs.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { feedPlacement } from '../warehouse/distribution.ts';
import { versionValidAt } from '../warehouse/feed-table.ts';
import type { Database } from '../warehouse/schema.ts';
import type { Staging } from './placement.ts';
import { nothingRecognised } from './recognition.ts';
import { aliveKeys, inScope, keyMatch, matchColumns } from './version-match.ts';

export interface LateLoad {
  /** The load's data date, earlier than one already loaded for the feed. */
  date: string;
  /** A snapshot's next loaded data date after `date`; null for an incremental feed (only its keys' own versions bound it). */
  next: string | null;
}

type Db = Kysely<Database>;

/**
 * The staging table of each key's window end: dropped with the publishing transaction on one server, with the
 * run's staging on a cluster.
 */
export const windowEnds = (norm: string) => `${norm}_ends`;

/**
 * Per key with a version starting after the date: the first such start. A version describing no date (an empty
 * interval, replaced by a load of its own date) does not bound anything. On a cluster a table distributed and
 * co-located with the feed's (its key holds the person: matchColumns), so that the cut and the late rows join it
 * shard against shard; Citus refuses a temporary table joined with a distributed one.
 */
export async function createWindowEnds(
  trx: Db,
  feed: FeedDefinition,
  staging: Staging,
  late: LateLoad,
): Promise<void> {
  const table = sql.id(windowEnds(staging.norm));
  const keys = sql.join(matchColumns(feed, staging).map((k) => sql.id(k)));
  const ends = sql`SELECT ${keys}, min(data_from) AS e FROM ${sql.id(feed.id)}
    WHERE data_from > ${late.date}::date AND (data_to IS NULL OR data_to > data_from)
    GROUP BY ${keys}`;
  const placed = staging.distributed ? feedPlacement(feed) : null;
  if (placed?.kind === 'distributed') {
    await sql`CREATE UNLOGGED TABLE ${table} AS ${ends} WITH NO DATA`.execute(trx);
    await sql`SELECT create_distributed_table(quote_ident(${windowEnds(staging.norm)})::regclass,
      ${placed.column}::text, colocate_with => quote_ident(${feed.id}))`.execute(trx);
    await sql`INSERT INTO ${table} ${ends}`.execute(trx);
  } else await sql`CREATE TEMP TABLE ${table} ON COMMIT DROP AS ${ends}`.execute(trx);
  await sql`ANALYZE ${table}`.execute(trx);
}

/** Where the late picture of the key of `n`'s row ends (NULL: it does not; least() passes over a NULL). */
const windowEnd = (n: string, late: LateLoad): RawBuilder<unknown> =>
  sql`least(${sql.ref(`${n}.e`)}, ${late.next}::date)`;

/**
 * Cuts at the date the versions valid then that the load changes or (a snapshot, in the partitions it carries)
 * leaves out; a cut version's part beyond the window returns as a copy from the window's end, current if it was.
 * `columns`: every column of the feed table but version_id.
 */
export function cutVersions(
  feed: FeedDefinition,
  p: { staging: Staging; runId: number },
  late: LateLoad,
  columns: readonly string[],
  now: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const ended =
    feed.mode === 'snapshot'
      ? sql`OR (a.rec_no IS NULL AND ${inScope(feed, p.staging.norm, nothingRecognised)})`
      : sql``;
  const { staging } = p;
  const match = (a: string, b: string) => keyMatch(feed, a, b, staging);
  const alive =
    feed.mode === 'snapshot'
      ? sql`LEFT JOIN ${aliveKeys(feed, staging.table)} a ON ${match('a', 'f')}`
      : sql``;
  const copied = columns.map((c) => {
    if (c === 'valid_to') return sql`c.was_valid_to`;
    if (c === 'ended_run_id') return sql`c.was_ended`;
    if (c === 'data_from') return sql`c.e`;
    if (c === 'data_to') return sql`c.was_data_to`;
    return sql.ref(`c.${c}`);
  });
  return sql`WITH v AS (
      SELECT f.version_id, f.valid_to AS was_valid_to, f.data_to AS was_data_to, f.ended_run_id AS was_ended,
             ${windowEnd('n', late)} AS e
      FROM ${sql.id(feed.id)} f
      LEFT JOIN ${sql.id(staging.table)} w ON w.ok AND w.rn = 1 AND ${match('w', 'f')}
      ${alive}
      LEFT JOIN ${sql.id(windowEnds(staging.norm))} n ON ${match('n', 'f')}
      WHERE ${versionValidAt('f', late.date)} AND (w.row_hash <> f.row_hash ${ended})
    ), cut AS (
      UPDATE ${sql.id(feed.id)} f
      SET data_to = ${late.date}::date, valid_to = coalesce(f.valid_to, ${now}),
          ended_run_id = coalesce(f.ended_run_id, ${p.runId}::bigint)
      FROM v WHERE f.version_id = v.version_id
      RETURNING f.*, v.was_valid_to, v.was_data_to, v.was_ended, v.e
    )
    INSERT INTO ${sql.id(feed.id)} (${sql.join(columns.map((c) => sql.id(c)))})
    SELECT ${sql.join(copied)} FROM cut c
    WHERE c.e IS NOT NULL AND (c.was_data_to IS NULL OR c.was_data_to > c.e)`;
}

/**
 * The late rows to insert (new keys, and changed rows whose old version was cut): from the date to the key's
 * window end; current (valid_to NULL) only where the window does not end. As the in-order insert's SELECT:
 * `vals` the staged values, the columns in the same order as the caller's INSERT; `now` the publish's time.
 */
export function lateRows(
  feed: FeedDefinition,
  p: { staging: Staging; runId: number; source: string },
  late: LateLoad,
  vals: readonly RawBuilder<unknown>[],
  now: RawBuilder<unknown>,
): RawBuilder<unknown> {
  return sql`SELECT ${sql.join(vals)}, w.row_hash, w.raw_hash, ${now},
      CASE WHEN ${windowEnd('n', late)} IS NOT NULL THEN ${now} END,
      ${p.runId}, ${p.source}, w.sheet, w.row_number, ${late.date}::date, ${windowEnd('n', late)}
    FROM ${sql.id(p.staging.table)} w
    LEFT JOIN ${sql.id(windowEnds(p.staging.norm))} n ON ${keyMatch(feed, 'n', 'w', p.staging)}
    WHERE w.ok AND w.rn = 1
      AND NOT EXISTS (SELECT 1 FROM ${sql.id(feed.id)} f WHERE ${versionValidAt('f', late.date)} AND ${keyMatch(feed, 'f', 'w', p.staging)})`;
}

/**
 * Whether a load of `feed` describing `date` is late: the first data date after it among the feed's loads that
 * stand (succeeded, or found the same file again), or null. A run from before data dates (0019) counts by the date
 * it started, as its versions do (0020).
 */
export async function lateLoadOf(db: Db, feed: FeedDefinition, date: string): Promise<LateLoad | null> {
  const described = sql`coalesce(data_date, (started_at AT TIME ZONE current_setting('TimeZone'))::date)`;
  const { rows } = await sql<{ next: string | null }>`SELECT min(${described})::text AS next FROM runs
    WHERE kind = 'import' AND feed = ${feed.id} AND status IN ('succeeded', 'noop') AND ${described} > ${date}::date`.execute(
    db,
  );
  const next = rows[0]?.next ?? null;
  if (next === null) return null;
  return { date, next: feed.mode === 'snapshot' ? next : null };
}

/** The feed's current versions after a late load (which may end or add some: an incremental feed's keys). */
export async function currentRows(db: Db, feed: FeedDefinition): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM ${sql.id(feed.id)} WHERE valid_to IS NULL`.execute(db);
  return rows[0]?.n ?? 0;
}
