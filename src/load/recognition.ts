/**
 * What the statements after staging need of the records the bulk path recognised before staging
 * (src/load/recognize.ts): those records are not in normalized staging, so a statement that ends versions, finds
 * the partitions a snapshot speaks for or counts the plan must take them from here. Made once per load
 * (plan-run.ts), after pull-in has settled how many of them went back into staging; with nothing recognised
 * (the record path, a first or a late load) every fragment is the one that leaves its statement as it was.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Recognized } from './recognize.ts';

export interface Recognition {
  /** Records recognised before staging and counted as unchanged winners: those pulled back in are counted there. */
  readonly before: number;
  /** Records that were exact duplicates of a recognised one: read, and exact duplicates. */
  readonly again: number;
  /** The version aliased `alias` (of the feed table) was carried unchanged by the file. FALSE with nothing recognised. */
  carried(alias: string): RawBuilder<unknown>;
  /** The version aliased `alias` may end: the file did not carry it unchanged. TRUE with nothing recognised. */
  endable(alias: string): RawBuilder<unknown>;
  /**
   * For one pass over the versions aliased `alias`: a join of the unseen ids and `carried` read from it (empty and
   * FALSE with nothing recognised).
   */
  carriedInPass(alias: string): { join: RawBuilder<unknown>; carried: RawBuilder<unknown> };
  /**
   * A UNION ALL arm adding the `columns` of the versions of `table` carried unchanged (aliased g) to a list of
   * the staged rows' values; empty with nothing recognised.
   */
  unionCarried(table: string, columns: readonly string[]): RawBuilder<unknown>;
  /** Only with something recognised: the few versions that can end, and how many versions are current. */
  readonly unseen: UnseenVersions | null;
}

export interface UnseenVersions {
  /** The current versions of `table` (aliased f) the file did not carry unchanged, found by their ids: a FROM item. */
  current(table: string): RawBuilder<unknown>;
  /** Current versions before this load: counted as they were read. */
  readonly total: number;
}

/** Nothing recognised before staging: every version is compared through staging. */
export const nothingRecognised: Recognition = {
  before: 0,
  again: 0,
  carried: () => sql`FALSE`,
  endable: () => sql`TRUE`,
  carriedInPass: () => ({ join: sql``, carried: sql`FALSE` }),
  unionCarried: () => sql``,
  unseen: null,
};

/** The records `recognized` left out of staging. `before` is read from its `pulledIn` now: made after pull-in to count. */
export function recognisedBeforeStaging(recognized: Recognized): Recognition {
  const unseen = sql.id(recognized.unseen);
  // Every current version not in the unseen list.
  const carried = (alias: string) =>
    sql`(${sql.ref(`${alias}.valid_to`)} IS NULL AND ${sql.ref(`${alias}.version_id`)} NOT IN (SELECT u.version_id FROM ${unseen} u))`;
  return {
    before: recognized.counts.recognized - recognized.pulledIn,
    again: recognized.counts.again,
    carried,
    endable: (alias) => sql`${sql.ref(`${alias}.version_id`)} IN (SELECT u.version_id FROM ${unseen} u)`,
    // The unseen ids (unique) by a hash join: a version not among them that is current was carried unchanged.
    carriedInPass: (alias) => ({
      join: sql`LEFT JOIN ${unseen} u ON u.version_id = ${sql.ref(`${alias}.version_id`)}`,
      carried: sql`(${sql.ref(`${alias}.valid_to`)} IS NULL AND u.version_id IS NULL)`,
    }),
    unionCarried: (table, columns) =>
      sql`UNION ALL SELECT ${sql.join(columns.map((c) => sql.ref(`g.${c}`)))} FROM ${sql.id(table)} g
          WHERE ${carried('g')}`,
    unseen: {
      current: (table) =>
        sql`${unseen} u
            JOIN ${sql.id(table)} f ON f.version_id = u.version_id AND f.valid_to IS NULL`,
      total: recognized.current.total,
    },
  };
}

export const recognitionOf = (recognized: Recognized | null): Recognition =>
  recognized ? recognisedBeforeStaging(recognized) : nothingRecognised;
