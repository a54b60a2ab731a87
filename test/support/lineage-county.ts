/**
 * A county of two persons whose R02 finding (C uninsured) has every event a match writes — found on 2026-11-24,
 * closed by the data on 2026-12-01 (C insured), reopened on 2026-12-02 (C gone from the insurance file) — each
 * from files and rows known exactly, for the tests that read a finding's lineage over HTTP. Each file is loaded
 * with `today` (and so its data date) no later than the match that reads it: a match as of D reads only data
 * dated on or before D.
 */
import { join } from 'node:path';
import type { Logger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import type { Config } from '../../schemas/config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { personId } from './demo.ts';
import { writeCsv } from './files.ts';

const HEADERS = {
  roster: ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
  insurance: ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
} as const;

export const A = { name: '依据甲', id: personId(1) };
export const C = { name: '依据丙', id: personId(3) };

export interface LineageCounty {
  /** C's R02 finding. */
  findingId: number;
  runs: { roster1: number; insurance1: number; insurance2: number; insurance3: number };
}

export async function loadLineageCounty(
  wh: Warehouse,
  o: { dir: string; config: Config; log: Logger },
): Promise<LineageCounty> {
  const load = async (feed: keyof typeof HEADERS, file: string, today: string, rows: string[][]) => {
    const path = writeCsv(join(o.dir, file), [[...HEADERS[feed]], ...rows]);
    const s = await importFeed({
      wh,
      feed: resolveFeed(feed),
      // Week 3's insurance file drops one of two records: more than a snapshot may end unconfirmed.
      feedConfig: { header_aliases: {}, max_shrink: 1 },
      path,
      log: o.log,
      today,
      dataDate: { date: today, from: 'flag' },
      timeZone: 'Asia/Shanghai',
    });
    if (s.status !== 'succeeded') throw new Error(`${file}: ${s.status}`);
    return Number(s.runId);
  };
  const match = (asOf: string) => runMatch({ wh, config: o.config, log: o.log, asOf, rules: ['R02'] });
  const insured = (p: { name: string; id: string }) => [p.name, p.id, '城乡居民', '2026', '正常参保'];

  const roster1 = await load('roster', '名册-1124.csv', '2026-11-24', [
    ['H1', A.name, A.id, '户主', '监测户'],
    ['H3', C.name, C.id, '户主', '监测户'],
  ]);
  const insurance1 = await load('insurance', '参保-1124.csv', '2026-11-24', [insured(A)]);
  await match('2026-11-24');
  const insurance2 = await load('insurance', '参保-1201.csv', '2026-12-01', [insured(A), insured(C)]);
  await match('2026-12-01');
  const insurance3 = await load('insurance', '参保-1202.csv', '2026-12-02', [insured(A)]);
  await match('2026-12-02');
  const f = await wh.db
    .selectFrom('findings')
    .select('id')
    .where('rule_id', '=', 'R02')
    .where('id_number', '=', C.id)
    .executeTakeFirstOrThrow();
  return { findingId: Number(f.id), runs: { roster1, insurance1, insurance2, insurance3 } };
}
