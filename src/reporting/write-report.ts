/**
 * Renders the monthly report as a workbook (one sheet per table, the charts on 图表) and as Markdown for the
 * terminal or a mail (the Word 月通报 is write-docx.ts). Rendering only: the figures come from monthly-report.ts
 * and indicators.ts, the pictures from charts.ts. Village-level counts are suppressed below 5 unless the copy is
 * the bureau's own. Rates are numbers with a percent format, so a clerk can sort, sum and chart them in Excel.
 */
import type ExcelJS from 'exceljs';
import { displayWidth } from '../../core/chars.ts';
import { formatLocal } from '../../core/clock.ts';
import { ruleById } from '../../pipelines/rules/index.ts';
import { FINDING_STATE_LABELS } from '../../schemas/vocab.ts';
import { loadExcel } from '../delivery/excel.ts';
import { neutralizeCell } from '../delivery/neutralize.ts';
import type { Chart } from './charts.ts';
import { UNMEASURED_STATUS } from './indicators.ts';
import { type MonthlyFindings, type MonthRange, villageCount } from './monthly-report.ts';

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

/**
 * An indicator the report cannot measure at its cut-off (indicators.ts UnmeasuredIndicator): its rule and the
 * feeds it lacks, each as a clerk knows it.
 */
export interface ReportUnmeasured {
  indicator: string;
  rule: string;
  target: number;
  missing: readonly { feed: string; title: string; department: string }[];
}

export interface ReportInput {
  county: string;
  findings: MonthlyFindings;
  indicators: readonly ReportIndicator[];
  /** Shown in the indicators' table as 无数据 — no figures, no rate, no status — with a note on each. */
  unmeasured: readonly ReportUnmeasured[];
  indicatorLabels: Readonly<Record<string, string>>;
  /** The bureau's own copy shows small village counts; every other copy shows "<5". */
  bureauCopy: boolean;
  generatedAt: Date;
  /** The county's time zone (config timezone): 生成时间 is shown in it. */
  timeZone: string;
  /** The charts (charts.ts), in the order shown. */
  charts: readonly Chart[];
}

type ExcelImage = Parameters<ExcelJS.Workbook['addImage']>[0];

const STATE_LABELS: Readonly<Record<string, string>> = FINDING_STATE_LABELS;

/** A rate: a number 0–1 in the workbook (percent format), '89.4%' in text; null (nothing to count) is '—'. */
export interface Percent {
  percent: number | null;
}
export type Cell = string | number | null | Percent;
const pct = (r: number | null): Percent => ({ percent: r });
export const isPercent = (c: Cell): c is Percent => typeof c === 'object' && c !== null;
/** A cell as text: the Markdown and the Word document. */
export const cellText = (c: Cell): string =>
  c === null
    ? ''
    : isPercent(c)
      ? c.percent === null
        ? '—'
        : `${(c.percent * 100).toFixed(1)}%`
      : String(c);
const ruleName = (id: string) => ruleById(id)?.name ?? '';
/** The rate's place of an indicator not measured. */
const NOT_COMPUTED = '未计算';

export interface Table {
  title: string;
  headers: string[];
  rows: Cell[][];
  /** Lines under the table, in every format: what a reader must know to read it right. */
  notes?: string[];
}

/** Column widths that fit the header and every value (capped: a long name wraps rather than a 2 m column). */
export function columnWidths(t: Table): number[] {
  return t.headers.map((h, i) => {
    const widest = Math.max(displayWidth(h), ...t.rows.map((r) => displayWidth(cellText(r[i] ?? null))));
    return Math.min(60, Math.max(8, widest + 2));
  });
}

/**
 * What the counts "at the end" are at, for headers: 月末 for a past month; for the current one its cut-off day
 * (截至12月3日), so that nobody reads a count of today as the month's final one.
 */
export function cutoffLabel(range: MonthRange): string {
  if (range.cutoff === range.end) return '月末';
  const [, m, d] = range.cutoff.split('-').map(Number) as [number, number, number];
  return `截至${m}月${d}日`;
}

export function reportTables(input: ReportInput): Table[] {
  const f = input.findings;
  const at = cutoffLabel(f.range);
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
      `${at}未销号`,
      `${at}逾期`,
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
    title: `${at}状态分布`,
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
  const label = (id: string) => input.indicatorLabels[id] ?? id;
  const measured = input.indicators.filter((i) => i.level !== 'village');
  const unmeasured = new Map(input.unmeasured.map((u) => [u.indicator, u]));
  const target = (id: string) => pct(unmeasured.get(id)?.target ?? null);
  const order = [...new Set([...Object.keys(input.indicatorLabels), ...measured.map((i) => i.indicator)])];
  const indicators: Table = {
    title: '监测指标',
    headers: ['指标', '范围', '乡镇', '达标人数/户数', '应统计人数/户数', '比率', '目标', '状态'],
    // In the labels' order, an indicator not measured in its place: one county row with no figures at all —
    // a 0 or a rate there would read as measured.
    rows: order.flatMap((id): Cell[][] =>
      unmeasured.has(id)
        ? [[label(id), '全县', input.county, '—', '—', NOT_COMPUTED, target(id), UNMEASURED_STATUS]]
        : measured
            .filter((i) => i.indicator === id)
            .map((i) => [
              label(id),
              i.level === 'county' ? '全县' : '乡镇',
              i.township ?? input.county,
              i.numerator,
              i.denominator,
              pct(i.rate),
              pct(i.target),
              i.status,
            ]),
    ),
    ...(input.unmeasured.length
      ? {
          notes: input.unmeasured.map(
            (u) =>
              `${label(u.indicator)}：${UNMEASURED_STATUS}，${NOT_COMPUTED}——规则 ${u.rule} 所需的数据截至 ${f.range.cutoff} 未导入：${u.missing
                .map((m) => `${m.title}（${m.department}，${m.feed}）`)
                .join('、')}。导入后重新生成本报告。`,
          ),
        }
      : {}),
  };
  return [movements, indicators, states, overdue, villages];
}

export async function writeReportWorkbook(path: string, input: ReportInput): Promise<void> {
  const Excel = await loadExcel();
  const wb: ExcelJS.Workbook = new Excel.Workbook();
  wb.creator = 'RuralHub';
  const cover = wb.addWorksheet('概览');
  const range = input.findings.range;
  const coverRows = [
    ['报告', `${input.county} 防止返贫监测数据比对 月报`],
    ['月份', range.month],
    ['统计截至', range.cutoff],
    ['生成时间', `${formatLocal(input.timeZone, input.generatedAt)} (${input.timeZone})`],
    ['副本', input.bureauCopy ? '乡村振兴局内部（含小于5的村级数字）' : '对外（村级小于5显示为<5）'],
  ];
  cover.addRows(coverRows);
  cover.getColumn(1).width = 14;
  cover.getColumn(2).width = Math.max(...coverRows.map((r) => displayWidth(r[1]!))) + 4;
  for (const t of reportTables(input)) {
    const ws = wb.addWorksheet(t.title, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.addRow(t.headers).font = { bold: true };
    for (const r of t.rows) {
      const row = ws.addRow(
        r.map((c) => (isPercent(c) ? (c.percent ?? '—') : typeof c === 'string' ? neutralizeCell(c) : c)),
      );
      r.forEach((c, i) => {
        if (isPercent(c) && c.percent !== null) row.getCell(i + 1).numFmt = '0.0%';
      });
    }
    columnWidths(t).forEach((w, i) => {
      ws.getColumn(i + 1).width = w;
    });
    if (t.notes?.length) {
      // under the table after an empty row, each in the first cell (shown across the empty cells beside it)
      ws.addRow([]);
      ws.addRow(['说明：']).font = { bold: true };
      for (const n of t.notes) ws.addRow([neutralizeCell(n)]);
    }
  }
  if (input.charts.length) {
    // One picture under the other, each at its layout size (exceljs places by pixels from the anchor cell).
    const ws = wb.addWorksheet('图表');
    let row = 0;
    for (const c of input.charts) {
      ws.getCell(row + 1, 1).value = c.title;
      ws.getCell(row + 1, 1).font = { bold: true };
      // exceljs declares its own Buffer (an ArrayBuffer); at run time it takes Node's Buffer, which it zips as is
      const image = wb.addImage({ buffer: c.png as unknown as ExcelImage['buffer'], extension: 'png' });
      ws.addImage(image, { tl: { col: 0, row: row + 1 }, ext: { width: c.width, height: c.height } });
      // Excel's default row is 20 px high: leave the picture's height in rows, and one more
      row += Math.ceil(c.height / 20) + 3;
    }
  }
  await wb.xlsx.writeFile(path);
}

const mdCell = (v: Cell) => cellText(v).replace(/\|/g, '\\|');

export function reportMarkdown(input: ReportInput, maxRows = 30): string {
  const out = [
    `# ${input.county} 月报 ${input.findings.range.month}`,
    '',
    `统计截至 ${input.findings.range.cutoff}`,
    '',
  ];
  for (const t of reportTables(input)) {
    out.push(`## ${t.title}`, '');
    if (!t.rows.length) {
      out.push('（无）', '');
      continue;
    }
    out.push(`| ${t.headers.join(' | ')} |`, `|${t.headers.map(() => ' --- |').join('')}`);
    for (const r of t.rows.slice(0, maxRows)) out.push(`| ${r.map(mdCell).join(' | ')} |`);
    if (t.rows.length > maxRows) out.push('', `…共 ${t.rows.length} 行，完整内容见报告工作簿。`);
    if (t.notes?.length) out.push('', ...t.notes.map((n) => `说明：${n}`));
    out.push('');
  }
  return out.join('\n');
}
