/**
 * The bureau's dashboard (/console), the 日动态: open and overdue findings, by rule and by department; the
 * indicators by township as a coloured grid; the trend of open findings over the match days; overdue by
 * department. Each chart is drawn on the server to SVG (charts.ts) beside a table of the same figures, and every
 * count of findings links to the findings browser filtered to exactly those findings. Operators and departments
 * are sent on to their own home pages.
 */
import { sql } from 'kysely';
import {
  INDICATOR_IDS,
  INDICATOR_LABELS,
  type IndicatorId,
  type IndicatorRow,
  measureIndicators,
  UNMEASURED_STATUS,
} from '../../reporting/indicators.ts';
import type { Warehouse } from '../../warehouse/connect.ts';
import { barChart, statusGrid, trendChart } from './charts.ts';
import { countLink, type FindingsView } from './findings.ts';
import { type Html, html, ruleName, table } from './html.ts';
import { feedTitle } from './labels.ts';
import type { ConsolePage } from './page.ts';

const STATUS_CLASS: Record<string, string> = { 达标: 'ok', 风险: 'risk', 未达标: 'bad' };

/** The rule whose findings are each indicator's shortfall (src/reporting/indicators.ts says why they agree). */
const INDICATOR_RULE: Readonly<Record<IndicatorId, string>> = {
  education_retention: 'R01',
  medical_insurance: 'R02',
  housing_safety: 'R08',
  water_safety: 'R09',
  safety_net: 'R05',
};

/** Short column heads for the grid (the table beside it has the full names). */
const INDICATOR_SHORT: Readonly<Record<IndicatorId, string>> = {
  education_retention: '义务教育',
  medical_insurance: '医疗保险',
  housing_safety: '住房安全',
  water_safety: '饮水安全',
  safety_net: '兜底保障',
};

const rate = (i: IndicatorRow) => (i.rate === null ? '—' : `${(i.rate * 100).toFixed(1)}%`);

/**
 * An indicator's shortfall — the people or households not counted as covered — is the open findings of its
 * rule in that place, so it links to them. A place without any finding has none to show: a plain 0.
 */
function shortfall(i: IndicatorRow, townships: ReadonlySet<string>): Html | number {
  const n = i.denominator - i.numerator;
  const v: FindingsView = { rule: INDICATOR_RULE[i.indicator] };
  if (i.township === null) return i.level === 'county' ? countLink(n, v) : n;
  return townships.has(i.township) ? countLink(n, { ...v, township: i.township }) : n;
}

export const dashboardPage: ConsolePage = {
  method: 'GET',
  path: '/console',
  roles: ['bureau', 'operator', 'department'],
  nav: { roles: ['bureau'], label: () => '日动态' },
  render: async ({ ctx, who }) => {
    if (who.role === 'operator') return { redirect: '/console/operator' };
    if (who.role === 'department') return { redirect: '/console/department' };
    const today = ctx.today();
    const [{ rows: indicators, unmeasured }, open, trend, places] = await Promise.all([
      measureIndicators(ctx.wh.db, { asOf: today, config: ctx.config }),
      openByRuleAndDepartment(ctx.wh, today),
      openTrend(ctx.wh),
      townshipsWithFindings(ctx.wh),
    ]);
    const total = open.reduce((n, r) => n + r.open, 0);
    const overdue = open.reduce((n, r) => n + r.overdue, 0);
    const byRule = sumBy(open, (r) => r.rule_id);
    const byDepartment = sumBy(open, (r) => r.department);
    const townshipRows = indicators.filter((i) => i.level !== 'village');
    const gridTownships = [
      ...new Set(indicators.filter((i) => i.level === 'township').map((i) => i.township ?? '（未知乡镇）')),
    ];
    const gridRows = ['全县', ...gridTownships];
    const cells = indicators
      .filter((i) => i.level !== 'village')
      .map((i) => ({
        row: i.level === 'county' ? 0 : gridRows.indexOf(i.township ?? '（未知乡镇）'),
        column: INDICATOR_IDS.indexOf(i.indicator),
        status: i.status,
        text: rate(i),
      }));
    const overdueByDepartment = byDepartment.filter((d) => d.overdue > 0);
    return {
      title: `${ctx.config.county.name} 日动态`,
      body: html`<p>统计日期 ${today}；数字可点击，查看对应疑点。</p>
<div class="cards"><div class="card">未销号疑点<div class="num" id="open-total">${countLink(total, {})}</div></div>
<div class="card">其中逾期<div class="num" id="overdue-total">${countLink(overdue, { overdue: true })}</div></div></div>
<h2>未销号疑点（按规则）</h2>
<div class="pair">${barChart(
        'chart-by-rule',
        '未销号疑点（按规则）',
        byRule.map((r) => ({ name: r.key, value: r.open })),
      )}
${table(
  ['规则', '未销号', '逾期'],
  byRule.map((r) => [
    ruleName(r.key),
    countLink(r.open, { rule: r.key }),
    countLink(r.overdue, { rule: r.key, overdue: true }),
  ]),
  'by-rule',
)}</div>
<h2>未销号疑点（按部门）</h2>
<div class="pair">${barChart(
        'chart-by-department',
        '未销号疑点（按部门）',
        byDepartment.map((r) => ({ name: r.key, value: r.open })),
      )}
${table(
  ['责任部门', '未销号', '逾期'],
  byDepartment.map((r) => [
    r.key,
    countLink(r.open, { department: r.key }),
    countLink(r.overdue, { department: r.key, overdue: true }),
  ]),
  'by-department',
)}</div>
<h2>逾期疑点（按部门）</h2>
<div class="pair">${barChart(
        'chart-overdue',
        '逾期疑点（按部门）',
        overdueByDepartment.map((r) => ({ name: r.key, value: r.overdue })),
        '#c92a2a',
      )}
${table(
  ['责任部门', '逾期'],
  overdueByDepartment.map((r) => [r.key, countLink(r.overdue, { department: r.key, overdue: true })]),
  'overdue-by-department',
)}</div>
<h2>监测指标（按乡镇）</h2>
<p>格中为达标率；绿色达标，黄色风险，红色未达标。</p>
${statusGrid('chart-indicators', '监测指标（按乡镇）', {
  rows: gridRows,
  columns: INDICATOR_IDS.map((i) => INDICATOR_SHORT[i]),
  cells,
})}
${table(
  ['指标', '乡镇', '达标', '应统计', '缺口（疑点）', '比率', '目标', '状态'],
  townshipRows.map((i) => [
    INDICATOR_LABELS[i.indicator],
    i.township ?? (i.level === 'county' ? '全县' : '（未知乡镇）'),
    i.numerator,
    i.denominator,
    shortfall(i, places),
    rate(i),
    `${(i.target * 100).toFixed(0)}%`,
    html`<span class="${STATUS_CLASS[i.status] ?? ''}">${i.status}</span>`,
  ]),
  'indicators',
)}
${
  // An indicator whose rule's feeds were never loaded is not measured: said, never shown as met (monthly report too).
  unmeasured.map(
    (u) =>
      html`<p class="unmeasured">${INDICATOR_LABELS[u.indicator]}：${UNMEASURED_STATUS}——规则 ${u.rule} 所需的数据尚未导入：${u.missing.map(feedTitle).join('、')}。</p>`,
  )
}
<h2>未销号疑点趋势（最近比对日）</h2>
<div class="pair">${trendChart(
        'trend',
        '未销号疑点趋势',
        trend.map((t) => ({ day: t.day, value: t.open })),
      )}
${table(
  ['比对日', '日终未销号'],
  trend.map((t) => [t.day, countLink(t.open, { state: 'all', openOn: t.day })]),
  'trend-table',
)}</div>
<h2>未销号与逾期（按规则、部门）</h2>
${table(
  ['规则', '责任部门', '未销号', '逾期'],
  open.map((r) => [
    ruleName(r.rule_id),
    r.department,
    countLink(r.open, { rule: r.rule_id, department: r.department }),
    countLink(r.overdue, { rule: r.rule_id, department: r.department, overdue: true }),
  ]),
  'open-by-rule',
)}`,
    };
  },
};

/** Sums open and overdue over the rule × department rows by one of the two, in the rows' order. */
function sumBy(
  rows: readonly { rule_id: string; department: string; open: number; overdue: number }[],
  key: (r: { rule_id: string; department: string }) => string,
): { key: string; open: number; overdue: number }[] {
  const out = new Map<string, { key: string; open: number; overdue: number }>();
  for (const r of rows) {
    const k = key(r);
    const s = out.get(k) ?? { key: k, open: 0, overdue: 0 };
    s.open += r.open;
    s.overdue += r.overdue;
    out.set(k, s);
  }
  return [...out.values()];
}

/**
 * Open and overdue findings by rule and department, today. Overdue is the findings browser's `overdue` filter
 * (selectFindings' overdueOn): not closed and the deadline before today.
 */
async function openByRuleAndDepartment(wh: Warehouse, today: string) {
  return (
    await sql<{ rule_id: string; department: string; open: number; overdue: number }>`
      SELECT rule_id, department, count(*)::int AS open,
             count(*) FILTER (WHERE deadline < ${today}::date)::int AS overdue
      FROM findings WHERE state <> 'closed' GROUP BY 1, 2 ORDER BY 1, 2`.execute(wh.db)
  ).rows;
}

/** The townships the findings browser can filter by (its drop-down: those of any finding). */
async function townshipsWithFindings(wh: Warehouse): Promise<Set<string>> {
  const rows = (
    await sql<{
      township: string;
    }>`SELECT DISTINCT township FROM findings WHERE township IS NOT NULL`.execute(wh.db)
  ).rows;
  return new Set(rows.map((r) => r.township));
}

/**
 * Open findings at the end of each of the last `n` days a match ran (from the history). The findings browser's
 * `open_on` filter reads the history the same way, so each point links to its findings.
 */
async function openTrend(wh: Warehouse, n = 12) {
  return (
    await sql<{ day: string; open: number }>`
      WITH days AS (SELECT DISTINCT on_date AS day FROM finding_events WHERE run_id IS NOT NULL
                    ORDER BY 1 DESC LIMIT ${n})
      SELECT d.day::text AS day,
        (SELECT count(*)::int FROM (
           SELECT DISTINCT ON (e.finding_id) e.to_state FROM finding_events e WHERE e.on_date <= d.day
           ORDER BY e.finding_id, e.on_date DESC, e.id DESC) s WHERE s.to_state <> 'closed') AS open
      FROM days d ORDER BY d.day`.execute(wh.db)
  ).rows;
}
