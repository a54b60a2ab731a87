/**
 * Renders the monthly report as a workbook (one sheet per table) and as Markdown for the terminal or a mail.
 * Rendering only: the figures come from monthly-report.ts and indicators.ts. Village-level counts are
 * suppressed below 5 unless the copy is the bureau's own.
 */
import type ExcelJS from 'exceljs';
import { formatLocal } from '../../core/clock.ts';
import { ruleById } from '../../pipelines/rules/index.ts';
import { FINDING_STATE_LABELS } from '../../schemas/vocab.ts';
import { loadExcel } from '../delivery/excel.ts';
import { neutralizeCell } from '../delivery/neutralize.ts';
import { type MonthlyFindings, villageCount } from './monthly-report.ts';

/** The fields of an indicator row the report shows (indicators.ts computes them). */
export interface ReportIndicator {
  indicator: string;
  level: string;
  township: string | null;
  numerator: number;
  denominator: number;
  rate: number | null;
  target: number;
  status: string;
}

export interface ReportInput {
  county: string;
  findings: MonthlyFindings;
  indicators: readonly ReportIndicator[];
  indicatorLabels: Readonly<Record<string, string>>;
  /** The bureau's own copy shows small village counts; every other copy shows "<5". */
  bureauCopy: boolean;
  generatedAt: Date;
  /** The county's time zone (config timezone): 生成时间 is shown in it. */
  timeZone: string;
}

const STATE_LABELS: Readonly<Record<string, string>> = FINDING_STATE_LABELS;

const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
const ruleName = (id: string) => ruleById(id)?.name ?? '';

interface Table {
  title: string;
  headers: string[];
  rows: (string | number | null)[][];
}

export function reportTables(input: ReportInput): Table[] {
  const f = input.findings;
  const movements: Table = {
    title: '本月整改情况',
    headers: [
      '规则',
      '规则名称',
      '责任部门',
      '月初未销号',
      '本月新增',
      '本月销号',
      '其中审核销号',
      '重新打开',
      '月末未销号',
      '月末逾期',
      '最长逾期天数',
      '销号率',
    ],
    rows: f.movements.map((m) => [
      m.rule_id,
      ruleName(m.rule_id),
      m.department,
      m.open_at_start,
      m.new,
      m.closed,
      m.closed_by_review,
      m.reopened,
      m.open_at_end,
      m.overdue_at_end,
      m.max_days_overdue,
      pct(m.closure_rate),
    ]),
  };
  const states: Table = {
    title: '月末状态分布',
    headers: ['规则', '责任部门', '乡镇', '状态', '条数'],
    rows: f.states.map((s) => [s.rule_id, s.department, s.township, STATE_LABELS[s.state] ?? s.state, s.n]),
  };
  const overdue: Table = {
    title: '逾期未销号',
    headers: ['规则', '责任部门', '乡镇', '村', '逾期条数', '最长逾期天数'],
    rows: f.overdue.map((o) => [
      o.rule_id,
      o.department,
      o.township,
      o.village,
      villageCount(o.overdue, input.bureauCopy),
      o.max_days_overdue,
    ]),
  };
  const villages: Table = {
    title: '各村未销号',
    headers: ['乡镇', '村', '未销号条数'],
    rows: f.villages.map((v) => [v.township, v.village, villageCount(v.open, input.bureauCopy)]),
  };
  const indicators: Table = {
    title: '监测指标',
    headers: ['指标', '范围', '乡镇', '达标人数/户数', '应统计人数/户数', '比率', '目标', '状态'],
    rows: input.indicators
      .filter((i) => i.level !== 'village')
      .map((i) => [
        input.indicatorLabels[i.indicator] ?? i.indicator,
        i.level === 'county' ? '全县' : '乡镇',
        i.township ?? input.county,
        i.numerator,
        i.denominator,
        pct(i.rate),
        pct(i.target),
        i.status,
      ]),
  };
  return [movements, indicators, states, overdue, villages];
}

export async function writeReportWorkbook(path: string, input: ReportInput): Promise<void> {
  const Excel = await loadExcel();
  const wb: ExcelJS.Workbook = new Excel.Workbook();
  wb.creator = 'RuralHub';
  const cover = wb.addWorksheet('概览');
  cover.addRows([
    ['报告', `${input.county} 防止返贫监测数据比对 月报`],
    ['月份', input.findings.range.month],
    ['统计截至', input.findings.range.end],
    ['生成时间', `${formatLocal(input.timeZone, input.generatedAt)} (${input.timeZone})`],
    ['副本', input.bureauCopy ? '乡村振兴局内部（含小于5的村级数字）' : '对外（村级小于5显示为<5）'],
  ]);
  cover.getColumn(1).width = 14;
  cover.getColumn(2).width = 60;
  for (const t of reportTables(input)) {
    const ws = wb.addWorksheet(t.title, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.addRow(t.headers).font = { bold: true };
    for (const r of t.rows) ws.addRow(r.map(neutralizeCell));
    t.headers.forEach((h, i) => {
      ws.getColumn(i + 1).width = Math.max(8, h.length * 2 + 4);
    });
  }
  await wb.xlsx.writeFile(path);
}

const mdCell = (v: string | number | null) => (v === null ? '' : String(v).replace(/\|/g, '\\|'));

export function reportMarkdown(input: ReportInput, maxRows = 30): string {
  const out = [`# ${input.county} 月报 ${input.findings.range.month}`, ''];
  for (const t of reportTables(input)) {
    out.push(`## ${t.title}`, '');
    if (!t.rows.length) {
      out.push('（无）', '');
      continue;
    }
    out.push(`| ${t.headers.join(' | ')} |`, `|${t.headers.map(() => ' --- |').join('')}`);
    for (const r of t.rows.slice(0, maxRows)) out.push(`| ${r.map(mdCell).join(' | ')} |`);
    if (t.rows.length > maxRows) out.push('', `…共 ${t.rows.length} 行，完整内容见报告工作簿。`);
    out.push('');
  }
  return out.join('\n');
}
