/**
 * Indicators (DOMAIN §8) and the monthly report (§7) on the demo county: each indicator's shortfall is its
 * rule's findings, townships add up to the county, status follows target and margin; the report's month
 * movements come from the history (so November's report stays the same after December's changes), village
 * counts below 5 are hidden in shared copies, and every report is audited.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openZip } from '../../connectors/xlsx/zip.ts';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { loadExcel } from '../../src/delivery/excel.ts';
import { computeIndicators, INDICATOR_LABELS, type IndicatorRow } from '../../src/reporting/indicators.ts';
import {
  defaultReportMonth,
  monthlyFindings,
  PLACE_NOT_ON_ROSTER,
  PLACE_UNIDENTIFIED,
} from '../../src/reporting/monthly-report.ts';
import { writeMonthlyReport } from '../../src/reporting/run-report.ts';
import { docxTitle } from '../../src/reporting/write-docx.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { CSV_ALL_SHEETS, convertWithSoffice, findSoffice } from '../support/libreoffice.ts';
import { auditTrail, openFindingCount, testWarehouse } from '../support/warehouse.ts';
import { readXlsxRaw } from '../support/xlsx-reader.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-report-');
let wh: Warehouse;

const RULE_OF = {
  education_retention: 'R01',
  medical_insurance: 'R02',
  housing_safety: 'R08',
  water_safety: 'R09',
  safety_net: 'R05',
} as const;

beforeAll(async () => {
  wh = await testWarehouse('report');
  await loadDemoCounty(wh, { dir, persons: 1500, seed: 11, asOf: AS_OF, config, log });
}, 240_000);
afterAll(async () => wh?.close());

describe('indicators', () => {
  let rows: IndicatorRow[];
  beforeAll(async () => {
    rows = await computeIndicators(wh.db, { asOf: AS_OF, config });
  });

  it("have as shortfall exactly their rule's findings, and townships add up to the county", async () => {
    for (const [indicator, rule] of Object.entries(RULE_OF)) {
      const mine = rows.filter((r) => r.indicator === indicator);
      const county = mine.find((r) => r.level === 'county')!;
      expect(county.denominator, indicator).toBeGreaterThan(0);
      expect(county.denominator - county.numerator, indicator).toBe(await openFindingCount(wh, rule));
      const towns = mine.filter((r) => r.level === 'township');
      expect(towns.length).toBeGreaterThan(1);
      expect(towns.reduce((n, t) => n + t.denominator, 0)).toBe(county.denominator);
      expect(towns.reduce((n, t) => n + t.numerator, 0)).toBe(county.numerator);
      const villages = mine.filter((r) => r.level === 'village');
      expect(villages.reduce((n, v) => n + v.numerator, 0)).toBe(county.numerator);
      expect(county.rate).toBeCloseTo(county.numerator / county.denominator, 10);
    }
  });

  it('are 达标 at the target, 风险 within the margin below it, 未达标 below that', async () => {
    const county = rows.find((r) => r.indicator === 'medical_insurance' && r.level === 'county')!;
    const rate = county.rate!;
    expect(rate).toBeLessThan(1);
    const at = (target: number, margin: number) =>
      parseConfig(
        `county: { name: 示范县, code: "520102" }\nindicators: { medical_insurance: ${target}, risk_margin: ${margin} }`,
        'inline',
      );
    const status = async (target: number, margin: number) =>
      (await computeIndicators(wh.db, { asOf: AS_OF, config: at(target, margin) })).find(
        (r) => r.indicator === 'medical_insurance' && r.level === 'county',
      )!.status;
    expect(await status(rate, 0.02)).toBe('达标');
    expect(await status(Math.min(1, rate + 0.01), 0.02)).toBe('风险');
    expect(await status(Math.min(1, rate + 0.05), 0.02)).toBe('未达标');
  });
});

describe('the monthly report', () => {
  it("counts the month's movements from the history and keeps a past month's report unchanged", async () => {
    const nov = await monthlyFindings(wh, '2026-11', '2026-12-03');
    const total = await wh.db
      .selectFrom('findings')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const sum = (k: 'new' | 'closed' | 'open_at_start' | 'open_at_end') =>
      nov.movements.reduce((n, m) => n + m[k], 0);
    expect(sum('new')).toBe(Number(total.n));
    expect(sum('open_at_start')).toBe(0);
    expect(sum('closed')).toBe(0);
    expect(sum('open_at_end')).toBe(Number(total.n));
    expect(nov.states.reduce((n, s) => n + s.n, 0)).toBe(Number(total.n));

    // December: the insurance file comes back empty of one uninsured person's problem → R02 item closed.
    const [r02] = await wh.db
      .selectFrom('findings')
      .select(['id', 'subject_key'])
      .where('rule_id', '=', 'R02')
      .where('state', '<>', 'closed')
      .orderBy('id')
      .execute();
    await wh.db
      .updateTable('findings')
      .set({ state: 'closed', close_reason: 'data', closed_on: '2026-12-02' })
      .where('id', '=', r02!.id)
      .execute();
    await wh.db
      .insertInto('finding_events')
      .values({
        finding_id: r02!.id,
        on_date: '2026-12-02',
        from_state: 'open',
        to_state: 'closed',
        reason: 'no longer found by the data',
      })
      .execute();
    const dec = await monthlyFindings(wh, '2026-12', '2026-12-03');
    const decR02 = dec.movements.find((m) => m.rule_id === 'R02')!;
    const novR02 = nov.movements.find((m) => m.rule_id === 'R02')!;
    expect(decR02).toMatchObject({
      open_at_start: novR02.open_at_end,
      new: 0,
      closed: 1,
      open_at_end: novR02.open_at_end - 1,
    });
    expect(decR02.closure_rate).toBeCloseTo(1 / novR02.open_at_end, 4);
    expect(await monthlyFindings(wh, '2026-11', '2026-12-03')).toEqual(nov);
  });

  it('writes the workbook and Markdown, hides village counts below 5 in shared copies, and audits', async () => {
    const own = await writeMonthlyReport({
      wh,
      config,
      month: '2026-11',
      outDir: join(dir, 'reports'),
      bureauCopy: true,
      actor: 'test',
      now: new Date('2026-12-01T17:30:00Z'),
    });
    const shared = await writeMonthlyReport({
      wh,
      config,
      month: '2026-11',
      outDir: join(dir, 'reports'),
      bureauCopy: false,
      actor: 'test',
    });
    expect(own.markdown).toMatch(/^# 示范县 月报 2026-11/);
    expect(own.markdown).toMatch(/## 监测指标/);
    expect(own.markdown).toMatch(/\| 基本医疗保险参保 \| 全县 \|/);
    const villageSheet = async (path: string) =>
      [...(await readXlsxRaw(path)).find((s) => s.name === '各村未销号')!.rows.values()]
        .slice(1)
        .map((r) => r[2]!.value);
    const ownCounts = await villageSheet(own.path);
    const sharedCounts = await villageSheet(shared.path);
    expect(ownCounts.length).toBe(sharedCounts.length);
    expect(ownCounts.some((v) => Number(v) < 5)).toBe(true);
    ownCounts.forEach((v, i) => {
      expect(sharedCounts[i]).toBe(Number(v) < 5 ? '<5' : v);
    });
    // 生成时间 in the county's time, the zone named.
    const cover = (await readXlsxRaw(own.path)).find((s) => s.name === '概览')!;
    const generated = [...cover.rows.values()].find((r) => r[0]!.value === '生成时间')!;
    expect(generated[1]!.value).toBe('2026-12-02 01:30 (Asia/Shanghai)');
    const audit = await auditTrail(wh, 'report.monthly', ['action', 'target']);
    expect(audit).toEqual([
      { action: 'report.monthly', target: own.path },
      { action: 'report.monthly', target: shared.path },
    ]);
  });
});

/** Open findings per rule at `day` whose deadline is before it: what `status` and `findings` count as overdue. */
const overdueByRule = async (day: string) =>
  Object.fromEntries(
    (
      await sql<{ rule_id: string; n: number; max: number }>`
        SELECT rule_id, count(*)::int AS n, max(${day}::date - deadline)::int AS max FROM findings
        WHERE state <> 'closed' AND deadline < ${day}::date GROUP BY 1`.execute(wh.db)
    ).rows.map((r) => [r.rule_id, { n: r.n, max: r.max }]),
  );

/** The texts of each table cell of word/document.xml, row by row, table by table. */
function docxTables(xml: string): string[][][] {
  const texts = (part: string) =>
    [...part.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join('');
  return [...xml.matchAll(/<w:tbl>([\s\S]*?)<\/w:tbl>/g)].map((t) =>
    [...t[1]!.matchAll(/<w:tr[ >]([\s\S]*?)<\/w:tr>/g)].map((r) =>
      [...r[1]!.matchAll(/<w:tc>([\s\S]*?)<\/w:tc>/g)].map((c) => texts(c[1]!).replace(/&lt;/g, '<')),
    ),
  );
}

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

describe('the monthly report at its cut-off (issue 23)', () => {
  it('counts the current month at today, as status does, and a past month at its last day', async () => {
    // 3 December: December is the current month, counted at the 3rd — not at the 31st, when deadlines of the
    // 4th–30th will have passed (the bug: R04 "月末逾期" while status said 0 overdue)
    const dec = await monthlyFindings(wh, '2026-12', '2026-12-03');
    expect(dec.range.cutoff).toBe('2026-12-03');
    const atToday = await overdueByRule('2026-12-03');
    const atMonthEnd = await overdueByRule('2026-12-31');
    expect(Object.keys(atMonthEnd).length).toBeGreaterThan(Object.keys(atToday).length);
    for (const m of dec.movements) {
      const want = atToday[m.rule_id];
      expect(m.overdue_at_end, m.rule_id).toBe(want?.n ?? 0);
      expect(m.max_days_overdue, m.rule_id).toBe(want?.max ?? null);
    }
    expect(dec.overdue.reduce((n, o) => n + o.overdue, 0)).toBe(
      Object.values(atToday).reduce((n, o) => n + o.n, 0),
    );
    // on 3 December November is past: counted at the 30th
    const past = await monthlyFindings(wh, '2026-11', '2026-12-03');
    expect(past.range.cutoff).toBe('2026-11-30');
    const atEnd = await overdueByRule('2026-11-30');
    for (const m of past.movements) expect(m.overdue_at_end, m.rule_id).toBe(atEnd[m.rule_id]?.n ?? 0);
    await expect(monthlyFindings(wh, '2027-01', '2026-12-03')).rejects.toThrow(
      'month 2027-01 has not begun (today is 2026-12-03)',
    );
  });

  it('defaults to the current month once a finding moved in it, else to the previous month', async () => {
    // the test above this describe closed an R02 item on 2026-12-02; every other event is of 2026-11-24
    expect(await defaultReportMonth(wh, '2026-11-24')).toBe('2026-11');
    expect(await defaultReportMonth(wh, '2026-12-01')).toBe('2026-11');
    expect(await defaultReportMonth(wh, '2026-12-03')).toBe('2026-12');
    expect(await defaultReportMonth(wh, '2027-01-02')).toBe('2026-12');
  });

  it('places every finding: the roster at the cut-off for a person on it, a label for one on no roster', async () => {
    const r = await monthlyFindings(wh, '2026-11', AS_OF);
    const rows = [...r.villages, ...r.overdue, ...r.states];
    expect(rows.filter((v) => v.township === '' || ('village' in v && v.village === ''))).toEqual([]);
    // the open findings not placed by their rule: those whose person or household is on the roster at the
    // cut-off are in its township and village; the rest carry a label
    const unplaced = await sql<{ on_roster: number; off: number; unidentified: number; from_record: number }>`
      SELECT count(*) FILTER (WHERE on_roster)::int AS on_roster,
        count(*) FILTER (WHERE NOT on_roster AND id_number IS NOT NULL)::int AS off,
        count(*) FILTER (WHERE id_number IS NULL AND NOT in_record)::int AS unidentified,
        count(*) FILTER (WHERE id_number IS NULL AND in_record)::int AS from_record
      FROM (SELECT f.id_number,
              -- a rejected roster row (R13) names its own 乡镇 and 村: the department's record places it
              EXISTS (SELECT 1 FROM finding_lineage l JOIN quarantine q ON q.id = l.quarantine_id
                WHERE l.finding_id = f.id AND q.record ->> 'village' <> '') AS in_record,
              EXISTS (SELECT 1 FROM roster p WHERE p.data_from <= ${AS_OF}::date
              AND (p.data_to IS NULL OR p.data_to > ${AS_OF}::date)
              AND (p.id_number = f.id_number OR (f.subject_kind = 'household' AND p.household_id = f.household_id)))
              AS on_roster
            FROM findings f WHERE f.state <> 'closed' AND f.township IS NULL AND f.village IS NULL) x`.execute(
      wh.db,
    );
    const u = unplaced.rows[0]!;
    expect(u.on_roster).toBeGreaterThan(0);
    expect(u.from_record).toBeGreaterThan(0);
    const labelled = (label: string) =>
      r.villages.filter((v) => v.township === label && v.village === label).reduce((n, v) => n + v.open, 0);
    // the demo's departments send no 村 with their records: what the roster does not place keeps a label
    expect(labelled(PLACE_NOT_ON_ROSTER)).toBe(u.off);
    expect(labelled(PLACE_UNIDENTIFIED)).toBe(u.unidentified);
    // open on the 24th: the R02 item the test above closed on 2 December still counts
    const total = await sql<{ n: number }>`SELECT count(*)::int AS n FROM findings
      WHERE state <> 'closed' OR closed_on > ${AS_OF}::date`.execute(wh.db);
    expect(r.villages.reduce((n, v) => n + v.open, 0)).toBe(total.rows[0]!.n);
    const roster = await sql<{ township: string; village: string }>`
      SELECT DISTINCT township, village FROM roster`.execute(wh.db);
    const places = new Set(roster.rows.map((p) => `${p.township}/${p.village}`));
    for (const v of r.villages) {
      if (v.township !== PLACE_NOT_ON_ROSTER && v.township !== PLACE_UNIDENTIFIED) {
        expect(places.has(`${v.township}/${v.village}`), `${v.township}/${v.village}`).toBe(true);
      }
    }
  });

  describe('files', () => {
    const out = join(dir, 'reports-23');
    let xlsx: string;
    let docx: string;
    beforeAll(async () => {
      mkdirSync(out, { recursive: true });
      const r = await writeMonthlyReport({
        wh,
        config,
        month: '2026-11',
        outDir: out,
        bureauCopy: true,
        actor: 'test',
        now: new Date('2026-11-24T02:05:00Z'),
      });
      xlsx = r.path;
      docx = r.docxPath;
    }, 120_000);

    it('writes rates as numbers with a percent format, and the charts as pictures on 图表', async () => {
      const Excel = await loadExcel();
      const wb = new Excel.Workbook();
      await wb.xlsx.readFile(xlsx);
      const ws = wb.getWorksheet('监测指标')!;
      expect(ws.getRow(1).getCell(6).value).toBe('比率');
      const county = (await computeIndicators(wh.db, { asOf: AS_OF, config })).filter(
        (i) => i.level !== 'village',
      );
      expect(ws.rowCount).toBe(county.length + 1);
      county.forEach((i, n) => {
        const row = ws.getRow(n + 2);
        expect(row.getCell(1).value).toBe(INDICATOR_LABELS[i.indicator]);
        expect(row.getCell(6).value).toBe(i.rate);
        expect(row.getCell(6).numFmt).toBe('0.0%');
        expect(row.getCell(7).value).toBe(i.target);
        expect(row.getCell(7).numFmt).toBe('0.0%');
      });
      const raw = (await readXlsxRaw(xlsx)).find((s) => s.name === '监测指标')!;
      expect(raw.rows.get(2)![5]!.type).toBe('n');
      // widths fit the longest text, CJK counted twice: 义务教育保障（在校或送教上门） is 15 wide characters
      expect(ws.getColumn(1).width).toBe(32);
      expect(wb.getWorksheet('概览')!.getRow(3).values).toEqual([undefined, '统计截至', AS_OF]);
      const charts = wb.getWorksheet('图表')!;
      expect(charts.getImages().length).toBe(2);
      expect(charts.getCell('A1').value).toBe('2026-11 各规则发现问题');
      for (const img of charts.getImages()) {
        const media = wb.getImage(Number(img.imageId));
        expect(media.extension).toBe('png');
        const png = media.buffer as unknown as Buffer;
        expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
        // not blank: a rendered chart compresses to tens of kilobytes; an empty white canvas to a few hundred bytes
        expect(png.length).toBeGreaterThan(20_000);
      }
    });

    it('writes the 月通报 beside it: the same tables as Word tables, village counts below 5 hidden, the charts', async () => {
      expect(basename(docx)).toBe('示范县-2026-11-月通报.docx');
      const xml = await zipText(docx, 'word/document.xml');
      expect(xml).toContain(docxTitle('示范县', '2026-11'));
      expect(xml).toContain('统计截至：2026-11-24');
      expect(xml).toContain('生成时间：2026-11-24 10:05（Asia/Shanghai）');
      const tables = docxTables(xml);
      expect(tables.map((t) => t[0])).toEqual([
        [
          '规则',
          '规则名称',
          '责任部门',
          '月初未销号',
          '本月新增',
          '本月销号',
          '其中审核销号',
          '重新打开',
          // November counted on the 24th: not "月末"
          '截至11月24日未销号',
          '截至11月24日逾期',
          '最长逾期天数',
          '销号率',
        ],
        ['指标', '范围', '乡镇', '达标人数/户数', '应统计人数/户数', '比率', '目标', '状态'],
        ['规则', '责任部门', '乡镇', '状态', '条数'],
        // 逾期未销号: none overdue on the 24th, a heading and （无） instead of an empty table
        ['乡镇', '村', '未销号条数'],
      ]);
      expect(xml).toMatch(/四、逾期未销号.*（无）/);
      expect(xml).toContain('三、截至11月24日状态分布');
      const r = await monthlyFindings(wh, '2026-11', AS_OF);
      expect(tables[3]!.slice(1)).toEqual(
        r.villages.map((v) => [v.township, v.village, v.open < 5 ? '<5' : String(v.open)]),
      );
      expect(tables[3]!.slice(1).some((row) => row[2] === '<5')).toBe(true);
      const ind = (await computeIndicators(wh.db, { asOf: AS_OF, config })).find(
        (i) => i.indicator === 'medical_insurance' && i.level === 'county',
      )!;
      expect(tables[1]!.find((row) => row[0] === '基本医疗保险参保' && row[1] === '全县')![5]).toBe(
        `${(ind.rate! * 100).toFixed(1)}%`,
      );
      const rels = await zipText(docx, 'word/_rels/document.xml.rels');
      const media = [...rels.matchAll(/Target="(media\/[^"]+\.png)"/g)].map((m) => `word/${m[1]}`);
      expect(media.length).toBe(2);
      const zip = await openZip(docx);
      try {
        for (const m of media) {
          expect(zip.has(m), m).toBe(true);
          expect(zip.size(m)).toBeGreaterThan(20_000);
        }
      } finally {
        zip.close();
      }
    });

    const soffice = findSoffice();
    it.skipIf(!soffice)(
      'keeps the rates as percent numbers when LibreOffice Calc opens the workbook',
      async () => {
        const lo = join(dir, 'lo');
        mkdirSync(lo, { recursive: true });
        convertWithSoffice(soffice!, {
          files: [xlsx],
          to: CSV_ALL_SHEETS,
          outDir: lo,
          profileDir: join(dir, 'lo-profile'),
        });
        const csv = readFileSync(join(lo, `${basename(xlsx, '.xlsx')}-监测指标.csv`), 'utf8')
          .trim()
          .split('\n');
        const county = (await computeIndicators(wh.db, { asOf: AS_OF, config })).filter(
          (i) => i.level !== 'village',
        );
        expect(csv.length).toBe(county.length + 1);
        county.forEach((i, n) => {
          const cells = csv[n + 1]!.split(',');
          expect(cells[5]).toBe(i.rate === null ? '—' : `${(i.rate * 100).toFixed(1)}%`);
          expect(cells[6]).toBe(`${(i.target * 100).toFixed(1)}%`);
        });
      },
      180_000,
    );
  });
});
