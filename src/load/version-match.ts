/**
 * How a staged row (the normalized staging table) meets the versions of its feed's table: by business key, and
 * which staged rows keep a version alive in a snapshot. Shared by the plan and both ways of publishing (in order,
 * and a late load's, publish-late.ts).
 */
import { type RawBuilder, sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Staging } from './placement.ts';
import type { Recognition } from './recognition.ts';

/**
 * The rows aliased `a` and `b` have the same business key. With `staging` on a cluster for a feed whose key lacks
 * its person column (settlements, keyed by settlement_id: Staging.personOutsideKey), also the same person: Citus runs
 * a join of two distributed tables shard against shard only on their distribution column. A settlement re-sent
 * under another ID meets its version by key alone through movedVersions; every other feed's key holds its person.
 */
export const keyMatch = (
  feed: FeedDefinition,
  a: string,
  b: string,
  staging?: Pick<Staging, 'personOutsideKey'>,
): RawBuilder<unknown> =>
  sql.join(
    matchColumns(feed, staging).map((k) => sql`${sql.ref(`${a}.${k}`)} = ${sql.ref(`${b}.${k}`)}`),
    sql` AND `,
  );

/** The columns keyMatch compares: the business key, and on a cluster the person column if the key lacks it. */
export function matchColumns(feed: FeedDefinition, staging?: Pick<Staging, 'personOutsideKey'>): string[] {
  const person = staging?.personOutsideKey;
  return person ? [...feed.key, person] : [...feed.key];
}

/**
 * On a cluster, for a feed whose key lacks its person column: the versions (aliased `f`) whose key a staged winner
 * carries under another person — a settlement re-sent under a corrected ID. One server matches by key alone and
 * closes such a version as changed; keyMatch on a cluster does not meet it (the winner is on its new person's
 * shard), so the plan counts these and the publish closes them apart. The staged winners' keys come from normalized
 * staging on the coordinator, which holds every staged row: Citus runs that IN as a subplan whose result (the keys,
 * not the feed) is broadcast to the workers, and the NOT EXISTS — no winner of the same key under the same person,
 * whose version the ordinary match handles — runs shard against shard on the co-located copy. Null when the
 * staging needs none (one server, or a key holding its person). The caller says which versions (current).
 */
export function movedVersions(feed: FeedDefinition, staging: Staging): RawBuilder<unknown> | null {
  if (!staging.personOutsideKey) return null;
  const keys = (alias: string) => sql.join(feed.key.map((k) => sql.ref(`${alias}.${k}`)));
  return sql`(${keys('f')}) IN (SELECT ${keys('n')} FROM ${sql.id(staging.norm)} n WHERE n.ok AND n.rn = 1)
    AND NOT EXISTS (SELECT 1 FROM ${sql.id(staging.table)} w
      WHERE w.ok AND w.rn = 1 AND ${keyMatch(feed, 'w', 'f', staging)})`;
}

/**
 * The staged rows that keep a current record alive in a snapshot: the winners, and rows rejected for a bad
 * value whose key still reads (a row quarantined for 识别时间 '待定' is in the file: its person did not leave the
 * roster, and ending the record would close their findings for lack of evidence). A row whose key itself is
 * unreadable cannot be matched to a record and keeps none alive.
 */
export const keepsAlive = (w: string): RawBuilder<unknown> =>
  sql`(${sql.ref(`${w}.skip`)} IS NULL AND (${sql.ref(`${w}.ok`)} AND ${sql.ref(`${w}.rn`)} = 1 OR NOT ${sql.ref(`${w}.ok`)}))`;

/**
 * The business keys the load keeps alive, one row each (`rec_no` is 1: NULL after a LEFT JOIN means ended), from
 * `table` (normalized staging, or its co-located copy on a cluster: every snapshot feed's key holds its person).
 */
export const aliveKeys = (feed: FeedDefinition, table: string): RawBuilder<unknown> =>
  sql`(SELECT DISTINCT ${sql.join(feed.key.map((k) => sql.ref(`w.${k}`)))}, 1 AS rec_no
       FROM ${sql.id(table)} w WHERE ${keepsAlive('w')})`;

/** Current rows of the feed that this load speaks for: all of them, or the scope partitions it carries. */
export function inScope(feed: FeedDefinition, norm: string, recognition: Recognition): RawBuilder<unknown> {
  if (!feed.scope?.length) return sql`TRUE`;
  const cols = feed.scope.map((c) => sql.ref(`f.${c}`));
  const staged = feed.scope.map((c) => sql.ref(c));
  // Partitions of the records recognised before staging count as carried by the file too.
  const recognizedScopes = recognition.unionCarried(feed.id, feed.scope);
  return sql`(${sql.join(cols)}) IN (SELECT ${sql.join(staged)} FROM ${sql.id(norm)} WHERE ok AND rn = 1 ${recognizedScopes})`;
}
