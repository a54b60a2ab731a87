/**
 * `ruralhub report monthly` and the scheduled report job: compute, draw the charts, write the workbook and the
 * Word 月通报 beside it, audit — one function.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { todayIn } from '../../core/clock.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import type { Config } from '../../schemas/config.ts';
import { retiredFindingsMonth, withRetired } from '../retention/retired-findings.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { type Chart, findingsByRuleChart, indicatorsByTownshipChart } from './charts.ts';
import {
  INDICATOR_IDS,
  INDICATOR_LABELS,
  type IndicatorRow,
  measureIndicators,
  UNMEASURED_STATUS,
  type UnmeasuredIndicator,
} from './indicators.ts';
import { type MonthlyFindings, monthlyFindings } from './monthly-report.ts';
import { writeReportDocx } from './write-docx.ts';
import { type ReportInput, reportMarkdown, writeReportWorkbook } from './write-report.ts';

/** 'YYYY-MM' of the month before the day 'YYYY-MM-DD'. */
export function previousMonth(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

export interface ReportParams {
  wh: Warehouse;
  config: Readonly<Config>;
  month: string;
  outDir: string;
  /** Explicit output file; default `<outDir>/月报-<month>[-对外].xlsx`. */
  out?: string;
  bureauCopy: boolean;
  actor: string;
  now?: Date;
}

/**
 * The two charts: findings by rule (summed over departments), the indicators' rates by township — an indicator
 * not measured keeps its place in the legend, named 无数据, with no bars.
 */
export async function reportCharts(
  findings: MonthlyFindings,
  indicators: readonly IndicatorRow[],
  unmeasured: readonly UnmeasuredIndicator[] = [],
): Promise<Chart[]> {
  const byRule = new Map<
    string,
    { rule: string; name: string; openAtEnd: number; new: number; closed: number }
  >();
  for (const m of findings.movements) {
    const r = byRule.get(m.rule_id) ?? { rule: m.rule_id, name: '', openAtEnd: 0, new: 0, closed: 0 };
    r.openAtEnd += m.open_at_end;
    r.new += m.new;
    r.closed += m.closed;
    byRule.set(m.rule_id, r);
  }
  const towns = new Map<string, Record<string, number | null>>();
  for (const i of indicators) {
    if (i.level !== 'township') continue;
    const t = i.township ?? '（未知乡镇）';
    const rates = towns.get(t) ?? {};
    rates[INDICATOR_LABELS[i.indicator]] = i.rate;
    towns.set(t, rates);
  }
  return [
    await findingsByRuleChart([...byRule.values()], findings.range.month),
    await indicatorsByTownshipChart(
      [...towns].map(([township, rates]) => ({ township, rates })),
      INDICATOR_IDS.map((id) =>
        unmeasured.some((u) => u.indicator === id)
          ? `${INDICATOR_LABELS[id]}（${UNMEASURED_STATUS}）`
          : INDICATOR_LABELS[id],
      ),
      findings.range.month,
    ),
  ];
}

/** The Word 月通报's name: `<county>-<month>-月通报.docx`. */
export const docxName = (county: string, month: string) => `${county}-${month}-月通报.docx`;

export async function writeMonthlyReport(
  p: ReportParams,
): Promise<{ path: string; docxPath: string; markdown: string }> {
  const generatedAt = p.now ?? new Date();
  // Counted at today in the county: the current month at today, a past month at its end (monthly-report.ts).
  // Plus what findings deleted by the retention schedule contributed: a past month reads as it did before.
  const findings = withRetired(
    await monthlyFindings(p.wh, p.month, todayIn(p.config.timezone, generatedAt)),
    await retiredFindingsMonth(p.wh.db, p.month),
  );
  const { rows: indicators, unmeasured } = await measureIndicators(p.wh.db, {
    asOf: findings.range.cutoff,
    config: p.config,
  });
  const input: ReportInput = {
    county: p.config.county.name,
    findings,
    indicators,
    unmeasured: unmeasured.map((u) => ({
      indicator: u.indicator,
      rule: u.rule,
      target: p.config.indicators[u.indicator],
      missing: u.missing.map((feed) => ({
        feed,
        title: FEEDS[feed].title,
        department: FEEDS[feed].department,
      })),
    })),
    indicatorLabels: INDICATOR_LABELS,
    bureauCopy: p.bureauCopy,
    generatedAt,
    timeZone: p.config.timezone,
    charts: await reportCharts(findings, indicators, unmeasured),
  };
  const path = p.out ?? join(p.outDir, `月报-${p.month}${p.bureauCopy ? '' : '-对外'}.xlsx`);
  const docxPath = join(dirname(path), docxName(p.config.county.name, p.month));
  await mkdir(p.outDir, { recursive: true });
  await writeReportWorkbook(path, input);
  await writeReportDocx(docxPath, input);
  await writeAudit(p.wh.db, {
    actor: p.actor,
    role: 'bureau',
    action: 'report.monthly',
    target: path,
    rowCount: findings.movements.reduce((n, m) => n + m.open_at_end, 0),
    details: { month: p.month, bureau_copy: p.bureauCopy, cutoff: findings.range.cutoff, docx: docxPath },
  });
  return { path, docxPath, markdown: reportMarkdown(input) };
}
