/**
 * Shared fixtures: the demo county loaded into a test warehouse and matched, and valid ID numbers made up
 * for a test (a prefix of birth date and sequence, the check character computed).
 */

import type { Logger } from '../../core/log.ts';
import { FEED_IDS } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import type { Config } from '../../schemas/config.ts';
import { generateDemoCounty } from '../../src/demo/generate.ts';
import { type ImportSummary, importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import { idCheckChar } from '../../src/normalize/id-number.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';

/** Generates the demo county in `dir`, imports all twelve feeds, runs every rule; returns the imports. */
export async function loadDemoCounty(
  wh: Warehouse,
  p: { dir: string; persons: number; seed: number; asOf: string; config: Readonly<Config>; log: Logger },
): Promise<ImportSummary[]> {
  const county = await generateDemoCounty({ dir: p.dir, persons: p.persons, seed: p.seed, asOf: p.asOf });
  const imports: ImportSummary[] = [];
  // A feed the demo writes no file for (a contributor's new feed, before its demo department) is not loaded.
  for (const id of FEED_IDS) {
    const path = county.files[id];
    if (!path) continue;
    imports.push(
      await importFeed({
        wh,
        feed: resolveFeed(id),
        path,
        log: p.log,
        today: p.asOf,
        timeZone: 'Asia/Shanghai',
      }),
    );
  }
  await runMatch({ wh, config: p.config, log: p.log, asOf: p.asOf });
  return imports;
}

/** A valid 18-character ID number: `prefix` (14 digits: region + birth date) + 3-digit sequence `n`. */
export function testId(n: number, prefix = '52010219800101'): string {
  const first17 = `${prefix}${String(n).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
}

/** A valid ID number for the `n`-th of a few test people (n < 22), each born on a January 1980 day of their own. */
export const personId = (n: number): string => testId(n, `520102198001${10 + n}`);
