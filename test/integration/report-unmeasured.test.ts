/**
 * An indicator whose rule cannot run is not measured: with the housing feed never loaded (match skips R08,
 * "required feeds never loaded: housing"), 住房安全保障 was 达标 at 100 % — no findings for want of data read as
 * every household housed safely. Now it is 无数据 with no figures and a note naming the feed, in the workbook,
 * the Markdown and the Word 月通报 alike; the indicators with their data are measured as before. A feed loaded
 * only with a data date after the cut-off is no data at the cut-off either.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openZip } from '../../connectors/xlsx/zip.ts';
import { silentLogger } from '../../core/log.ts';
import { FEED_IDS } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { loadExcel } from '../../src/delivery/excel.ts';
import { generateDemoCounty } from '../../src/demo/generate.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import { computeIndicators, INDICATOR_IDS, measureIndicators } from '../../src/reporting/indicators.ts';
import { writeMonthlyReport } from '../../src/reporting/run-report.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-unmeasured-');
const NOTE =
  '住房安全保障：无数据，未计算——规则 R08 所需的数据截至 2026-11-24 未导入：农村住房安全鉴定名册（住建局，housing）。导入后重新生成本报告。';
let wh: Warehouse;
let housingFile: string;

/** A load on `day`, the data dated that day whatever the file states (import --data-date). */
const load = (feed: (typeof FEED_IDS)[number], path: string, day: string) =>
  importFeed({
    wh,
    feed: resolveFeed(feed),
    path,
    log,
    today: day,
    loadDay: day,
    dataDate: { date: day, from: 'flag' },
    timeZone: 'Asia/Shanghai',
  });

beforeAll(async () => {
  wh = await testWarehouse('unmeasured');
  const county = await generateDemoCounty({ dir, persons: 300, seed: 5, asOf: AS_OF });
  for (const id of FEED_IDS) {
    const path = county.files[id];
    if (id === 'housing') housingFile = path!;
    else if (path) await load(id, path, AS_OF);
  }
  const outcomes = await runMatch({ wh, config, log, asOf: AS_OF });
  // the state the tester saw: R08 skipped for want of housing
  expect(outcomes.find((o) => o.rule === 'R08')).toMatchObject({
    status: 'skipped',
    reason: 'required feeds never loaded: housing',
  });
}, 240_000);
afterAll(async () => wh?.close());

async function zipText(path: string, part: string): Promise<string> {
  const zip = await openZip(path);
  try {
    const chunks: Buffer[] = [];
    for await (const c of zip.chunks(part)) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    zip.close();
  }
}

describe('an indicator whose rule cannot run for want of a feed', () => {
  it('is not measured: no rows, and the feed it lacks named; the others measured', async () => {
    const m = await measureIndicators(wh.db, { asOf: AS_OF, config });
    expect(m.unmeasured).toEqual([{ indicator: 'housing_safety', rule: 'R08', missing: ['housing'] }]);
    expect(m.rows.some((r) => r.indicator === 'housing_safety')).toBe(false);
    const counties = m.rows.filter((r) => r.level === 'county');
    expect(counties.map((r) => r.indicator)).toEqual(INDICATOR_IDS.filter((i) => i !== 'housing_safety'));
    for (const r of counties) expect(r.denominator, r.indicator).toBeGreaterThan(0);
    expect(await computeIndicators(wh.db, { asOf: AS_OF, config })).toEqual(m.rows);
  });

  it('is named by the API and the console, not left out nor shown as met', async () => {
    const app = await buildServer({ wh, config, log, today: () => AS_OF });
    try {
      const { token } = await createToken(wh, { role: 'bureau', label: '局办公室' });
      const api = await app.inject({
        method: 'GET',
        url: '/api/indicators',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(api.json().unmeasured).toEqual([
        { indicator: 'housing_safety', rule: 'R08', missing: ['housing'] },
      ]);
      expect(api.json().items.some((i: { indicator: string }) => i.indicator === 'housing_safety')).toBe(
        false,
      );
      const login = await app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${encodeURIComponent(token)}`,
      });
      const cookie = [login.headers['set-cookie'] ?? []]
        .flat()
        .map((c) => c.split(';')[0]!)
        .find((c) => c.startsWith('rh_session='));
      const page = await app.inject({ method: 'GET', url: '/console', headers: { cookie: cookie ?? '' } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(
        '<p class="unmeasured">住房安全保障：无数据——规则 R08 所需的数据尚未导入：农村住房安全鉴定名册。</p>',
      );
    } finally {
      await app.close();
    }
  });

  describe('in the monthly report', () => {
    let report: Awaited<ReturnType<typeof writeMonthlyReport>>;
    beforeAll(async () => {
      const out = join(dir, 'reports');
      mkdirSync(out, { recursive: true });
      report = await writeMonthlyReport({
        wh,
        config,
        month: '2026-11',
        outDir: out,
        bureauCopy: true,
        actor: 'test',
        now: new Date('2026-11-24T02:05:00Z'),
      });
    }, 120_000);

    it('Markdown: 无数据, no figures, rate 未计算, and the note under the table', () => {
      expect(report.markdown).toContain(
        '| 住房安全保障 | 全县 | 示范县 | — | — | 未计算 | 100.0% | 无数据 |',
      );
      expect(report.markdown).not.toMatch(/\| 住房安全保障 \|[^\n]*达标/);
      expect(report.markdown).toContain(`说明：${NOTE}`);
      // a measured indicator as before
      expect(report.markdown).toMatch(
        /\| 饮水安全保障 \| 全县 \| 示范县 \| \d+ \| \d+ \| \d+\.\d% \| 100\.0% \| (达标|风险|未达标) \|/,
      );
    });

    it('workbook: the row in its place with no number and no percent format, the note below the table', async () => {
      const Excel = await loadExcel();
      const wb = new Excel.Workbook();
      await wb.xlsx.readFile(report.path);
      const ws = wb.getWorksheet('监测指标')!;
      const values: unknown[][] = [];
      ws.eachRow({ includeEmpty: true }, (row) => {
        values.push((row.values as unknown[]).slice(1));
      });
      const housing = values.filter((v) => v[0] === '住房安全保障');
      expect(housing).toEqual([['住房安全保障', '全县', '示范县', '—', '—', '未计算', 1, '无数据']]);
      const at = values.findIndex((v) => v[0] === '住房安全保障');
      // the education and insurance rows (county, then townships) come first, in the labels' order
      expect(values[at - 1]![0]).toBe('基本医疗保险参保');
      expect(values.slice(-3)).toEqual([[], ['说明：'], [NOTE]]);
    });

    it('Word 月通报: the same row in the indicators table and the note after it', async () => {
      const xml = await zipText(report.docxPath, 'word/document.xml');
      const texts = [...xml.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join('|');
      expect(texts).toContain('住房安全保障|全县|示范县|—|—|未计算|100.0%|无数据');
      expect(texts).toContain(`说明：${NOTE}`);
    });
  });

  it('a feed loaded only with a data date after the cut-off is no data at the cut-off; measured from that date', async () => {
    const s = await load('housing', housingFile, '2026-11-28');
    expect(s.status).toBe('succeeded');
    const before = await measureIndicators(wh.db, { asOf: AS_OF, config });
    expect(before.unmeasured.map((u) => u.indicator)).toEqual(['housing_safety']);
    const after = await measureIndicators(wh.db, { asOf: '2026-11-28', config });
    expect(after.unmeasured).toEqual([]);
    const county = after.rows.find((r) => r.indicator === 'housing_safety' && r.level === 'county')!;
    expect(county.denominator).toBeGreaterThan(0);
  });
});
