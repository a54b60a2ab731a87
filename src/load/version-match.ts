/**
 * How a staged row (the normalized staging table) meets the versions of its feed's table: by business key, and
 * which staged rows keep a version alive in a snapshot. Shared by the plan and both ways of publishing (in order,
 * and a late load's, publish-late.ts).
 */
import { type RawBuilder, sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { feedPlacement } from '../warehouse/distribution.ts';
import type { Staging } from './placement.ts';
import { carried, type Recognized } from './recognize.ts';

/**
 * The rows aliased `a` and `b` have the same business key. With `staging` distributed (a cluster), also the same
 * person, when the key lacks the person column (settlements, keyed by settlement_id): Citus runs a join of two
 * distributed tables shard against shard only on their distribution column. A settlement sent again under another
 * ID is then a new record there, not a changed one (docs/scaling.md); every other feed's key holds its person.
 */
export const keyMatch = (
  feed: FeedDefinition,
  a: string,
  b: string,
  staging?: Pick<Staging, 'distributed'>,
): RawBuilder<unknown> =>
  sql.join(
    matchColumns(feed, staging).map((k) => sql`${sql.ref(`${a}.${k}`)} = ${sql.ref(`${b}.${k}`)}`),
    sql` AND `,
  );

/** The columns keyMatch compares: the business key, and on a cluster the person column if the key lacks it. */
export function matchColumns(feed: FeedDefinition, staging?: Pick<Staging, 'distributed'>): string[] {
  const person = staging?.distributed ? feedPlacement(feed) : null;
  return person?.kind === 'distributed' && !feed.key.includes(person.column)
    ? [...feed.key, person.column]
    : [...feed.key];
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
export function inScope(
  feed: FeedDefinition,
  norm: string,
  recognized: Recognized | null,
): RawBuilder<unknown> {
  if (!feed.scope?.length) return sql`TRUE`;
  const cols = feed.scope.map((c) => sql.ref(`f.${c}`));
  const staged = feed.scope.map((c) => sql.ref(c));
  // Partitions of the records recognised before staging count as carried by the file too.
  const recognizedScopes = recognized
    ? sql`UNION ALL SELECT ${sql.join(feed.scope.map((c) => sql.ref(`g.${c}`)))} FROM ${sql.id(feed.id)} g
          WHERE ${carried('g', recognized)}`
    : sql``;
  return sql`(${sql.join(cols)}) IN (SELECT ${sql.join(staged)} FROM ${sql.id(norm)} WHERE ok AND rn = 1 ${recognizedScopes})`;
}
