/**
 * `ruralhub report monthly` and the scheduled report job: compute, write the workbook, audit — one function.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../schemas/config.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { computeIndicators, INDICATOR_LABELS } from './indicators.ts';
import { monthlyFindings } from './monthly-report.ts';
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

export async function writeMonthlyReport(p: ReportParams): Promise<{ path: string; markdown: string }> {
  const findings = await monthlyFindings(p.wh, p.month);
  const indicators = await computeIndicators(p.wh.db, { asOf: findings.range.end, config: p.config });
  const input: ReportInput = {
    county: p.config.county.name,
    findings,
    indicators,
    indicatorLabels: INDICATOR_LABELS,
    bureauCopy: p.bureauCopy,
    generatedAt: p.now ?? new Date(),
    timeZone: p.config.timezone,
  };
  const path = p.out ?? join(p.outDir, `月报-${p.month}${p.bureauCopy ? '' : '-对外'}.xlsx`);
  await mkdir(p.outDir, { recursive: true });
  await writeReportWorkbook(path, input);
  await writeAudit(p.wh.db, {
    actor: p.actor,
    role: 'bureau',
    action: 'report.monthly',
    target: path,
    rowCount: findings.movements.reduce((n, m) => n + m.open_at_end, 0),
    details: { month: p.month, bureau_copy: p.bureauCopy },
  });
  return { path, markdown: reportMarkdown(input) };
}
