/**
 * The run ledger: one row per run. A run row is committed as 'running' when the run starts (operators see
 * it), and its final status and counts are written in the same transaction as the data it published.
 */
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { RuralHubError } from '../../core/errors.ts';
import type { RunKind, RunStatus } from '../../schemas/vocab.ts';
import { maskIdsInText } from '../normalize/mask.ts';
import { firstChars, withoutNul } from '../normalize/text.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** The ledger columns an operator reads (CLI `runs`, API `/api/runs`): no personal data in any of them. */
export const RUN_COLUMNS = [
  'id',
  'kind',
  'feed',
  'source',
  'status',
  'started_at',
  'finished_at',
  'rows_read',
  'rows_loaded',
  'rows_new',
  'rows_changed',
  'rows_unchanged',
  'rows_ended',
  'rows_quarantined',
  'exact_duplicates',
  'conflicting_duplicates',
  'rows_skipped',
  'error',
  'data_date',
  'data_date_from',
] as const;

export async function startRun(
  db: Db,
  r: {
    kind: RunKind;
    feed?: string | null;
    source?: string | null;
    sha256?: string | null;
    /** An import's data date when known at its start (given by flag or job), and where it came from. */
    dataDate?: { date: string; from: string } | null;
  },
): Promise<number> {
  const row = await db
    .insertInto('runs')
    .values({
      kind: r.kind,
      feed: r.feed ?? null,
      status: 'running',
      source: r.source ?? null,
      source_sha256: r.sha256 ?? null,
      pid: process.pid,
      data_date: r.dataDate?.date ?? null,
      data_date_from: r.dataDate?.from ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface RunCounts {
  rows_read: number;
  rows_loaded: number;
  rows_new: number;
  rows_changed: number;
  rows_unchanged: number;
  rows_ended: number;
  rows_quarantined: number;
  exact_duplicates: number;
  conflicting_duplicates: number;
  rows_skipped: number;
}

export const ZERO_COUNTS: RunCounts = {
  rows_read: 0,
  rows_loaded: 0,
  rows_new: 0,
  rows_changed: 0,
  rows_unchanged: 0,
  rows_ended: 0,
  rows_quarantined: 0,
  exact_duplicates: 0,
  conflicting_duplicates: 0,
  rows_skipped: 0,
};

export async function finishRun(
  db: Db,
  id: number,
  status: Exclude<RunStatus, 'running'>,
  counts: RunCounts = ZERO_COUNTS,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db
    .updateTable('runs')
    .set({ ...counts, status, details: JSON.stringify(details), finished_at: sql`clock_timestamp()` })
    .where('id', '=', id)
    .execute();
}

export async function failRun(db: Db, id: number, err: unknown): Promise<void> {
  const message =
    err instanceof RuralHubError ? err.message : `unexpected: ${(err as Error)?.message ?? String(err)}`;
  await db
    .updateTable('runs')
    // A message may quote the file (a header cell with a NUL in it): stored whole characters, no NUL, so the run
    // is recorded failed rather than left running by a failing UPDATE.
    .set({
      status: 'failed',
      // An error may quote a cell, and a cell an ID number: `ruralhub runs` shows this text as stored.
      error: withoutNul(firstChars(maskIdsInText(message), 2000)),
      finished_at: sql`clock_timestamp()`,
    })
    .where('id', '=', id)
    .execute();
}

/**
 * One feed never loads twice at once: a session advisory lock keyed by (schema, feed), held on a dedicated
 * connection for the whole run. Returns null when another run holds it.
 */
export async function tryFeedLock(
  pool: pg.Pool,
  schema: string,
  feed: string,
): Promise<(() => Promise<void>) | null> {
  const client = await pool.connect();
  const key = `${schema}.${feed}`;
  let rows: { ok: boolean }[];
  try {
    ({ rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(hashtext('ruralhub.feed'), hashtext($1)) AS ok`,
      [key],
    ));
  } catch (err) {
    client.release(err instanceof Error ? err : true);
    throw err;
  }
  if (!rows[0]?.ok) {
    client.release();
    return null;
  }
  // Never throws: it runs in the import's `finally`, where an error would replace the run's own. A session that
  // cannot unlock (lost, stalled: the pool's watchdog gives it up) is discarded, and its end releases the lock.
  return async () => {
    try {
      await client.query(`SELECT pg_advisory_unlock(hashtext('ruralhub.feed'), hashtext($1))`, [key]);
      client.release();
    } catch (err) {
      client.release(err instanceof Error ? err : true);
    }
  };
}

/** Runs left 'running' for a feed whose lock we now hold belong to a dead process: mark them failed. */
export async function failAbandoned(db: Db, kind: RunKind, feed: string | null): Promise<number> {
  let q = db
    .updateTable('runs')
    .set({
      status: 'failed',
      error: 'abandoned: the process running it ended',
      finished_at: sql`clock_timestamp()`,
    })
    .where('status', '=', 'running')
    .where('kind', '=', kind);
  q = feed === null ? q.where('feed', 'is', null) : q.where('feed', '=', feed);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}
