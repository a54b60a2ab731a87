/**
 * From normalized staging to the warehouse: plan (counts only), then publish in the caller's transaction.
 * Snapshot: the staged winners are the whole current picture (within the scope partitions they carry);
 * current rows absent from them end. Incremental: winners are merged by key; nothing ends.
 * Only changed rows are written: an unchanged row keeps its version, so a re-sent snapshot costs a read.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { columnTypeOf, feedColumns, versionValidAt } from '../warehouse/feed-table.ts';
import type { Database } from '../warehouse/schema.ts';
import { deferIndexes } from './deferred-indexes.ts';
import { fieldNames } from './normalize-staged.ts';
import type { Staging } from './placement.ts';
import { createWindowEnds, cutVersions, type LateLoad, lateRows } from './publish-late.ts';
import type { Recognition, UnseenVersions } from './recognition.ts';
import { cacheStep, stepColumns } from './recognition-cache.ts';
import { recordReview } from './record-review.ts';
import type { StagedRun } from './stage.ts';
import { aliveKeys, inScope, keepsAlive, keyMatch, movedVersions } from './version-match.ts';

export interface LoadPlan {
  read: number;
  skipped: number;
  quarantined: number;
  exactDuplicates: number;
  conflictingDuplicates: number;
  winners: number;
  new: number;
  changed: number;
  unchanged: number;
  ended: number;
  /** Current rows (within scope) before this load: the base of the shrink guard. */
  currentBefore: number;
  /** Current rows of the whole feed once this load is published (feed_state.current_rows). */
  currentAfter: number;
  /** Rows recognised by their raw hash as a current version: taken from it, not normalized again. */
  recognized: number;
  /**
   * Staged winners whose key is a current version's that the file carried unchanged (recognised before staging):
   * those records must be pulled back into staging (pull-in.ts) and the load planned again. 0 without recognition.
   */
  meetsCarried: number;
  /**
   * A feed delivered per partition (`scope`): the partitions the load speaks for, each as its scope values' text,
   * found by the plan's one pass over the feed table; the publish ends versions in these only. Absent for a feed
   * without scope (and for a plan made elsewhere: the publish then finds them itself).
   */
  scopes?: readonly (readonly string[])[];
  /**
   * On a cluster, a feed keyed without its person: the current versions whose key a winner carries under another
   * person (counted in `changed`), which the publish closes apart (version-match.ts movedVersions). Absent where
   * there are none to look for (and for a plan made elsewhere: the publish then looks itself).
   */
  moved?: number;
}

type Db = Kysely<Database>;

/** Current rows (aliased f) the load ends: in scope, carried neither by a staged row (w) nor recognised. */
const endedRow = (recognition: Recognition): RawBuilder<unknown> =>
  sql`w.rec_no IS NULL AND NOT ${recognition.carried('f')}`;

/**
 * The versions a load is compared with: the current ones, or for a late load (`late`: its data date, earlier
 * than one already loaded) those valid at its date.
 */
const compared = (late: string | undefined): RawBuilder<unknown> =>
  late === undefined ? sql`f.valid_to IS NULL` : versionValidAt('f', late);

/**
 * `staging`: normalized staging and the table the statements meeting the feed's table read (placement.ts);
 * `recognition`: what the bulk path recognised before staging (its records are not in `norm`); `late`:
 * a late load's data date (its counts are then against the versions valid at that date; currentAfter is not
 * known before publishing and is left as currentBefore).
 */
export async function planLoad(
  db: Db,
  feed: FeedDefinition,
  staging: Staging,
  recognition: Recognition,
  late?: string,
): Promise<LoadPlan> {
  const { norm, table } = staging;
  const { unseen } = recognition;
  const match = (a: string, b: string) => keyMatch(feed, a, b, staging);
  const counts = await sql<{
    read: number;
    skipped: number;
    quarantined: number;
    exact: number;
    conflicting: number;
    winners: number;
    recognized: number;
  }>`SELECT
      count(*) FILTER (WHERE skip IS NULL)::int AS read,
      count(*) FILTER (WHERE skip IS NOT NULL)::int AS skipped,
      count(*) FILTER (WHERE skip IS NULL AND NOT ok)::int AS quarantined,
      count(*) FILTER (WHERE ok AND hrn > 1)::int AS exact,
      count(*) FILTER (WHERE ok AND hrn = 1 AND rn > 1)::int AS conflicting,
      count(*) FILTER (WHERE ok AND rn = 1)::int AS winners,
      count(*) FILTER (WHERE known)::int AS recognized
    FROM ${sql.id(norm)}`.execute(db);
  type Ended = { ended: number; current: number; all: number };
  const scoped =
    feed.mode === 'snapshot' && feed.scope?.length
      ? unseen && feed.scope.every((c) => feed.fields[c]?.required === true)
        ? await recognizedPartitions(db, feed, staging, unseen)
        : scopedCounts(await partitions(db, feed, staging, recognition, late))
      : null;
  const ended: { rows: Ended[] } =
    feed.mode !== 'snapshot'
      ? await sql<Ended>`SELECT 0 AS ended, count(*)::int AS current, count(*)::int AS all
          FROM ${sql.id(feed.id)} f WHERE ${compared(late)}`.execute(db)
      : scoped
        ? { rows: [scoped] }
        : unseen
          ? // Recognised before staging: the versions that can end are the few the file did not carry unchanged,
            // found by their ids; the current ones were counted as they were read.
            await sql<Ended>`SELECT count(*) FILTER (WHERE w.rec_no IS NULL)::int AS ended,
              ${unseen.total}::int AS current, ${unseen.total}::int AS all
            FROM ${unseen.current(feed.id)}
            LEFT JOIN ${aliveKeys(feed, table)} w ON ${match('w', 'f')}`.execute(db)
          : // A LEFT JOIN, not NOT EXISTS inside the FILTER: the planner turns only the join into a hash
            // anti-join; the sublink in an aggregate runs once per current row (quadratic on a re-load of a large
            // snapshot).
            await sql<Ended>`SELECT
              count(*) FILTER (WHERE ${endedRow(recognition)})::int AS ended,
              count(*)::int AS current,
              count(*)::int AS all
            FROM ${sql.id(feed.id)} f
            LEFT JOIN ${aliveKeys(feed, table)} w ON ${match('w', 'f')}
            WHERE ${compared(late)}`.execute(db);
  const e = ended.rows[0]!;
  type Diff = { new: number; changed: number; unchanged: number; meets_carried: number };
  // No version to compare with (a first load): every winner is new, without a join of every staged row.
  // meets_carried: whether pull-in is needed, found by the diff's own probe of each winner's current version
  // (a probe of its own cost 0.3–0.7 s for the 20k staged rows of a 2M-row roster with 1 % changed).
  const diff: { rows: Diff[] } =
    e.all === 0
      ? { rows: [{ new: counts.rows[0]!.winners, changed: 0, unchanged: 0, meets_carried: 0 }] }
      : await sql<Diff>`SELECT
      count(*) FILTER (WHERE f.version_id IS NULL)::int AS new,
      count(*) FILTER (WHERE f.row_hash <> w.row_hash)::int AS changed,
      count(*) FILTER (WHERE f.row_hash = w.row_hash)::int AS unchanged,
      ${unseen ? sql`count(*) FILTER (WHERE f.version_id IS NOT NULL AND ${recognition.carried('f')})::int` : sql`0`} AS meets_carried
    FROM ${sql.id(table)} w
    LEFT JOIN ${sql.id(feed.id)} f ON ${compared(late)} AND ${match('f', 'w')}
    WHERE w.ok AND w.rn = 1`.execute(db);
  // On a cluster, a feed keyed without its person: a winner whose key is current under another person was counted
  // new by the diff (it met no version on its own shard); one server counts it changed, and the publish closes that
  // version (movedVersions). A late load's cut (publish-late.ts) matches on key and person still: not counted there.
  const moving = late === undefined ? movedVersions(feed, staging) : null;
  const moved = moving
    ? (
        await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(feed.id)} f
          WHERE f.valid_to IS NULL AND ${moving}`.execute(db)
      ).rows[0]!.n
    : 0;
  const c = counts.rows[0]!;
  const { meets_carried: meetsCarried, ...diffed } = diff.rows[0]!;
  const d = { ...diffed, new: diffed.new - moved, changed: diffed.changed + moved };
  // Records recognised before staging: unchanged winners, or exact duplicates of one; those pulled back into
  // staging are counted there already.
  const { before, again } = recognition;
  return {
    read: c.read + before + again,
    skipped: c.skipped,
    quarantined: c.quarantined,
    exactDuplicates: c.exact + again,
    conflictingDuplicates: c.conflicting,
    winners: c.winners + before,
    new: d.new,
    changed: d.changed,
    unchanged: d.unchanged + before,
    ended: e.ended,
    currentBefore: e.current,
    currentAfter: late === undefined ? e.all + d.new - e.ended : e.current,
    recognized: c.recognized + before,
    meetsCarried,
    ...(scoped ? { scopes: scoped.scopes } : {}),
    ...(moving ? { moved } : {}),
  };
}

/** One partition of a scoped feed's compared versions (current, or valid at a late load's date). */
interface Partition {
  /** Its scope values as text, in the order of `feed.scope`. */
  scope: string[];
  current: number;
  /** Versions the load would end: in no staged row that keeps a record alive, and not carried unchanged. */
  ended: number;
  /** The load speaks for it: a staged winner, or a version recognised before staging, is of this partition. */
  inScope: boolean;
}

/** A scoped snapshot's counts (as planLoad's `ended`) and the partitions the load speaks for. */
interface ScopedCounts {
  ended: number;
  current: number;
  all: number;
  scopes: string[][];
}

const scopedCounts = (ps: readonly Partition[]): ScopedCounts => ({
  ended: ps.reduce((n, p) => n + (p.inScope ? p.ended : 0), 0),
  current: ps.reduce((n, p) => n + (p.inScope ? p.current : 0), 0),
  all: ps.reduce((n, p) => n + p.current, 0),
  scopes: ps.filter((p) => p.inScope).map((p) => p.scope),
});

const scopeArray = (feed: FeedDefinition, alias: string): RawBuilder<unknown> =>
  sql`ARRAY[${sql.join((feed.scope ?? []).map((c) => sql`${sql.ref(`${alias}.${c}`)}::text`))}]`;

/**
 * A re-sent scoped snapshot's counts without a pass over the feed table, as the unscoped one is counted (on
 * PostgreSQL 18 that is what made its plan 0.14–0.28 s, against 4.1 s on 15 for the scoped insurance): only a
 * version the file did not carry unchanged (in `unseen`) can end, and the current versions were counted as they
 * were read. A partition the load speaks for is one a staged winner is of, or one with a version carried
 * unchanged — which a partition with unseen versions has exactly when it holds more current versions than
 * unseen ones; only for such partitions that the file does not stage (a year it no longer sends) are the current
 * versions counted. A partition with no unseen version is carried whole: in scope, nothing of it ends. Needs
 * scope values that cannot be NULL (a NULL partition is in no scope, and would have to be counted).
 */
async function recognizedPartitions(
  db: Db,
  feed: FeedDefinition,
  staging: Staging,
  unseen: UnseenVersions,
): Promise<ScopedCounts> {
  const scope = feed.scope ?? [];
  const cols = scope.map((c) => sql.ref(`f.${c}`));
  const staged = await stagedScopes(db, feed, staging.norm);
  const { rows: found } = await sql<{ scope: string[]; unseen: number; ended: number }>`
    SELECT ${scopeArray(feed, 'f')} AS scope, count(*)::int AS unseen,
      count(*) FILTER (WHERE w.rec_no IS NULL)::int AS ended
    FROM ${unseen.current(feed.id)}
    LEFT JOIN ${aliveKeys(feed, staging.table)} w ON ${keyMatch(feed, 'w', 'f', staging)}
    GROUP BY ${sql.join(cols)}`.execute(db);
  const rows = found.map((r) => ({ ...r, staged: staged.has(scopeKey(r.scope)) }));
  const unstaged = rows.filter((r) => !r.staged);
  const current = new Map<string, number>();
  if (unstaged.length) {
    const counted = await sql<{ scope: string[]; current: number }>`
      SELECT ${scopeArray(feed, 'f')} AS scope, count(*)::int AS current
      FROM ${sql.id(feed.id)} f
      WHERE f.valid_to IS NULL AND ${scopeIn(
        feed,
        unstaged.map((r) => r.scope),
      )}
      GROUP BY ${sql.join(cols)}`.execute(db);
    for (const r of counted.rows) current.set(scopeKey(r.scope), r.current);
  }
  const inScope = (r: (typeof rows)[number]) => r.staged || (current.get(scopeKey(r.scope)) ?? 0) > r.unseen;
  const { total } = unseen;
  return {
    ended: rows.reduce((n, r) => n + (inScope(r) ? r.ended : 0), 0),
    // Outside the scope: partitions whose every current version is unseen.
    current: total - rows.reduce((n, r) => n + (inScope(r) ? 0 : r.unseen), 0),
    all: total,
    scopes: rows.filter(inScope).map((r) => r.scope),
  };
}

/**
 * A scoped snapshot's partitions in one pass over the compared versions, grouped by scope. Which partitions the
 * load speaks for depends on the versions recognised before staging (carried by the file, though not staged):
 * asked per version as `scope IN (staged scopes UNION the scopes of every carried version)` inside the
 * aggregate, that was a hashed subplan scanning the whole feed table again — on PostgreSQL 15 twice more, in
 * every parallel worker (measured, 662k insurance rows, 1 % changed: 3.3 s; this pass ~0.3 s). Here a
 * partition is carried when any of its versions is, which the grouping finds on the way.
 */
async function partitions(
  db: Db,
  feed: FeedDefinition,
  staging: Staging,
  recognition: Recognition,
  late: string | undefined,
): Promise<Partition[]> {
  const scope = feed.scope ?? [];
  const cols = scope.map((c) => sql.ref(`f.${c}`));
  const { join: unseen, carried: isCarried } = recognition.carriedInPass('f');
  const staged = await stagedScopes(db, feed, staging.norm);
  const { rows } = await sql<Omit<Partition, 'inScope'> & { carried: boolean }>`
    SELECT ${scopeArray(feed, 'f')} AS scope,
      count(*)::int AS current,
      count(*) FILTER (WHERE w.rec_no IS NULL AND NOT ${isCarried})::int AS ended,
      coalesce(bool_or(${isCarried}), FALSE) AS carried
    FROM ${sql.id(feed.id)} f
    LEFT JOIN ${aliveKeys(feed, staging.table)} w ON ${keyMatch(feed, 'w', 'f', staging)}
    ${unseen}
    WHERE ${compared(late)}
    GROUP BY ${sql.join(cols)}`.execute(db);
  // A partition with a NULL scope value is in no scope, as `IN` never matches a NULL.
  return rows.map(({ carried, ...p }) => ({
    ...p,
    inScope: p.scope.every((v) => v !== null) && (carried || staged.has(scopeKey(p.scope))),
  }));
}

const scopeKey = (s: readonly (string | null)[]) => JSON.stringify(s);

/**
 * The partitions of the staged winners (as scopeKey of their values' text). Read apart and compared in Node, not
 * as a subquery in the aggregates' target list, which a distributed feed table cannot push down (docs/scaling.md).
 */
async function stagedScopes(db: Db, feed: FeedDefinition, norm: string): Promise<Set<string>> {
  const { rows } = await sql<{ scope: string[] }>`SELECT DISTINCT ${scopeArray(feed, 's')} AS scope
    FROM ${sql.id(norm)} s WHERE s.ok AND s.rn = 1`.execute(db);
  return new Set(rows.filter((r) => r.scope.every((v) => v !== null)).map((r) => scopeKey(r.scope)));
}

/** `f`'s partition is one of `scopes` (the plan's), compared in the scope columns' own types. */
function scopeIn(feed: FeedDefinition, scopes: readonly (readonly string[])[]): RawBuilder<unknown> {
  const scope = feed.scope ?? [];
  if (!scopes.length || !scope.length) return sql`FALSE`;
  const types = scope.map((c) => sql.raw(columnTypeOf(feed.fields[c]!.type)));
  const rows = scopes.map((s) => sql`(${sql.join(s.map((v, i) => sql`${v}::${types[i]!}`))})`);
  return sql`(${sql.join(scope.map((c) => sql.ref(`f.${c}`)))}) IN (VALUES ${sql.join(rows)})`;
}

/**
 * For a feed delivered per partition (insurance per 参保年度): how many current records of each partition the
 * load would end, for the held-snapshot message — a stray row of another year brings that year into scope.
 */
export async function endedByScope(
  db: Db,
  feed: FeedDefinition,
  staging: Staging,
  recognition: Recognition,
  late?: string,
): Promise<{ scope: string; ended: number; current: number }[]> {
  if (!feed.scope?.length) return [];
  return (await partitions(db, feed, staging, recognition, late))
    .filter((p) => p.inScope && p.ended > 0)
    .map((p) => ({ scope: p.scope.join('/'), ended: p.ended, current: p.current }))
    .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
}

export interface PublishParams extends StagedRun {
  /** What the bulk path recognised before staging (recognition.ts). */
  recognition: Recognition;
  /** The recognition cache is valid: each statement adds its step to it (src/load/recognition-cache.ts). */
  cache: boolean;
  /** The date the load's data describes (runs.data_date): where its versions start on the valid-time axis. */
  dataDate: string;
  /** A late load (its data date earlier than one already loaded; publish-late.ts), or null. No cache then. */
  late: LateLoad | null;
  /** Where the staged rows meet the feed's table (placement.ts): `norm`, or its co-located copy on a cluster. */
  staging: Staging;
}

/**
 * Quarantine: one row per rejected value, with the raw value it came from. Written by the publishing transaction,
 * and for a held snapshot too, so the operator deciding on --confirm-shrink can see what was rejected.
 */
export async function recordQuarantine(trx: Db, p: StagedRun): Promise<void> {
  const { feed, norm, raw, runId, source } = p;
  const rawOf = Object.entries(p.columns).map(
    ([field, col]) => sql`WHEN ${sql.lit(field)} THEN ${sql.ref(`r.c${col + 1}`)}`,
  );
  const record = sql`jsonb_build_object(${sql.join(
    Object.entries(p.columns).map(([field, col]) => sql`${sql.lit(field)}, ${sql.ref(`r.c${col + 1}`)}`),
  )})`;
  await sql`INSERT INTO quarantine (run_id, feed, source, sheet, row_number, field, raw_value, problem, record)
    SELECT ${runId}, ${feed.id}, ${source}, n.sheet, n.row_number, split_part(pr, ':', 1),
           CASE split_part(pr, ':', 1) ${sql.join(rawOf, sql` `)} END, split_part(pr, ':', 2), ${record}
    FROM ${sql.id(norm)} n
    JOIN ${sql.id(raw)} r ON r.rec_no = n.rec_no
    CROSS JOIN LATERAL unnest(n.problems) AS pr
    WHERE n.skip IS NULL AND NOT n.ok`.execute(trx);
}

/**
 * The publish's one time, read once: the versions it closes end when the ones it writes begin. Handed to its
 * statements as a parameter rather than each calling statement_timestamp(): Citus refuses a non-IMMUTABLE function
 * inside CASE or COALESCE of a statement on a distributed table (the UPDATE of current versions below, a late
 * load's cut). As ISO 8601 text in UTC with microseconds: read back the same whatever the session's DateStyle.
 */
async function publishTime(trx: Db): Promise<RawBuilder<unknown>> {
  const { rows } = await sql<{ now: string }>`
    SELECT to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`.execute(
    trx,
  );
  return sql`${rows[0]!.now}::timestamptz`;
}

/**
 * A text key sorted by its bytes (COLLATE "C") where the order only places rows, never decides anything: the
 * server's collation compares through strcoll, twice as slow even under C.UTF-8 (measured on PostgreSQL 15: an
 * index of 500k ID numbers built in 774 ms, 394 ms in "C"). For the ID numbers and codes keys are, the orders
 * agree; where they do not (a key of Chinese text under a zh_CN collation) rows are only placed otherwise.
 */
function byteOrder(feed: FeedDefinition, ref: RawBuilder<unknown>, field: string): RawBuilder<unknown> {
  const spec = feed.fields[field];
  return spec && columnTypeOf(spec.type) === 'text' ? sql`${ref} COLLATE "C"` : ref;
}

/** Writes quarantine, conflicts and the new versions. Must run inside the run's publishing transaction. */
export async function publish(trx: Db, p: PublishParams, plan: LoadPlan): Promise<void> {
  const { feed, norm, runId, source, staging } = p;
  const staged = sql.id(staging.table);
  const match = (a: string, b: string) => keyMatch(feed, a, b, staging);
  const fields = fieldNames(feed);

  // Rows that could not be linked to one person go to identity review (besides quarantine, below).
  await recordReview(trx, p);

  await recordQuarantine(trx, p);

  // Conflicting duplicates stay visible to the operator, with the row that won.
  if (plan.conflictingDuplicates > 0) {
    const keyText = sql.join(
      feed.key.map((k) => sql`${sql.ref(`l.${k}`)}::text`),
      sql` || '|' || `,
    );
    // One person's ID named differently by two rows of the file: both names are kept for R13.
    const ident = feed.identity ?? ('name' in feed.fields ? { id: 'id_number', name: 'name' } : null);
    const named = ident
      ? sql`CASE WHEN ${sql.ref(`l.${ident.id}`)} = ${sql.ref(`w.${ident.id}`)} AND ${sql.ref(`l.${ident.name}`)} <> ${sql.ref(`w.${ident.name}`)}
               THEN ${sql.ref(`l.${ident.id}`)} END`
      : sql`NULL::text`;
    const nameOf = (row: string) =>
      ident
        ? sql`CASE WHEN ${named} IS NOT NULL THEN ${sql.ref(`${row}.${ident.name}`)} END`
        : sql`NULL::text`;
    await sql`INSERT INTO load_conflicts (run_id, feed, business_key, source, row_number, winner_row, person_id, name, winner_name)
      SELECT ${runId}, ${feed.id}, ${keyText}, ${source}, l.row_number, w.row_number, ${named}, ${nameOf('l')}, ${nameOf('w')}
      FROM ${sql.id(norm)} l
      JOIN ${sql.id(norm)} w ON w.ok AND w.rn = 1 AND ${keyMatch(feed, 'w', 'l')}
      WHERE l.ok AND l.hrn = 1 AND l.rn > 1`.execute(trx);
  }

  // One pass over the current versions the load speaks for: a changed row's version is closed (the new one is
  // inserted below with the new rows); an unchanged row whose raw form differs (re-formatted, or normalized under
  // other settings) only takes the new raw hash, so that next time it is recognised without normalizing.
  const now = await publishTime(trx);
  const changed = sql`f.row_hash <> w.row_hash`;
  const date = sql`${p.dataDate}::date`;
  /** The statement, and with a valid cache its step, from the versions it wrote. */
  const stepped = (write: RawBuilder<unknown>, removes: boolean) =>
    p.cache
      ? sql`WITH written AS (${write} RETURNING ${stepColumns(feed, 'f')}) ${cacheStep(feed, 'written', removes)}`
      : write;
  if (p.late) {
    await createWindowEnds(trx, feed, staging, p.late);
    const all = feedColumns(feed)
      .map((c) => c.name)
      .filter((c) => c !== 'version_id');
    await cutVersions(feed, p, p.late, all, now).execute(trx);
  } else {
    await stepped(
      sql`UPDATE ${sql.id(feed.id)} f
      SET valid_to = CASE WHEN ${changed} THEN ${now} END,
          data_to = CASE WHEN ${changed} THEN ${date} END,
          ended_run_id = CASE WHEN ${changed} THEN ${runId}::bigint END,
          raw_hash = CASE WHEN ${changed} THEN f.raw_hash ELSE w.raw_hash END
      FROM ${staged} w
      WHERE w.ok AND w.rn = 1 AND f.valid_to IS NULL AND ${match('f', 'w')}
        AND (${changed} OR f.raw_hash IS DISTINCT FROM w.raw_hash)`,
      true,
    ).execute(trx);
    // A feed keyed without its person, on a cluster: the versions whose key a winner carries under another person,
    // closed as the UPDATE above closes a changed one (one server's UPDATE meets them by key alone).
    const moving = movedVersions(feed, staging);
    if (moving && plan.moved !== 0) {
      await stepped(
        sql`UPDATE ${sql.id(feed.id)} f SET valid_to = ${now}, data_to = ${date}, ended_run_id = ${runId}::bigint
        WHERE f.valid_to IS NULL AND ${moving}`,
        true,
      ).execute(trx);
    }
    if (feed.mode === 'snapshot' && plan.ended > 0) {
      await stepped(
        sql`UPDATE ${sql.id(feed.id)} f SET valid_to = ${now}, data_to = ${date}, ended_run_id = ${runId}
        WHERE f.valid_to IS NULL AND ${plan.scopes ? scopeIn(feed, plan.scopes) : inScope(feed, norm, p.recognition)}
          AND ${p.recognition.endable('f')}
          AND NOT EXISTS (SELECT 1 FROM ${staged} w WHERE ${keepsAlive('w')} AND ${match('w', 'f')})`,
        true,
      ).execute(trx);
    }
  }
  // New versions (new keys and changed rows), and a stable surrogate key for every person and household first
  // seen in them — in the same statement, from the rows it returns, so the cost follows the rows written.
  const linkCol = feed.identity ? [sql`id_link`] : [];
  const cols = [...fields.map((f) => sql.id(f)), ...linkCol];
  const vals = [...fields.map((f) => sql.ref(`w.${f}`)), ...linkCol.map(() => sql`w.id_link`)];
  const person = feed.surrogate?.person ?? feed.identity?.id;
  const household = feed.surrogate?.household;
  const returned = [person, household].filter((f): f is string => f !== undefined);
  const rows = p.late
    ? sql`INSERT INTO ${sql.id(feed.id)} AS f (${sql.join(cols)}, row_hash, raw_hash, valid_from, valid_to, run_id, source, sheet, row_number, data_from, data_to)
      ${lateRows(feed, p, p.late, vals, now)}`
    : sql`INSERT INTO ${sql.id(feed.id)} AS f (${sql.join(cols)}, row_hash, raw_hash, valid_from, run_id, source, sheet, row_number, data_from)
      SELECT ${sql.join(vals)}, w.row_hash, w.raw_hash, ${now}, ${runId}, ${source}, w.sheet, w.row_number, ${date}
      FROM ${staged} w
      WHERE w.ok AND w.rn = 1
        AND NOT EXISTS (SELECT 1 FROM ${sql.id(feed.id)} f WHERE f.valid_to IS NULL AND ${match('f', 'w')})`;
  // A first load into a table with no version: its secondary indexes are built after its rows (deferred-indexes.ts).
  const rebuild = !p.late && plan.currentBefore === 0 ? await deferIndexes(trx, feed.id, plan.new) : null;
  // In key order: the current-key index then grows at its right edge instead of at random pages (measured: 500k
  // rows in random order into a roster-shaped table with its three indexes, 5.5 s; in key order, 3.5 s). Not when
  // the indexes are built after: the sort of every whole row spilled to disk (2M roster rows: 394 MB at 256 MB
  // work_mem) to spare index builds that sort their narrow keys in memory anyway (500k IDs: 0.77 s in random
  // order, 0.69 s presorted, PostgreSQL 15).
  const insert = rebuild
    ? rows
    : sql`${rows} ORDER BY ${sql.join(feed.key.map((k) => byteOrder(feed, sql.ref(`w.${k}`), k)))}`;
  if (!returned.length) {
    await stepped(insert, false).execute(trx);
    await rebuild?.();
    return;
  }
  // Keys are registered by a plain insert of the ones not there yet, under a lock that makes concurrent loads of
  // other feeds take turns here (they may meet the same new person); measured on 500k new persons: 10.7 s with
  // ON CONFLICT DO NOTHING (a speculative insertion per row), 4.5 s so. Readers are not blocked.
  await sql`LOCK TABLE persons, households IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
  // DISTINCT in a subquery, not over the INSERT's own target list: Citus runs an INSERT … SELECT into a coordinator
  // table reading another statement's RETURNING (an intermediate result) by evaluating the target's defaults in the
  // SELECT — the surrogate key's nextval() joined the DISTINCT, which then kept every returned row, and a household of
  // several members was registered once per member ("duplicate key value violates unique constraint
  // households_household_id_key"). The same plan on one server (the subquery is pulled up).
  const register = (table: 'persons' | 'households', column: string, field: string) =>
    sql`INSERT INTO ${sql.id(table)} (${sql.id(column)}, first_run_id)
      SELECT d.v, ${runId}::bigint FROM (
        SELECT DISTINCT ${byteOrder(feed, sql.ref(`i.${field}`), field)} AS v FROM ins i
        WHERE i.${sql.id(field)} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ${sql.id(table)} t WHERE t.${sql.id(column)} = i.${sql.id(field)})
      ) d
      ORDER BY d.v`;
  const households = household ? sql`, hh AS (${register('households', 'household_id', household)})` : sql``;
  const step = p.cache ? sql`, step AS (${cacheStep(feed, 'ins', false)})` : sql``;
  const back = [...returned.map((f) => sql.ref(`f.${f}`)), ...(p.cache ? [stepColumns(feed, 'f')] : [])];
  // One sort for both DISTINCT and the key order, chosen here: the planner, which cannot know how many distinct
  // keys the RETURNING rows hold, guessed 200 and hashed every key first (262 MB for 2M ID numbers), then sorted
  // them. A first load of 2M roster rows (2M persons, 500k households): this statement took 24.5 s, 19.4 s with
  // one sort (PostgreSQL 15). Only for this statement.
  await sql`SET LOCAL enable_hashagg = off`.execute(trx);
  await sql`WITH ins AS (${insert} RETURNING ${sql.join(back)}) ${households} ${step}
    ${person ? register('persons', 'id_number', person) : sql`SELECT 1`}`.execute(trx);
  await sql`SET LOCAL enable_hashagg TO DEFAULT`.execute(trx);
  await rebuild?.();
}
