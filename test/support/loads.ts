/**
 * Loads as tests run and check them: a feed imported from its configured source (a database, an API) rather
 * than a file; a load that succeeded and the ledger equation of its counts; and the current versions recognition
 * read, held to the feed table they were read from.
 */

import { join } from 'node:path';
import { expect } from 'vitest';
import type { Logger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import type { FeedConfig } from '../../schemas/config.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { configuredSource, type ImportSummary, importFeed } from '../../src/load/import-feed.ts';
import type { CurrentVersions } from '../../src/load/recognize.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import type { RunCounts } from '../../src/warehouse/ledger.ts';
import { writeCsv } from './files.ts';

/** One import run of `feed` from the source `feedConfig` configures, on 2026-11-24 in the county's zone. */
export function importFromSource(
  wh: Warehouse,
  feed: FeedDefinition,
  feedConfig: Partial<FeedConfig>,
  log: Logger,
) {
  return importFeed({
    wh,
    feed,
    feedConfig,
    source: configuredSource(feed, feedConfig),
    log,
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
  });
}

/** The ledger equation: every row read was loaded, quarantined, or counted as a duplicate of another. */
export function expectBalancedLedger(
  c: Pick<
    RunCounts,
    'rows_read' | 'rows_loaded' | 'rows_quarantined' | 'exact_duplicates' | 'conflicting_duplicates'
  >,
): void {
  expect(c.rows_read).toBe(
    c.rows_loaded + c.rows_quarantined + c.exact_duplicates + c.conflicting_duplicates,
  );
}

/** The import succeeded, with `counts` among its counts where given, and its ledger balances. */
export function expectLoaded(s: ImportSummary, counts?: Partial<RunCounts>): void {
  expect(s.status).toBe('succeeded');
  if (counts) expect(s.counts).toMatchObject(counts);
  expectBalancedLedger(s.counts);
}

/**
 * The current versions recognition read (`got`) are exactly the roster's: as many, every stored hash in the set
 * under its version, the versions without one apart as unrecognizable. Returns the table's current versions
 * and the ids of those without a hash.
 */
export async function expectVersionsOfTable(wh: Warehouse, got: CurrentVersions | null) {
  const rows = await wh.db
    .selectFrom('roster')
    .select(['version_id', 'raw_hash'])
    .where('valid_to', 'is', null)
    .execute();
  const ids = (list: typeof rows) => list.map((r) => Number(r.version_id)).sort((a, b) => a - b);
  const hashed = rows.filter((r) => r.raw_hash?.length === 16);
  const unrecognizable = ids(rows.filter((r) => r.raw_hash?.length !== 16));
  expect(got?.total).toBe(rows.length);
  expect([...got!.set.unseen()].sort((a, b) => a - b)).toEqual(ids(hashed));
  expect([...got!.unrecognizable].sort((a, b) => a - b)).toEqual(unrecognizable);
  for (const r of hashed) expect(got!.set.see(r.raw_hash!, 1)).toBe('first');
  return { rows, unrecognizable };
}

/** The headers of the small weekly county files the finding tests load (a roster, an insurance register). */
const WEEKLY_HEADERS = {
  roster: ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
  insurance: ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
} as const;

/** Loads one week's roster or insurance file of a small county (written to `dir`) and expects it loaded. */
export async function loadWeek(
  p: { wh: Warehouse; dir: string; log: Logger },
  feed: keyof typeof WEEKLY_HEADERS,
  week: string,
  rows: string[][],
): Promise<void> {
  const path = writeCsv(join(p.dir, `${feed}-${week}.csv`), [[...WEEKLY_HEADERS[feed]], ...rows]);
  const s = await importFeed({
    wh: p.wh,
    feed: resolveFeed(feed),
    // Small files shrink by large shares from week to week: the shrink guard is off for them.
    feedConfig: { header_aliases: {}, max_shrink: 1 },
    path,
    log: p.log,
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
  });
  expect(s.status).toBe('succeeded');
}

/** Insurance rows enrolling each person for 2026 (城乡居民, 正常参保). */
export const insured = (...people: { name: string; id: string }[]) =>
  people.map((p) => [p.name, p.id, '城乡居民', '2026', '正常参保']);
